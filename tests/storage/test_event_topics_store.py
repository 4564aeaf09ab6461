"""Topics and dates of stored events: what /trends and the exports read."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from storage import Database
from storage import events as event_store
from storage.models import Event
from tests.seed import VERDICT, add_item


def _event(db: Database, key: str, day: date | None, countries: tuple[str, ...]) -> None:
    db.call(
        event_store.create_event,
        key=key,
        event_type="meeting",
        countries=countries,
        event_date=day,
        place=None,
        summary="Talks.",
        facts={},
        evidence=None,
        language="en",
        confidence=0.9,
        state="{}",
        item_id=0,
        verdict=VERDICT,
        alert=False,
        topics=("trade", "energy"),
    )


def test_topics_are_stored_in_the_lists_order_and_merged_from_later_reports(
    db: Database,
) -> None:
    _event(db, "E1", date(2026, 5, 1), ("KZ", "TJ"))
    with db.session() as session:
        row = session.exec(select(Event).where(Event.key == "E1")).one()
        assert row.topics == "energy,trade"
    joined = db.call(
        event_store.add_source,
        key="E1",
        item_id=add_item(db, 900),
        state="{}",
        verdict=VERDICT,
        alert=False,
        topics=("water", "trade"),
    )
    assert joined is not None and joined.topics == ("energy", "water", "trade")
    found = db.call(event_store.get_event, key="e1")
    assert found is not None and found.topics == ("energy", "water", "trade")


def test_event_dates_pick_the_window_and_the_country(db: Database) -> None:
    _event(db, "D1", date(2026, 1, 31), ("KZ", "UZ"))
    _event(db, "D2", date(2026, 2, 1), ("TJ", "UZ"))
    _event(db, "D3", date(2025, 12, 31), ("KZ", "UZ"))  # before the window
    _event(db, "D4", None, ("KZ", "CN"))  # no date: the day it was stored (today)
    today = datetime.now(UTC).date()
    since = date(2026, 1, 1)
    everything = db.call(event_store.event_dates, since=since, until=max(today, since))
    assert sorted(everything) == sorted(
        [
            (date(2026, 1, 31), ("KZ", "UZ")),
            (date(2026, 2, 1), ("TJ", "UZ")),
            *([(today, ("CN", "KZ"))] if today >= since else []),
        ]
    )
    only_tj = db.call(event_store.event_dates, since=since, until=date(2026, 12, 31), country="TJ")
    assert only_tj == [(date(2026, 2, 1), ("TJ", "UZ"))]
