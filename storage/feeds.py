"""Feeds, their poll state, and the items they bring."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_
from sqlmodel import Session, col, select

from news.records import FeedItem
from storage.db import StorageError, update_by_id
from storage.models import Feed, Item
from storage.types import utcnow


class FeedExistsError(StorageError):
    """A feed with that URL is already present."""


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """A feed as the scheduler, the admin commands and the CLI see it."""

    id: int
    url: str
    title: str
    language: str | None
    enabled: bool
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    last_error: str | None
    disabled_reason: str | None
    item_count: int = 0
    # news.parse.feed_fingerprint of the last body whose items were stored (None: parse).
    body_fingerprint: str | None = None

    @property
    def status(self) -> str:
        """ok, failing or disabled."""
        if not self.enabled:
            return "disabled"
        return "failing" if self.consecutive_failures else "ok"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item newly stored by a poll, ready for the classifier."""

    id: int
    feed_id: int
    feed_title: str
    item: FeedItem
    published_at: datetime  # the feed's date, else first seen
    alertable: bool


def _info(feed: Feed, item_count: int = 0) -> FeedInfo:
    assert feed.id is not None
    return FeedInfo(
        id=feed.id,
        url=feed.url,
        title=feed.title,
        language=feed.language,
        enabled=feed.enabled,
        etag=feed.etag,
        last_modified=feed.last_modified,
        next_poll_at=feed.next_poll_at,
        last_success_at=feed.last_success_at,
        consecutive_failures=feed.consecutive_failures,
        failing_since=feed.failing_since,
        last_error=feed.last_error,
        disabled_reason=feed.disabled_reason,
        item_count=item_count,
        body_fingerprint=feed.body_fingerprint,
    )


def add_feed(
    session: Session, /, *, url: str, title: str = "", language: str | None = None
) -> FeedInfo:
    """Add an enabled feed, due at once; FeedExistsError when the URL is known."""
    if session.exec(select(Feed.id).where(Feed.url == url)).first() is not None:
        raise FeedExistsError(f"feed already present: {url}")
    feed = Feed(url=url, title=title, language=language, next_poll_at=utcnow())
    session.add(feed)
    session.flush()
    return _info(feed)


def add_default_feeds(session: Session, /, *, feeds: Iterable[tuple[str, str, str | None]]) -> int:
    """Seed ``(url, title, language)`` feeds into an empty database; returns how many."""
    if session.exec(select(Feed.id)).first() is not None:
        return 0
    count = 0
    for url, title, language in feeds:
        session.add(Feed(url=url, title=title, language=language, next_poll_at=utcnow()))
        count += 1
    session.flush()
    return count


def get_feed(session: Session, /, *, feed_id: int) -> FeedInfo | None:
    feed = session.get(Feed, feed_id)
    return None if feed is None else _info(feed, _item_count(session, feed_id))


def find_feed_by_url(session: Session, /, *, url: str) -> FeedInfo | None:
    feed = session.exec(select(Feed).where(Feed.url == url)).first()
    return None if feed is None else _info(feed)


