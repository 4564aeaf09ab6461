"""Feeds, their poll state, and the items they bring."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Row,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    union_all,
    update,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from news.records import FeedItem
from storage.db import StorageError, forget_loaded, update_by_id
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


# The poll's statements are Core, on the table: no row is loaded into the session.
_FEEDS = Feed.__table__  # type: ignore[attr-defined]


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
    values = _poll_values(
        session,
        feed_id=feed_id,
        now=now,
        next_poll_at=next_poll_at,
        consecutive_failures=consecutive_failures,
        failing_since=failing_since,
        error=error,
        disable=disable,
        etag=etag,
        last_modified=last_modified,
        caching_headers=caching_headers,
        moved_to=moved_to,
        title=title,
        language=language,
    )
    row = _update_feed(session, feed_id, values, *_INFO_COLUMNS)
    return None if row is None else FeedInfo(**row._mapping)


# The columns of FeedInfo but item_count, by their names there: an UPDATE … RETURNING of these
# builds the record without loading the row into the session.
_INFO_COLUMNS = tuple(
    _FEEDS.c[field.name] for field in fields(FeedInfo) if field.name != "item_count"
)


def _poll_values(
    session: Session,
    /,
    *,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    consecutive_failures: int,
    failing_since: datetime | None,
    error: str | None,
    disable: bool,
    etag: str | None,
    last_modified: str | None,
    caching_headers: bool,
    moved_to: str | None,
    title: str | None,
    language: str | None,
) -> dict[str, Any]:
    """The columns one poll sets, for one UPDATE: a title or language only where the feed
    has none (decided in SQL), a new URL only when no other feed has it."""
    values: dict[str, Any] = {
        "last_polled_at": now,
        "next_poll_at": next_poll_at,
        "consecutive_failures": consecutive_failures,
        "failing_since": failing_since,
    }
    if error is None:
        values["last_success_at"] = now
        values["last_error"] = None
    else:
        values["last_error"] = error[:1000]
    if disable:
        values["enabled"] = False
        values["disabled_reason"] = f"failing since {failing_since:%Y-%m-%d %H:%M} UTC: {error}"
    if caching_headers:
        values["etag"], values["last_modified"] = etag, last_modified
    if moved_to and _may_move(session, feed_id, moved_to):
        values["url"] = moved_to
        # Validators belong to the old URL, and so does the body's fingerprint (it hashes
        # the URL links resolve against, so it would not match anyway; say so plainly).
        values["etag"] = values["last_modified"] = values["body_fingerprint"] = None
    if title:
        values["title"] = title[:300]
    if language:
        values["language"] = language
    return values


# Set only where the feed has none (Python's ``not value``: NULL or empty), decided in SQL.
_FILLED_IN = ("title", "language")


def _may_move(session: Session, feed_id: int, moved_to: str) -> bool:
    """Whether the feed moves to ``moved_to``: a new URL that no other feed has."""
    urls = session.connection().execute(
        sa_select(_FEEDS.c.id, _FEEDS.c.url).where(
            or_(_FEEDS.c.id == feed_id, _FEEDS.c.url == moved_to)
        )
    )
    found = dict(urls.tuples().all())
    return feed_id in found and found[feed_id] != moved_to and len(found) == 1


def _update_feed(
    session: Session, feed_id: int, values: dict[str, Any], /, *returning: Any
) -> Row[Any] | None:
    """One UPDATE of the feed row; the ``returning`` columns as written, None when the feed
    is gone (removed while it was being polled)."""
    statement = _feed_update(tuple(values), returning)
    params = {f"new_{name}": value for name, value in values.items()}
    row = session.connection().execute(statement, {"feed_id": feed_id, **params}).first()
    forget_loaded(session, Feed, feed_id)
    return row


@functools.cache
def _feed_update(columns: tuple[str, ...], returning: tuple[Any, ...]) -> Any:
    """The UPDATE setting these columns, built once per shape (a poll sets one of a few)."""
    values: dict[str, Any] = {}
    for name in columns:
        column = _FEEDS.c[name]
        new: BindParameter[Any] = bindparam(f"new_{name}", type_=column.type)
        blank = or_(column.is_(None), column == "")
        values[name] = case((blank, new), else_=column) if name in _FILLED_IN else new
    return (
        update(_FEEDS)
        .where(_FEEDS.c.id == bindparam("feed_id"))
        .values(values)
        .returning(*returning)
    )


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
    if not items:
        return []
    feed = session.connection().execute(_FEED_NAMING, {"feed_id": feed_id}).first()
    if feed is None:
        return []
    fresh = _unseen(session, feed_id, items)
    if not fresh:
        return []
    return _insert_items(session, feed_id, feed.title, feed.language, fresh, now, max_age)


def _insert_items(
    session: Session,
    feed_id: int,
    feed_title: str,
    feed_language: str | None,
    fresh: Sequence[FeedItem],
    now: datetime,
    max_age: timedelta,
) -> list[StoredItem]:
    # One Core INSERT … RETURNING for the batch (an executemany): adding ORM rows one by one
    # was most of the cost of storing a poll (bench/ingest.py), and the ORM's bulk path still
    # cost a millisecond per poll of mapping work (bench/store.py).
    published = [item.published or now for item in fresh]
    alertable = [now - when <= max_age for when in published]
    rows = [
        {
            "feed_id": feed_id,
            "key": item.key,
            "link": item.link,
            "title": item.title,
            "text": item.text,
            "language": item.language or feed_language,
            "published_at": when,
            "first_seen_at": now,
            "alertable": fresh_enough,
            "countries": "",
        }
        for item, when, fresh_enough in zip(fresh, published, alertable, strict=True)
    ]
    # Ids by key (unique in the feed and in ``fresh``), not by position: asking for them in
    # the rows' order made SQLite insert one row per statement.
    ids = dict(session.connection().execute(_INSERT_ITEMS, rows).tuples().all())
    return [
        StoredItem(
            id=ids[item.key],
            feed_id=feed_id,
            feed_title=feed_title,
            item=item,
            published_at=when,
            alertable=fresh_enough,
        )
        for item, when, fresh_enough in zip(fresh, published, alertable, strict=True)
    ]


# Statements built once: building and hashing a statement per call cost more than running it.
_ITEMS = Item.__table__  # type: ignore[attr-defined]
_INSERT_ITEMS = insert(_ITEMS).returning(_ITEMS.c.key, _ITEMS.c.id)
_FEED_NAMING = sa_select(_FEEDS.c.title, _FEEDS.c.language).where(
    _FEEDS.c.id == bindparam("feed_id")
)
_KNOWN_KEYS = sa_select(literal(True), _ITEMS.c.key).where(
    _ITEMS.c.feed_id == bindparam("feed_id"), _ITEMS.c.key.in_(bindparam("keys", expanding=True))
)
# Keys by the unique index, links by theirs: a UNION ALL keeps each on its index.
_KNOWN_KEYS_OR_LINKS = union_all(
    _KNOWN_KEYS,
    sa_select(literal(False), _ITEMS.c.link).where(
        _ITEMS.c.feed_id == bindparam("feed_id"),
        _ITEMS.c.link.in_(bindparam("links", expanding=True)),
    ),
)


def _unseen(session: Session, feed_id: int, items: Sequence[FeedItem]) -> list[FeedItem]:
    """The items whose key and link this feed has not stored, nor an earlier one of the batch
    (one query for both look-ups)."""
    keys = [item.key for item in items]
    links = [item.link for item in items if item.link]
    found = session.connection().execute(
        _KNOWN_KEYS_OR_LINKS if links else _KNOWN_KEYS,
        {"feed_id": feed_id, "keys": keys, "links": links},
    )
    known_keys: set[str] = set()
    known_links: set[str] = set()
    for is_key, value in found.tuples():
        (known_keys if is_key else known_links).add(value)
    fresh: list[FeedItem] = []
    for item in items:
        if item.key in known_keys or (item.link and item.link in known_links):
            continue
        known_keys.add(item.key)
        if item.link:
            known_links.add(item.link)
        fresh.append(item)
    return fresh


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

    The feed row is written by one UPDATE, not loaded into the session and flushed
    (bench/store.py).
    """
    values = _poll_values(
        session,
        feed_id=feed_id,
        now=now,
        next_poll_at=next_poll_at,
        consecutive_failures=0,
        failing_since=None,
        error=None,
        disable=False,
        etag=etag,
        last_modified=last_modified,
        caching_headers=caching_headers,
        moved_to=moved_to,
        title=title,
        language=language,
    )
    if body_fingerprint is not None:
        values["body_fingerprint"] = body_fingerprint
    if _update_feed(session, feed_id, values, _FEEDS.c.id) is None:
        return []
    return store_items(session, feed_id=feed_id, items=items, now=now, max_age=max_age)


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
