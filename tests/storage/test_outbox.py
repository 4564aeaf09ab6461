"""The outbox in storage: who gets a delivery, due rows, retries, dead and migrated chats."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage import Database, chats, deliveries
from storage.models import Delivery, Event
from storage.types import utcnow
from tests.seed import add_chat, add_event


def _rows(db: Database) -> dict[int, Delivery]:
    with db.session() as session:
        return {row.chat_id: row for row in session.exec(select(Delivery)).all()}


def test_an_event_is_queued_for_each_chat_that_follows_it(db: Database) -> None:
    add_chat(db, 1)  # the five states
    add_chat(db, 2, countries=["TJ"])
    add_chat(db, 3, countries=["KG"])  # another state: not this event
    add_chat(db, 4, countries=[])  # none means the five states
    add_chat(db, 5, event_types=["call"])  # not interested in visits
    add_chat(db, 6, mode="digest")
    add_chat(db, 7)
    db.call(chats.deactivate_chat, chat_id=7, reason="blocked")

    event = add_event(db, countries=("KZ", "TJ"))

    rows = _rows(db)
    assert sorted(rows) == [1, 2, 4, 6]
    assert rows[1].status == rows[2].status == rows[4].status == "pending"
    assert rows[6].status == "digest"
    assert {row.event_id for row in rows.values()} == {event.id}


def test_a_partner_country_is_followed_only_by_chats_that_chose_it(db: Database) -> None:
    add_chat(db, 1)  # the five states: every event has a Central Asian party
    add_chat(db, 2, countries=["CN"])
    add_chat(db, 3, countries=["RU"])
    add_event(db, countries=("CN", "KZ"))
    assert sorted(_rows(db)) == [1, 2]


def test_enqueue_twice_adds_nobody_twice(db: Database) -> None:
    add_chat(db, 1)
    event = add_event(db)
    assert db.call(deliveries.enqueue_event, event_id=event.id) == 0
    add_chat(db, 2)
    assert db.call(deliveries.enqueue_event, event_id=event.id) == 1
    assert len(_rows(db)) == 2


def test_a_held_back_event_queues_nothing(db: Database) -> None:
    add_chat(db, 1)
    add_event(db, alert=False)
    assert _rows(db) == {}


def test_due_deliveries_skip_the_future_and_sent_ones(db: Database) -> None:
    add_chat(db, 1, language="ru")
    add_chat(db, 2)
    add_chat(db, 3)
    event = add_event(db)
    rows = _rows(db)
    later = utcnow() + timedelta(minutes=5)
    db.call(deliveries.mark_retry, delivery_id=rows[2].id, next_attempt_at=later, error="timeout")
    db.call(deliveries.mark_sent, delivery_id=rows[3].id, message_id=7, source_count=1)

    due = db.call(deliveries.due_deliveries, now=utcnow(), limit=10)

    assert [(d.chat_id, d.language, d.event_id, d.source_count) for d in due] == [
        (1, "ru", event.id, 1)
    ]
    assert db.call(deliveries.due_deliveries, now=later, limit=10)[-1].attempts == 1
    stats = db.call(deliveries.delivery_stats)
    assert (stats.sent, stats.pending, stats.failed) == (1, 2, 0)


def test_a_flood_wait_is_not_counted_as_an_attempt(db: Database) -> None:
    add_chat(db, 1)
    add_event(db)
    row = _rows(db)[1]
    attempts = db.call(
        deliveries.mark_retry,
        delivery_id=row.id,
        next_attempt_at=utcnow(),
        error="429",
        count_attempt=False,
    )
    assert attempts == 0


def test_a_dead_chat_is_deactivated_and_owed_nothing(db: Database) -> None:
    add_chat(db, 1)
    add_event(db)
    add_event(db)
    assert db.call(deliveries.drop_chat, chat_id=1, reason="blocked") == 2
    info = db.call(chats.get_chat, chat_id=1)
    assert info is not None and not info.active
    assert db.call(deliveries.due_deliveries, now=utcnow(), limit=10) == []
    assert db.call(deliveries.delivery_stats).failed == 2


def test_a_migrated_group_keeps_its_settings_and_pending_alerts(db: Database) -> None:
    add_chat(db, -5, countries=["TJ", "CN"], language="ru", event_types=["visit", "call"])
    first = add_event(db)
    second = add_event(db)
    with db.session() as session:
        sent = session.exec(select(Delivery).where(Delivery.event_id == first.id)).one()
    db.call(deliveries.mark_sent, delivery_id=sent.id, message_id=3, source_count=1)

    db.call(deliveries.move_chat, old_id=-5, new_id=-1005)

    new = db.call(chats.get_chat, chat_id=-1005)
    assert new is not None and new.active
    assert (new.countries, new.language, new.event_types) == (("CN", "TJ"), "ru", ("visit", "call"))
    old = db.call(chats.get_chat, chat_id=-5)
    assert old is not None and not old.active
    due = db.call(deliveries.due_deliveries, now=utcnow(), limit=10)
    assert [(d.chat_id, d.event_id) for d in due] == [(-1005, second.id)]


def test_sent_alerts_of_a_grown_event_are_listed_for_editing(db: Database) -> None:
    add_chat(db, 1)
    add_chat(db, 2)
    event = add_event(db)
    rows = _rows(db)
    db.call(deliveries.mark_sent, delivery_id=rows[1].id, message_id=11, source_count=1)
    assert db.call(deliveries.deliveries_to_edit, limit=10) == []
    with db.session() as session:
        stored = session.get(Event, event.id)
        assert stored is not None
        stored.source_count = 3

    found = db.call(deliveries.deliveries_to_edit, limit=10)

    assert [(d.chat_id, d.message_id, d.source_count) for d in found] == [(1, 11, 3)]
    db.call(deliveries.mark_edited, delivery_id=found[0].id, source_count=3)
    assert db.call(deliveries.deliveries_to_edit, limit=10) == []


def test_switching_to_digest_moves_waiting_alerts_into_the_digest(db: Database) -> None:
    add_chat(db, 1)
    event = add_event(db)
    db.call(chats.set_mode, chat_id=1, mode="digest")
    assert db.call(deliveries.due_deliveries, now=utcnow(), limit=10) == []
    later = utcnow() + timedelta(seconds=1)
    assert db.call(deliveries.digest_deliveries, chat_id=1, before=later) == [event.id]
    assert [c.id for c in db.call(deliveries.chats_with_digest)] == [1]


def test_unsubscribing_from_the_last_country_stops_the_alerts(db: Database) -> None:
    add_chat(db, 1, countries=[])
    info = db.call(chats.remove_countries, chat_id=1, countries=["TJ"], default=["KZ", "TJ"])
    assert info is not None and info.countries == ("KZ",) and info.active
    info = db.call(chats.remove_countries, chat_id=1, countries=["KZ"], default=["KZ", "TJ"])
    assert info is not None and not info.active
    add_event(db)
    assert _rows(db) == {}
    info = db.call(chats.add_countries, chat_id=1, countries=["CN"], default=())
    assert info is not None and info.active and info.countries == ("CN",)