def remove_feed(session: Session, /, *, feed_id: int) -> FeedInfo | None:
    """Delete a feed and its items (events keep their other sources)."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return None
    info = _info(feed)
    session.delete(feed)
    session.flush()
    return info


def _item_count(session: Session, feed_id: int) -> int:
    return session.exec(select(func.count()).where(Item.feed_id == feed_id)).one()


def list_feeds(session: Session, /) -> list[FeedInfo]:
    counts = dict(
        session.exec(select(Item.feed_id, func.count()).group_by(col(Item.feed_id))).all()
    )
    feeds = session.exec(select(Feed).order_by(col(Feed.id))).all()
    return [_info(feed, counts.get(feed.id or 0, 0)) for feed in feeds]


def due_feeds(session: Session, /, *, now: datetime, limit: int = 5000) -> list[FeedInfo]:
    """Enabled feeds whose next poll time has come, the longest-waiting first."""
    rows = session.exec(
        select(Feed)
        .where(col(Feed.enabled))
        .where(or_(col(Feed.next_poll_at).is_(None), col(Feed.next_poll_at) <= now))
        .order_by(col(Feed.next_poll_at))
        .limit(limit)
    ).all()
    return [_info(feed) for feed in rows]


def schedule_all_now(session: Session, /, *, now: datetime) -> int:
    """Make every enabled feed due (for /pollnow); returns how many."""
    feeds = session.exec(select(Feed).where(col(Feed.enabled))).all()
    for feed in feeds:
        feed.next_poll_at = now
    return len(feeds)


def record_poll(
    session: Session,
    /,
    *,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    consecutive_failures: int,
    failing_since: datetime | None,
    error: str | None = None,
    disable: bool = False,
    etag: str | None = None,
    last_modified: str | None = None,
    caching_headers: bool = False,
    moved_to: str | None = None,
    title: str | None = None,
    language: str | None = None,
) -> FeedInfo | None:
    """Store the outcome of one poll on the feed row.

    ``caching_headers`` is true only for a 2xx answer: then ETag and Last-Modified are
    replaced verbatim (also by None when the server stopped sending them).
    """
    feed = session.get(Feed, feed_id)
    if feed is None:  # removed while it was being polled
        return None
    feed.last_polled_at = now
    feed.next_poll_at = next_poll_at
    feed.consecutive_failures = consecutive_failures
    feed.failing_since = failing_since
    if error is None:
        feed.last_success_at = now
        feed.last_error = None
    else:
        feed.last_error = error[:1000]
    if disable:
        feed.enabled = False
        feed.disabled_reason = f"failing since {failing_since:%Y-%m-%d %H:%M} UTC: {error}"
    if caching_headers:
        feed.etag, feed.last_modified = etag, last_modified
    if moved_to and moved_to != feed.url:
        taken = session.exec(select(Feed.id).where(Feed.url == moved_to)).first()
        if taken is None:
            feed.url = moved_to
            # Validators belong to the old URL, and so does the body's fingerprint (it hashes
            # the URL links resolve against, so it would not match anyway; say so plainly).
            feed.etag = feed.last_modified = feed.body_fingerprint = None
    if title and not feed.title:
        feed.title = title[:300]
    if language and not feed.language:
        feed.language = language
    session.flush()
    return _info(feed)


def store_items(
    session: Session,
    /,
    *,
    feed_id: int,
    items: Sequence[FeedItem],
    now: datetime,
    max_age: timedelta,
) -> list[StoredItem]:
    """Store the items not seen before in this feed; return only the new ones.

    An item is the same as a stored one when its key (guid) or its canonical link matches:
    a re-published entry with a new guid but the same link does not come back as new. An
    item already older than ``max_age`` when first seen is stored but not alertable.
    """
    feed = session.get(Feed, feed_id)
    if feed is None or not items:
        return []
    keys = [item.key for item in items]
    links = [item.link for item in items if item.link]
    known_keys = set(
        session.exec(
            select(Item.key).where(Item.feed_id == feed_id).where(col(Item.key).in_(keys))
        ).all()
    )
    known_links = set(
        session.exec(
            select(Item.link).where(Item.feed_id == feed_id).where(col(Item.link).in_(links))
        ).all()
        if links
        else []
    )
    fresh: list[FeedItem] = []
    for item in items:
        if item.key in known_keys or (item.link and item.link in known_links):
            continue
        known_keys.add(item.key)
        if item.link:
            known_links.add(item.link)
        fresh.append(item)
    if not fresh:
        return []
    # One INSERT … RETURNING for the batch: adding ORM rows one by one was most of the cost of
    # storing a poll (bench/ingest.py).
    published = [item.published or now for item in fresh]
    alertable = [now - when <= max_age for when in published]
    rows = [
        {
            "feed_id": feed_id,
            "key": item.key,
            "link": item.link,
            "title": item.title,
            "text": item.text,
            "language": item.language or feed.language,
            "published_at": when,
            "first_seen_at": now,
            "alertable": fresh_enough,
            "countries": "",
        }
        for item, when, fresh_enough in zip(fresh, published, alertable, strict=True)
    ]
    ids = (
        session.execute(insert(Item).returning(col(Item.id), sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    return [
        StoredItem(
            id=row_id,
            feed_id=feed_id,
            feed_title=feed.title,
            item=item,
            published_at=when,
            alertable=fresh_enough,
        )
        for row_id, item, when, fresh_enough in zip(ids, fresh, published, alertable, strict=True)
    ]


def record_success(
    session: Session,
    /,
    *,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    items: Sequence[FeedItem],
    max_age: timedelta,
    etag: str | None,
    last_modified: str | None,
    caching_headers: bool,
    moved_to: str | None = None,
    title: str | None = None,
    language: str | None = None,
    body_fingerprint: str | None = None,
) -> list[StoredItem]:
    """A successful poll: feed state and new items in one transaction (no half-written poll).

    ``body_fingerprint`` is that of the body the items come from; it is stored here, with
    them, so a poll whose parse or store failed leaves the old one and its body is parsed
    again. None leaves the stored one as it is.
    """
    info = record_poll(
        session,
        feed_id=feed_id,
        now=now,
        next_poll_at=next_poll_at,
        consecutive_failures=0,
        failing_since=None,
        etag=etag,
        last_modified=last_modified,
        caching_headers=caching_headers,
        moved_to=moved_to,
        title=title,
        language=language,
    )
    if info is None:
        return []
    stored = store_items(session, feed_id=feed_id, items=items, now=now, max_age=max_age)
    feed = session.get(Feed, feed_id)  # in the session since record_poll: no query
    if body_fingerprint is not None and feed is not None:
        feed.body_fingerprint = body_fingerprint
        session.flush()
    return stored


def record_not_modified(
    session: Session,
    /,
    *,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    validators: tuple[str | None, str | None] | None = None,
) -> None:
    """A 304, or a 200 whose body is the one stored last time: one UPDATE without loading the
    row (most polls end here). Nothing else changes, the body's fingerprint neither.

    ``validators`` (ETag, Last-Modified) come with the 200 of an unchanged body: like any
    2xx's, they replace the stored ones verbatim (a server may start sending them).
    """
    row = _not_modified_row(feed_id, now, next_poll_at)
    if validators is not None:
        row["etag"], row["last_modified"] = validators
    update_by_id(session, Feed.__table__, [row])  # type: ignore[attr-defined]


def record_not_modified_many(
    session: Session, polls: Sequence[tuple[int, datetime, datetime]], /
) -> None:
    """Several 304s (feed id, when polled, next poll) in one transaction: an all-304 cycle
    over 1,000 feeds paid a transaction and a thread hop per feed (≈ 1.2 ms each)."""
    update_by_id(
        session,
        Feed.__table__,  # type: ignore[attr-defined]
        [_not_modified_row(feed_id, now, due) for feed_id, now, due in polls],
    )


def _not_modified_row(feed_id: int, now: datetime, next_poll_at: datetime) -> dict[str, object]:
    return {
        "id": feed_id,
        "last_polled_at": now,
        "next_poll_at": next_poll_at,
        "last_success_at": now,
        "consecutive_failures": 0,
        "failing_since": None,
        "last_error": None,
    }


def add_feed_with_items(
    session: Session,
    /,
    *,
    url: str,
    title: str,
    language: str | None,
    now: datetime,
    next_poll_at: datetime,
    items: Sequence[FeedItem],
    max_age: timedelta,
    etag: str | None,
    last_modified: str | None,
) -> tuple[FeedInfo, list[StoredItem]]:
    """A new feed and its first items in one transaction: both, or neither."""
    feed = add_feed(session, url=url, title=title, language=language)
    stored = record_success(
        session,
        feed_id=feed.id,
        now=now,
        next_poll_at=next_poll_at,
        items=items,
        max_age=max_age,
        etag=etag,
        last_modified=last_modified,
        caching_headers=True,
    )
    info = get_feed(session, feed_id=feed.id)
    return info or feed, stored
