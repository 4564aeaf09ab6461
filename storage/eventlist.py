"""The event list on SQLAlchemy Core: what `coopwatch export`, /export, the web archive and
its Atom feed read, without the ORM.

The export is a command line tool's whole run: importing sqlmodel, the ORM and the nine
table classes cost it more than the query (docs/design.md "CLI start-up, third pass: the
export reads without the ORM (issue 14)"). The event tables below are the columns read here
of the tables `storage.models` defines (and Alembic creates), the feed and item tables those
of storage.tables; tests/storage/test_eventlist.py holds them to the models column by
column. The ORM's sessions read events through these same functions
(`storage.archive.list_events`, `storage.events.sources_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    func,
    literal,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from storage.records import EventInfo, SourceInfo, event_info
from storage.tables import FEEDS, ITEMS
from storage.types import UTCDateTime, utc_day

_READ = MetaData()
# Every column of EventInfo; not the grouping state, the largest column, which no list shows.
EVENTS = Table(
    "event",
    _READ,
    Column("id", Integer, primary_key=True),
    Column("key", Text),
    Column("event_type", String),
    Column("countries", String),
    Column("event_date", Date),
    Column("place", Text),
    Column("summary", Text),
    Column("facts", Text),
    Column("evidence", Text),
    Column("language", String),
    Column("confidence", Float),
    Column("source_count", Integer),
    Column("alerted", Boolean),
    Column("created_at", UTCDateTime),
    Column("topics", Text),
)
EVENT_COUNTRIES = Table(
    "event_country",
    _READ,
    Column("event_id", Integer, primary_key=True),
    Column("country", String, primary_key=True),
)
# Event ids per IN list: PostgreSQL takes at most 65,535 parameters in one statement, and an
# export lists every event.
SOURCES_BATCH = 5000


def event_day(events: Table = EVENTS) -> ColumnElement[Any]:
    """An event's day in SQL: its own date, else the (UTC) day it was stored.

    An announcement with no day has no date yet; it is news of the day it came. ``events``:
    this module's table, or the ORM's (`Event.__table__`) in a query on the ORM's.
    """
    return func.coalesce(events.c.event_date, utc_day(events.c.created_at))


def newest_first(query: Select[Any], events: Table = EVENTS) -> Select[Any]:
    """Order events by their day, then by when they were stored, newest first.

    Never by the bare date column: PostgreSQL sorts NULL first in DESC, SQLite last.
    """
    return query.order_by(event_day(events).desc(), events.c.created_at.desc(), events.c.id.desc())


def list_events(
    connection: Connection,
    /,
    *,
    country: str | None = None,
    event_type: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> list[EventInfo]:
    """Events newest first, optionally one country's, one type's, dated on or after ``since``,
    each with every source and its topics."""
    query = select(*EVENTS.c)
    if country is not None:
        query = query.join(EVENT_COUNTRIES, EVENT_COUNTRIES.c.event_id == EVENTS.c.id).where(
            EVENT_COUNTRIES.c.country == country
        )
    if event_type is not None:
        query = query.where(EVENTS.c.event_type == event_type)
    if since is not None:
        query = query.where(event_day() >= since)
    query = newest_first(query)
    if limit is not None:
        query = query.limit(limit)
    rows = connection.execute(query).mappings().all()
    sources = sources_of(connection, [row["id"] for row in rows])
    return [event_info(row, sources.get(row["id"], ())) for row in rows]


def sources_of(
    connection: Connection, /, event_ids: Sequence[int], *, with_text: bool = False
) -> dict[int, tuple[SourceInfo, ...]]:
    """Every report of each event, oldest first, for /event, the web page and the exports.

    Only the columns shown are read, in batches of event ids; an item's article text only
    ``with_text`` (a reader's summary may be taken from a report in their language).
    """
    found: dict[int, list[SourceInfo]] = {event_id: [] for event_id in event_ids}
    ids = list(found)
    for start in range(0, len(ids), SOURCES_BATCH):
        rows = connection.execute(
            select(
                ITEMS.c.event_id,
                ITEMS.c.id,
                ITEMS.c.link,
                ITEMS.c.title,
                ITEMS.c.language,
                ITEMS.c.published_at,
                FEEDS.c.title,
                ITEMS.c.text if with_text else literal(""),
            )
            .join(FEEDS, FEEDS.c.id == ITEMS.c.feed_id)
            .where(ITEMS.c.event_id.in_(ids[start : start + SOURCES_BATCH]))
            .order_by(ITEMS.c.published_at, ITEMS.c.id)
        ).all()
        for event_id, item_id, link, title, language, published_at, feed_title, text in rows:
            found[event_id].append(
                SourceInfo(
                    item_id=item_id or 0,
                    feed_title=feed_title or "",
                    url=link,
                    title=title,
                    language=language,
                    published_at=published_at,
                    text=text or "",
                )
            )
    return {event_id: tuple(sources) for event_id, sources in found.items()}
