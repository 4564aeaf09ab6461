"""The poller's reads and writes of feed rows and new items, on SQLAlchemy Core.

Every poll goes through here: which feeds are due, the outcome of each poll, the items a
200 brought. Nothing here loads a row into an ORM session, so a poll cycle never imports
sqlmodel, SQLAlchemy's ORM or the table classes (`coopwatch poll` answered by 304s spent a
sixth of its time importing them; docs/design.md "CLI start-up, fourth pass: a poll cycle
writes its feed rows without the ORM (issue 14)"), on the tables of storage.tables.

Each data function takes a Core ``Connection`` first (``Database.write``/``write_now`` give
one in a transaction). The ORM's admin functions (storage.feeds) call them on their
session's connection and forget the rows they had loaded (``forget_loaded``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    Row,
    bindparam,
    case,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection

from news.records import FeedItem
from storage.db import update_by_id
from storage.records import FeedInfo, StoredItem
from storage.tables import FEEDS, ITEMS

# The columns of FeedInfo but item_count, by their names there: a SELECT or an UPDATE …
# RETURNING of these builds the record without an ORM row.
INFO_COLUMNS = tuple(
    FEEDS.c[field.name] for field in fields(FeedInfo) if field.name != "item_count"
)

# Statements built once: building and hashing a statement per call cost more than running it.
_DUE = (
    select(*INFO_COLUMNS)
    .where(FEEDS.c.enabled)
    .where(or_(FEEDS.c.next_poll_at.is_(None), FEEDS.c.next_poll_at <= bindparam("now")))
    .order_by(FEEDS.c.next_poll_at)
    .limit(bindparam("limit"))
)
_ANY_FEED = select(FEEDS.c.id).limit(1)
_ALL_NOW = update(FEEDS).where(FEEDS.c.enabled).values(next_poll_at=bindparam("now"))
_INSERT_ITEMS = insert(ITEMS).returning(ITEMS.c.key, ITEMS.c.id)
_FEED_NAMING = select(FEEDS.c.title, FEEDS.c.language).where(FEEDS.c.id == bindparam("feed_id"))
_KNOWN_KEYS = select(literal(True), ITEMS.c.key).where(
    ITEMS.c.feed_id == bindparam("feed_id"), ITEMS.c.key.in_(bindparam("keys", expanding=True))
)
# Keys by the unique index, links by theirs: a UNION ALL keeps each on its index.
_KNOWN_KEYS_OR_LINKS = union_all(
    _KNOWN_KEYS,
    select(literal(False), ITEMS.c.link).where(
        ITEMS.c.feed_id == bindparam("feed_id"),
        ITEMS.c.link.in_(bindparam("links", expanding=True)),
    ),
)


def has_feeds(connection: Connection, /) -> bool:
    """Whether any feed is stored (the default feeds are seeded into an empty database)."""
    return connection.execute(_ANY_FEED).first() is not None


def due_feeds(connection: Connection, /, *, now: datetime, limit: int = 5000) -> list[FeedInfo]:
    """Enabled feeds whose next poll time has come, the longest-waiting first."""
    rows = connection.execute(_DUE, {"now": now, "limit": limit})
    return [FeedInfo(**row._mapping) for row in rows]


def schedule_all_now(connection: Connection, /, *, now: datetime) -> int:
    """Make every enabled feed due (for /pollnow and `coopwatch poll --all`); how many."""
    return connection.execute(_ALL_NOW, {"now": now}).rowcount


def record_poll(
    connection: Connection,
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
    """Store the outcome of one poll on the feed row; the feed as written, None when it is
    gone (removed while it was being polled).

    ``caching_headers`` is true only for a 2xx answer: then ETag and Last-Modified are
    replaced verbatim (also by None when the server stopped sending them).
    """
    values = _poll_values(
        connection,
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
    row = _update_feed(connection, feed_id, values, *INFO_COLUMNS)
    return None if row is None else FeedInfo(**row._mapping)


def _poll_values(
    connection: Connection,
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
        values["last_error"] = error[:MAX_ERROR_CHARS]
    if disable:
        # As bounded as the last error: an answer's text can be as long as the server likes.
        reason = (error or "")[:MAX_ERROR_CHARS]
        values["enabled"] = False
        values["disabled_reason"] = f"failing since {failing_since:%Y-%m-%d %H:%M} UTC: {reason}"
    if caching_headers:
        values["etag"], values["last_modified"] = etag, last_modified
    if moved_to and _may_move(connection, feed_id, moved_to):
        values["url"] = moved_to
        # Validators belong to the old URL, and so does the body's fingerprint (it hashes
        # the URL links resolve against, so it would not match anyway; say so plainly).
        values["etag"] = values["last_modified"] = values["body_fingerprint"] = None
    if title:
        values["title"] = title[:300]
    if language:
        values["language"] = language
    return values


# A stored error or reason for disabling is cut to this many characters.
MAX_ERROR_CHARS = 1000

# Set only where the feed has none (Python's ``not value``: NULL or empty), decided in SQL.
_FILLED_IN = ("title", "language")


def _may_move(connection: Connection, feed_id: int, moved_to: str) -> bool:
    """Whether the feed moves to ``moved_to``: a new URL that no other feed has."""
    urls = connection.execute(
        select(FEEDS.c.id, FEEDS.c.url).where(or_(FEEDS.c.id == feed_id, FEEDS.c.url == moved_to))
    )
    found = dict(urls.tuples().all())
    return feed_id in found and found[feed_id] != moved_to and len(found) == 1


def _update_feed(
    connection: Connection, feed_id: int, values: dict[str, Any], /, *returning: Any
) -> Row[Any] | None:
    """One UPDATE of the feed row; the ``returning`` columns as written, None when the feed
    is gone (removed while it was being polled)."""
    statement = _feed_update(tuple(values), returning)
    params = {f"new_{name}": value for name, value in values.items()}
    return connection.execute(statement, {"feed_id": feed_id, **params}).first()


@functools.cache
def _feed_update(columns: tuple[str, ...], returning: tuple[Any, ...]) -> Any:
    """The UPDATE setting these columns, built once per shape (a poll sets one of a few)."""
    values: dict[str, Any] = {}
    for name in columns:
        column = FEEDS.c[name]
        new: BindParameter[Any] = bindparam(f"new_{name}", type_=column.type)
        blank = or_(column.is_(None), column == "")
        values[name] = case((blank, new), else_=column) if name in _FILLED_IN else new
    return (
        update(FEEDS).where(FEEDS.c.id == bindparam("feed_id")).values(values).returning(*returning)
    )


def store_items(
    connection: Connection,
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
    feed = connection.execute(_FEED_NAMING, {"feed_id": feed_id}).first()
    if feed is None:
        return []
    fresh = _unseen(connection, feed_id, items)
    if not fresh:
        return []
    return _insert_items(connection, feed_id, feed.title, feed.language, fresh, now, max_age)


def _insert_items(
    connection: Connection,
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
    ids = dict(connection.execute(_INSERT_ITEMS, rows).tuples().all())
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


def _unseen(connection: Connection, feed_id: int, items: Sequence[FeedItem]) -> list[FeedItem]:
    """The items whose key and link this feed has not stored, nor an earlier one of the batch
    (one query for both look-ups)."""
    keys = [item.key for item in items]
    links = [item.link for item in items if item.link]
    found = connection.execute(
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
    connection: Connection,
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
    values = _poll_values(
        connection,
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
    if _update_feed(connection, feed_id, values, FEEDS.c.id) is None:
        return []
    return store_items(connection, feed_id=feed_id, items=items, now=now, max_age=max_age)


def record_not_modified(
    connection: Connection,
    /,
    *,
    feed_id: int,
    now: datetime,
    next_poll_at: datetime,
    validators: tuple[str | None, str | None] | None = None,
) -> None:
    """A 304, or a 200 whose body is the one stored last time: one UPDATE (most polls end
    here). Nothing else changes, the body's fingerprint neither.

    ``validators`` (ETag, Last-Modified) come with the 200 of an unchanged body: like any
    2xx's, they replace the stored ones verbatim (a server may start sending them).
    """
    row = _not_modified_row(feed_id, now, next_poll_at)
    if validators is not None:
        row["etag"], row["last_modified"] = validators
    update_by_id(connection, FEEDS, [row])


def record_not_modified_many(
    connection: Connection, polls: Sequence[tuple[int, datetime, datetime]], /
) -> None:
    """Several 304s (feed id, when polled, next poll) in one transaction: an all-304 cycle
    over 1,000 feeds paid a transaction and a thread hop per feed (≈ 1.2 ms each)."""
    update_by_id(
        connection, FEEDS, [_not_modified_row(feed_id, now, due) for feed_id, now, due in polls]
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
