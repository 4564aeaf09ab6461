"""Feeds as the admin commands see them: add, remove, list, on the ORM session.

What a poll reads and writes (due feeds, the outcome of a poll, new items) is on SQLAlchemy
Core in storage.feedrows, which polling uses without the ORM; the functions here call it on
their session's connection where they need it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from news.records import FeedItem
from storage import feedrows
from storage.db import StorageError, forget_loaded
from storage.models import Feed, Item
from storage.records import FeedInfo, StoredItem
from storage.types import utcnow

__all__ = [
    "FeedExistsError",
    "FeedInfo",
    "StoredItem",
    "add_default_feeds",
    "add_feed",
    "add_feed_with_items",
    "find_feed_by_url",
    "get_feed",
    "list_feeds",
    "remove_feed",
]


class FeedExistsError(StorageError):
    """A feed with that URL is already present."""


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
    stored = feedrows.record_success(
        session.connection(),
        feed_id=feed.id,
        now=now,
        next_poll_at=next_poll_at,
        items=items,
        max_age=max_age,
        etag=etag,
        last_modified=last_modified,
        caching_headers=True,
    )
    # The row was written by Core: the session's copy from add_feed is stale.
    forget_loaded(session, Feed, feed.id)
    info = get_feed(session, feed_id=feed.id)
    return info or feed, stored
