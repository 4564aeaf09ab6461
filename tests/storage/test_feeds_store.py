"""Feeds and items in storage: dedupe, freshness, poll records — on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from news.records import FeedItem
from storage import Database, feedrows
from storage import feeds as feed_store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=48)


def item(key: str, link: str | None, *, hours_old: float = 1) -> FeedItem:
    return FeedItem(key, link, f"title {key}", "text", NOW - timedelta(hours=hours_old), "en")


def store(db: Database, feed_id: int, *items: FeedItem) -> list[feed_store.StoredItem]:
    return db.write_now(feedrows.store_items, feed_id=feed_id, items=items, now=NOW, max_age=DAY)


def test_item_stored_once_by_guid_or_link(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss", title="A")
    first = store(db, feed.id, item("g1", "https://a.example/1"), item("g2", None))
    assert [s.item.key for s in first] == ["g1", "g2"]
    # Same guid again; a re-published entry with a new guid but the same link; a new one.
    again = store(
        db,
        feed.id,
        item("g1", "https://a.example/1"),
        item("g1-republished", "https://a.example/1"),
        item("g3", "https://a.example/3"),
    )
    assert [s.item.key for s in again] == ["g3"]
    assert db.call(feed_store.get_feed, feed_id=feed.id).item_count == 3  # type: ignore[union-attr]


def test_same_item_in_two_feeds_is_kept_in_each(db: Database) -> None:
    a = db.call(feed_store.add_feed, url="https://a.example/rss")
    b = db.call(feed_store.add_feed, url="https://b.example/rss")
    assert len(store(db, a.id, item("g1", "https://x.example/1"))) == 1
    assert len(store(db, b.id, item("g1", "https://x.example/1"))) == 1


def test_old_items_are_stored_but_not_alertable(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    stored = store(db, feed.id, item("new", None, hours_old=2), item("old", None, hours_old=72))
    assert {s.item.key: s.alertable for s in stored} == {"new": True, "old": False}


def test_undated_item_is_dated_first_seen(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    undated = FeedItem("u", None, "t", "x", None, None)
    [stored] = store(db, feed.id, undated)
    assert stored.published_at == NOW and stored.alertable


def test_caching_headers_only_replaced_on_success(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    db.write_now(
        feedrows.record_success,
        feed_id=feed.id,
        now=NOW,
        next_poll_at=NOW + DAY,
        items=(),
        max_age=DAY,
        etag='W/"abc"',
        last_modified="Sat, 28 Nov 2026 10:00:00 GMT",
        caching_headers=True,
    )
    db.write_now(
        feedrows.record_poll,
        feed_id=feed.id,
        now=NOW,
        next_poll_at=NOW + DAY,
        consecutive_failures=1,
        failing_since=NOW,
        error="HTTP 500",
    )
    info = db.call(feed_store.get_feed, feed_id=feed.id)
    assert info is not None
    assert info.etag == 'W/"abc"' and info.last_modified == "Sat, 28 Nov 2026 10:00:00 GMT"
    assert info.status == "failing" and info.last_error == "HTTP 500"


def test_permanent_redirect_updates_the_url(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="http://a.example/rss")
    db.write_now(
        feedrows.record_success,
        feed_id=feed.id,
        now=NOW,
        next_poll_at=NOW + DAY,
        items=(),
        max_age=DAY,
        etag=None,
        last_modified=None,
        caching_headers=True,
        moved_to="https://a.example/feed",
    )
    info = db.call(feed_store.get_feed, feed_id=feed.id)
    assert info is not None and info.url == "https://a.example/feed"


def test_duplicate_feed_url_refused(db: Database) -> None:
    db.call(feed_store.add_feed, url="https://a.example/rss")
    with pytest.raises(feed_store.FeedExistsError):
        db.call(feed_store.add_feed, url="https://a.example/rss")


def test_default_feeds_seed_only_an_empty_database(db: Database) -> None:
    from coopwatch.app import default_feeds

    feeds = default_feeds()
    assert len(feeds) >= 14
    assert db.call(feed_store.add_default_feeds, feeds=feeds) == len(feeds)
    assert db.call(feed_store.add_default_feeds, feeds=feeds) == 0
    urls = " ".join(f.url for f in db.call(feed_store.list_feeds))
    for host in ("astanatimes.com", "timesca.com", "trend.az", "uzdaily.uz", "gazeta.uz",
                 "tengrinews.kz", "kabar.kg", "khovar.tj", "24.kg", "akipress", "asiaplustj",
                 "eurasianet.org", "cabar.asia", "uza.uz"):  # fmt: skip
        assert host in urls, host


def success(
    db: Database,
    feed_id: int,
    *items: FeedItem,
    moved_to: str | None = None,
    body_fingerprint: str | None = None,
) -> list[feed_store.StoredItem]:
    return db.write_now(
        feedrows.record_success,
        feed_id=feed_id,
        now=NOW,
        next_poll_at=NOW + DAY,
        items=items,
        max_age=DAY,
        etag=None,
        last_modified=None,
        caching_headers=True,
        moved_to=moved_to,
        body_fingerprint=body_fingerprint,
    )


def fingerprint_of(db: Database, feed_id: int) -> str | None:
    info = db.call(feed_store.get_feed, feed_id=feed_id)
    assert info is not None
    return info.body_fingerprint


def test_body_fingerprint_is_stored_with_the_items_only(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    assert fingerprint_of(db, feed.id) is None
    success(db, feed.id, item("g1", None), body_fingerprint="f1")
    assert fingerprint_of(db, feed.id) == "f1"
    # A poll whose transaction fails after the items leaves the old one, and no item: the
    # body is parsed again at the next poll.
    with pytest.raises(RuntimeError), db.session() as session:
        feedrows.record_success(
            session.connection(),
            feed_id=feed.id,
            now=NOW,
            next_poll_at=NOW + DAY,
            items=(item("g2", None),),
            max_age=DAY,
            etag=None,
            last_modified=None,
            caching_headers=True,
            body_fingerprint="f2",
        )
        raise RuntimeError("the store failed")
    assert fingerprint_of(db, feed.id) == "f1"
    assert db.call(feed_store.get_feed, feed_id=feed.id).item_count == 1  # type: ignore[union-attr]
    # A 304, and a poll that stores no fingerprint, leave it as it is.
    db.write_now(feedrows.record_not_modified, feed_id=feed.id, now=NOW, next_poll_at=NOW + DAY)
    success(db, feed.id)
    assert fingerprint_of(db, feed.id) == "f1"


def test_unchanged_body_keeps_the_validators_it_came_with(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    success(db, feed.id, item("g1", None), body_fingerprint="f1")
    db.write_now(
        feedrows.record_not_modified,
        feed_id=feed.id,
        now=NOW + DAY,
        next_poll_at=NOW + 2 * DAY,
        validators=('"v2"', None),
    )
    info = db.call(feed_store.get_feed, feed_id=feed.id)
    assert info is not None and info.etag == '"v2"' and info.body_fingerprint == "f1"
    assert info.next_poll_at == NOW + 2 * DAY and info.last_success_at == NOW + DAY


def test_a_moved_feed_forgets_the_old_fingerprint(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="http://a.example/rss")
    success(db, feed.id, item("g1", None), body_fingerprint="f1")
    success(db, feed.id, moved_to="https://a.example/feed")
    assert fingerprint_of(db, feed.id) is None
    # Moved and parsed in one poll: the new body's fingerprint, for the new URL.
    success(db, feed.id, moved_to="https://b.example/feed", body_fingerprint="f2")
    assert fingerprint_of(db, feed.id) == "f2"
