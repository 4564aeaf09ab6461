"""Newest first means the same on SQLite and PostgreSQL, for events with and without a date.

An announcement with no day is stored without a date (bot/pipeline.py); it is listed by the
day it was stored, as /trends counts it, not first on one database and last on the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage import Database
from storage.archive import list_events
from storage.events import EventInfo, create_event, events_for_country
from storage.models import Event
from tests.seed import VERDICT


def _event(db: Database, key: str, day: date | None, stored: datetime) -> EventInfo:
    event = db.call(
        create_event,
        key=key,
        event_type="visit",
        countries=("KZ", "TJ"),
        event_date=day,
        place=None,
        summary=f"Event {key}.",
        facts={},
        evidence=None,
        language="en",
        confidence=0.9,
        state="{}",
        item_id=0,
        verdict=VERDICT,
        alert=False,
    )
    with db.session() as session:
        row = session.get(Event, event.id)
        assert row is not None
        row.created_at = stored
    return event


def _seed(db: Database) -> None:
    _event(db, "DATED-OLD", date(2026, 11, 20), datetime(2026, 11, 21, 9, tzinfo=UTC))
    # Announced on 25 November "for the coming weeks": no day yet.
    _event(db, "ANNOUNCED", None, datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    _event(db, "DATED-NEW", date(2026, 11, 28), datetime(2026, 11, 28, 10, tzinfo=UTC))
    _event(db, "SAME-DAY", date(2026, 11, 25), datetime(2026, 11, 25, 8, tzinfo=UTC))


def test_country_lists_an_undated_event_by_the_day_it_was_stored(db: Database) -> None:
    _seed(db)
    events, total = db.call(events_for_country, country="TJ", limit=10)
    assert total == 4
    assert [e.key for e in events] == ["DATED-NEW", "ANNOUNCED", "SAME-DAY", "DATED-OLD"]


def test_the_archive_and_exports_list_it_the_same_way_and_since_keeps_it(db: Database) -> None:
    _seed(db)
    keys = [entry.key for entry in db.call(list_events)]
    assert keys == ["DATED-NEW", "ANNOUNCED", "SAME-DAY", "DATED-OLD"]
    since = [entry.key for entry in db.call(list_events, since=date(2026, 11, 25))]
    assert since == ["DATED-NEW", "ANNOUNCED", "SAME-DAY"]
