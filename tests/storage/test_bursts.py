"""Several alerts for one chat at once: found in date order, postponed together on failure."""

from __future__ import annotations

from datetime import date, timedelta

from storage import Database, deliveries
from storage.events import EventInfo, create_event
from storage.types import utcnow
from tests.seed import VERDICT, add_chat


def _event(db: Database, key: str, day: date | None) -> EventInfo:
    return db.call(
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
        confidence=0.95,
        state="{}",
        item_id=0,
        verdict=VERDICT,
        alert=True,
    )


def test_a_burst_lists_its_events_in_date_order_and_backs_off_as_one(db: Database) -> None:
    add_chat(db, 1)  # five events
    add_chat(db, 2)
    days = [date(2026, 11, d) for d in (28, 24, 26)] + [None, date(2026, 11, 25)]
    made = [_event(db, f"K{n}", day) for n, day in enumerate(days)]
    # Chat 2 got its alerts already, except the undated one.
    for row in db.call(deliveries.due_deliveries, now=utcnow(), limit=100):
        if row.chat_id == 2 and row.event_id != made[3].id:
            db.call(deliveries.mark_sent, delivery_id=row.id, message_id=1, source_count=1)

    [burst] = db.call(deliveries.pending_bursts, min_count=2, now=utcnow())
    assert burst.chat_id == 1 and len(burst.delivery_ids) == 5
    # Oldest first, the undated one last.
    assert burst.event_ids == tuple(made[n].id for n in (1, 4, 2, 0, 3))
    # A burst still being queued is left alone until it settles.
    too_soon = utcnow() - timedelta(minutes=1)
    assert db.call(deliveries.pending_bursts, min_count=2, settled_before=too_soon) == []

    later = utcnow() + timedelta(minutes=5)
    db.call(deliveries.postpone, delivery_ids=burst.delivery_ids, until=later, error="down")
    assert db.call(deliveries.pending_bursts, min_count=2, now=utcnow()) == []
    [again] = db.call(deliveries.pending_bursts, min_count=2, now=later)
    assert again.attempts == 1 and again.event_ids == burst.event_ids


def test_a_few_alerts_are_retimed_into_date_order(db: Database) -> None:
    add_chat(db, 1)
    newer = _event(db, "N1", date(2026, 11, 28))
    older = _event(db, "N2", date(2026, 11, 20))
    db.call(deliveries.order_by_event_date, chat_id=1)
    due = db.call(deliveries.due_deliveries, now=utcnow(), limit=10)
    assert [row.event_id for row in due] == [older.id, newer.id]
