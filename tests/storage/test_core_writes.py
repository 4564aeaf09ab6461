"""The poll's and the pipeline's writes, done in Core statements: what they return is what
is stored, a row the session already holds is read afresh, and a poll costs a few
statements whatever its number of items — on every backend."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from news.records import FeedItem
from storage import Database, feedrows
from storage import feeds as feed_store
from storage.events import EventInfo, Verdict, add_source, create_event, get_event_by_id
from storage.records import FeedInfo
from tests.seed import VERDICT, add_chat, add_event, add_item

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=48)


def _items(count: int) -> list[FeedItem]:
    return [
        FeedItem(f"g{n}", f"https://a.example/{n}", f"title {n}", "text", NOW, None)
        for n in range(count)
    ]


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_poll_of_many_new_items_is_four_statements(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    with _statements(db) as seen:
        stored = db.write_now(
            feedrows.record_success,
            feed_id=feed.id,
            now=NOW,
            next_poll_at=NOW + DAY,
            items=_items(50),
            max_age=DAY,
            etag=None,
            last_modified=None,
            caching_headers=True,
        )
    assert len(stored) == 50
    assert len({item.id for item in stored}) == 50
    # The feed's UPDATE, its title and language for the items, the look-up of known keys and
    # links, the items' INSERT (which may be split into batches; 50 rows fit in one).
    assert len(seen) == 4, seen


def test_stored_items_come_back_with_their_own_ids(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    stored = db.write_now(
        feedrows.store_items, feed_id=feed.id, items=_items(5), now=NOW, max_age=DAY
    )
    for item in stored:
        event = add_event(db, item_id=item.id)
        [source] = db.call(get_event_by_id, event_id=event.id).sources  # type: ignore[union-attr]
        assert (source.item_id, source.title) == (item.id, item.item.title)


def test_a_poll_names_and_dates_a_feed_only_where_it_had_nothing(db: Database) -> None:
    named = db.call(feed_store.add_feed, url="https://a.example/rss", title="A", language="ru")
    bare = db.call(feed_store.add_feed, url="https://b.example/rss")
    for feed in (named, bare):
        info = db.write_now(
            feedrows.record_poll,
            feed_id=feed.id,
            now=NOW,
            next_poll_at=NOW + DAY,
            consecutive_failures=0,
            failing_since=None,
            title="From the feed",
            language="en",
        )
        assert info == db.call(feed_store.get_feed, feed_id=feed.id)
    assert [(f.title, f.language) for f in db.call(feed_store.list_feeds)] == [
        ("A", "ru"),
        ("From the feed", "en"),
    ]


def _disabled_by(db: Database, feed_id: int, error: str) -> FeedInfo | None:
    """The ninth failure in a row, a day long: the poll that disables the feed."""
    return db.write_now(
        feedrows.record_poll,
        feed_id=feed_id,
        now=NOW,
        next_poll_at=NOW + DAY,
        consecutive_failures=9,
        failing_since=NOW - DAY,
        error=error,
        disable=True,
    )


def test_a_failed_poll_returns_the_feed_as_stored(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    info = _disabled_by(db, feed.id, "HTTP 500")
    assert info is not None and info.status == "disabled"
    assert info == db.call(feed_store.get_feed, feed_id=feed.id)
    assert _disabled_by(db, 999, "x") is None  # no such feed (removed while polled)


def test_a_long_error_is_stored_cut_with_the_feed_disabled_by_it(db: Database) -> None:
    feed = db.call(feed_store.add_feed, url="https://a.example/rss")
    info = _disabled_by(db, feed.id, "broken HTTP answer: " + "x" * 50_000)
    assert info is not None and info.last_error is not None and info.disabled_reason is not None
    assert len(info.last_error) == feedrows.MAX_ERROR_CHARS
    assert info.disabled_reason.endswith(info.last_error)
    assert len(info.disabled_reason) < feedrows.MAX_ERROR_CHARS + 40


def test_a_new_feed_shows_the_validators_of_its_first_poll(db: Database) -> None:
    # In one transaction: the feed is added, updated by the poll in Core, and read again.
    info, stored = db.call(
        feed_store.add_feed_with_items,
        url="https://a.example/rss",
        title="A",
        language=None,
        now=NOW,
        next_poll_at=NOW + DAY,
        items=_items(2),
        max_age=DAY,
        etag='"v1"',
        last_modified="Sun, 29 Nov 2026 12:00:00 GMT",
    )
    assert (info.etag, info.last_modified, info.item_count) == (
        '"v1"',
        "Sun, 29 Nov 2026 12:00:00 GMT",
        2,
    )
    assert info.last_success_at == NOW and len(stored) == 2


def _without_sources(event: EventInfo | None) -> EventInfo:
    assert event is not None
    return dataclasses.replace(event, sources=())


def test_a_join_returns_the_event_as_stored(db: Database) -> None:
    add_chat(db, 1)
    event = add_event(db, alert=False, facts={"place": "Dushanbe"})
    joined = db.call(
        add_source,
        key=event.key,
        item_id=add_item(db, 7001),
        state='{"n": 2}',
        verdict=VERDICT,
        alert=True,
        topics=("energy",),
        merge_facts=lambda known: known | {"figures": ["1 bn"]},
        place="Khujand",
    )
    stored = db.call(get_event_by_id, event_id=event.id)
    assert _without_sources(joined) == _without_sources(stored)
    # The seed's event has no stored report: this one is its only source.
    assert joined is not None and joined.alerted and joined.source_count == 1
    assert joined.facts == {"place": "Dushanbe", "figures": ["1 bn"]}
    assert joined.topics == ("energy",) and joined.place == "Dushanbe"


def test_a_join_to_a_missing_event_or_item_writes_nothing(db: Database) -> None:
    event = add_event(db)
    item_id = add_item(db, 7002)
    for key, item in (("no-such-event", item_id), (event.key, 999_999)):
        joined = db.call(add_source, key=key, item_id=item, state="{}", verdict=VERDICT, alert=True)
        assert joined is None
    assert _without_sources(db.call(get_event_by_id, event_id=event.id)) == _without_sources(event)


def test_an_event_without_parties_is_stored_and_queued_for_nobody(db: Database) -> None:
    add_chat(db, 1)
    created = db.call(
        create_event,
        key="X-2026-11-29-visit",
        event_type="visit",
        countries=(),
        event_date=None,
        place=None,
        summary="",
        facts={},
        evidence=None,
        language=None,
        confidence=0.9,
        state="{}",
        item_id=add_item(db, 7003),
        verdict=Verdict(True, "visit", (), 0.9, "[]"),
        alert=True,
    )
    stored = db.call(get_event_by_id, event_id=created.id)
    assert stored is not None and stored.countries == () and len(stored.sources) == 1
    assert _without_sources(created) == _without_sources(stored)
