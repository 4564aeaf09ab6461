"""A later report that states the event's days moves the date `/event` and the export show."""

from __future__ import annotations

from datetime import date

from bot.eventviews import event_view
from storage import Database
from storage.events import add_source
from tests.seed import VERDICT, add_event, add_item, reload_event


def test_a_later_report_stating_the_days_sets_the_events_span(db: Database) -> None:
    event = add_event(db)  # created from a report dated only by its publication
    item_id = add_item(db, 9001, outlet="Kabar")
    span = (date(2026, 11, 27), date(2026, 11, 28))
    joined = db.call(
        add_source,
        key=event.key,
        item_id=item_id,
        state="{}",
        verdict=VERDICT,
        alert=True,
        span=span,
    )
    assert joined is not None
    view = event_view(reload_event(db, event.id))
    assert (view.event_date, view.facts.event_end) == span


def test_a_report_without_stated_days_leaves_the_date(db: Database) -> None:
    event = add_event(db)
    item_id = add_item(db, 9002, outlet="Kabar")
    db.call(add_source, key=event.key, item_id=item_id, state="{}", verdict=VERDICT, alert=True)
    assert reload_event(db, event.id).event_date == date(2026, 11, 28)
