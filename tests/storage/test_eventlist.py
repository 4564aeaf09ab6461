"""The event list on SQLAlchemy Core (storage.eventlist) reads what the ORM reads.

`coopwatch export` lists events and a poll writes feed rows and items without the ORM
(issue 14), from table definitions of their own (storage.eventlist, storage.tables); these
tests hold those to the models, so a column renamed, retyped or added cannot drift apart
between them and the rest of the bot — on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date

import pytest
from sqlalchemy import Table
from sqlalchemy.types import TypeDecorator
from sqlmodel import select

from storage import Database, StorageError, eventlist, tables
from storage.events import _info, create_event, newest_first, sources_of
from storage.models import Event, EventCountry, Feed, Item
from storage.records import EventInfo
from tests.seed import VERDICT
from tests.web.archive import seed_archive

READ_TABLES = {
    eventlist.EVENTS: Event,
    eventlist.EVENT_COUNTRIES: EventCountry,
    tables.ITEMS: Item,
    tables.FEEDS: Feed,
}


def _kind(table: Table, name: str) -> tuple[object, type]:
    """What decides how a column's values come back: the Python type of the column's SQL
    type, and the decorator that converts them (UTCDateTime re-attaches UTC; sqlmodel's
    AutoString only picks a length and converts nothing)."""
    column_type = table.c[name].type
    if isinstance(column_type, TypeDecorator):
        converts = type(column_type).process_result_value is not TypeDecorator.process_result_value
        return (type(column_type) if converts else None), column_type.impl_instance.python_type
    return None, column_type.python_type


@pytest.mark.parametrize("read", list(READ_TABLES), ids=lambda table: table.name)
def test_the_read_tables_are_the_models_tables(read: Table) -> None:
    model: Table = READ_TABLES[read].__table__  # type: ignore[attr-defined]
    assert read.name == model.name
    for column in read.c:
        assert column.name in model.c, f"{read.name}.{column.name} is not in storage.models"
        assert _kind(read, column.name) == _kind(model, column.name), column.name
        assert column.primary_key == model.c[column.name].primary_key, column.name


@pytest.mark.parametrize("core", [tables.FEEDS, tables.ITEMS], ids=lambda table: table.name)
def test_the_poll_tables_have_every_column(core: Table) -> None:
    """A poll inserts items and returns whole feed rows: a column added to the models must be
    added to storage.tables too, or an INSERT would leave it out."""
    model: Table = READ_TABLES[core].__table__  # type: ignore[attr-defined]
    assert {c.name for c in core.c} == {c.name for c in model.c}


def test_the_event_table_reads_every_column_but_the_grouping_state() -> None:
    """An event as the export shows it has every column the ORM's EventInfo is built from."""
    model: Table = Event.__table__  # type: ignore[attr-defined]
    assert {c.name for c in eventlist.EVENTS.c} == {c.name for c in model.c} - {
        "state",
        "updated_at",
    }


def _seed(db: Database) -> None:
    """The web archive's three events (sources with hostile text, a link that is not
    http(s)), an undated announcement and an event with topics and no source."""
    seed_archive(db)
    for key, day, topics in (
        ("KZ-UZ-ANNOUNCED", None, ()),
        ("KZ-TJ-2026-11-26-meeting", date(2026, 11, 26), ("energy", "water")),
    ):
        db.call(
            create_event,
            key=key,
            event_type="meeting",
            countries=("KZ", "UZ") if day is None else ("KZ", "TJ"),
            event_date=day,
            place=None,
            summary=f"Event {key}.",
            facts={"figures": [1, 2]},
            evidence=None,
            language="ru",
            confidence=0.75,
            state='{"large": "state"}',
            item_id=0,
            verdict=VERDICT,
            alert=True,
            topics=topics,
        )


def _orm_list(db: Database, country: str | None, since: date | None) -> list[EventInfo]:
    """The list as the ORM read it before the export went to Core (the same order)."""
    with db.session() as session:
        query = select(Event)
        if country is not None:
            query = query.join(EventCountry).where(EventCountry.country == country)
        rows = session.exec(newest_first(query)).all()
        found = [
            row
            for row in rows
            if since is None or (row.event_date or row.created_at.date()) >= since
        ]
        sources = sources_of(session, [row.id for row in found if row.id is not None])
        return [_info(row, sources[row.id or 0]) for row in found]


@pytest.mark.parametrize(
    ("country", "since", "count"),
    [(None, None, 5), ("TJ", None, 2), ("KZ", date(2026, 11, 25), 2)],
)
def test_the_core_list_is_the_orm_list(
    db: Database, country: str | None, since: date | None, count: int
) -> None:
    _seed(db)
    core = asyncio.run(db.read(eventlist.list_events, country=country, since=since))
    assert core == _orm_list(db, country, since)
    assert len(core) == count
    assert all(event.created_at.tzinfo == UTC for event in core)


def test_the_list_has_what_the_export_shows(db: Database) -> None:
    _seed(db)
    core = asyncio.run(db.read(eventlist.list_events))
    by_key = {event.key: event for event in core}
    assert {key: len(event.sources) for key, event in by_key.items()} == {
        "KZ-UZ-ANNOUNCED": 0,
        "KG-RU-2026-11-27-call": 1,
        "KZ-TJ-2026-11-26-meeting": 0,
        "CN-UZ-2026-11-25-agreement": 2,
        "KZ-TJ-2026-11-20-visit": 3,
    }
    assert by_key["KZ-TJ-2026-11-26-meeting"].topics == ("energy", "water")
    assert by_key["KZ-UZ-ANNOUNCED"].event_date is None
    assert by_key["KZ-UZ-ANNOUNCED"].facts == {"figures": [1, 2]}
    assert by_key["KG-RU-2026-11-27-call"].sources[0].published_at.tzinfo == UTC


def test_reading_an_unusable_database_is_a_storage_error(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/not-upgraded.db")
    try:
        with pytest.raises(StorageError, match="no such table"):
            asyncio.run(db.read(eventlist.list_events))
    finally:
        db.close()
