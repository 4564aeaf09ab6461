"""/filter in the outbox fan-out: a chat gets only events whose topics or reports match."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, literal
from sqlmodel import select

from news.topics import find_topics, report_terms
from storage import Database, chats, deliveries
from storage.events import EventInfo, add_source, create_event
from storage.models import Chat, Delivery, Item
from storage.types import UTCDateTime, utcnow
from tests.seed import VERDICT, add_chat, add_item


def _queued(db: Database, event: EventInfo) -> list[int]:
    with db.session() as session:
        rows = session.exec(select(Delivery.chat_id).where(Delivery.event_id == event.id)).all()
    return sorted(rows)


def _event(
    db: Database, key: str, report: str, *, alert: bool = True, item_id: int = 0
) -> EventInfo:
    return db.call(
        create_event,
        key=key,
        event_type="meeting",
        countries=("TJ", "UZ"),
        event_date=date(2026, 11, 20),
        place=None,
        summary=report,
        facts={},
        evidence=report,
        language="en",
        confidence=0.9,
        state="{}",
        item_id=item_id,
        verdict=VERDICT,
        alert=alert,
        topics=find_topics(report),
        terms=report_terms(report),
    )


def test_a_filtered_chat_gets_only_matching_events(db: Database) -> None:
    add_chat(db, 1)  # no filter: everything
    add_chat(db, 2)
    db.call(chats.set_filter, chat_id=2, words=("хлопок",))
    add_chat(db, 3)
    db.call(chats.set_filter, chat_id=3, words=("energy",))  # a topic name

    cotton = _event(db, "F1", "Министры обсудили экспорт хлопка из Узбекистана.")
    gas = _event(db, "F2", "The ministers discussed gas supplies to Tajikistan.")
    neither = _event(db, "F3", "The presidents talked about their historic friendship.")

    assert _queued(db, cotton) == [1, 2]
    assert _queued(db, gas) == [1, 3]
    assert _queued(db, neither) == [1]
    assert gas.topics == ("energy",)


def test_clearing_the_filter_pushes_everything_again(db: Database) -> None:
    add_chat(db, 1)
    info = db.call(chats.set_filter, chat_id=1, words=("gas", "нефть"))
    assert info is not None and info.filter_words == ("gas", "нефть")
    cleared = db.call(chats.set_filter, chat_id=1, words=())
    assert cleared is not None and cleared.filter_words == ()
    assert _queued(db, _event(db, "F4", "Talks on friendship.")) == [1]


def test_a_later_report_with_the_word_releases_the_event_to_the_filtered_chat(
    db: Database,
) -> None:
    add_chat(db, 1)
    add_chat(db, 2)
    db.call(chats.set_filter, chat_id=2, words=("railway",))
    event = _event(db, "F5", "The foreign ministers of Tajikistan and Uzbekistan met in Tashkent.")
    assert _queued(db, event) == [1]
    add_chat(db, 3)  # came later, no filter: a joining report does not push an old event to it

    report = "Ministers agreed to build a railway between Dushanbe and Termez."
    joined = db.call(
        add_source,
        key=event.key,
        item_id=add_item(db, 501),
        state="{}",
        verdict=VERDICT,
        alert=True,
        topics=find_topics(report),
        terms=report_terms(report),
    )
    assert joined is not None and joined.topics == ("transport",)
    assert _queued(db, event) == [1, 2]


def test_an_inactive_filtered_chat_gets_nothing(db: Database) -> None:
    add_chat(db, 1)
    db.call(chats.set_filter, chat_id=1, words=("gas",))
    db.call(chats.deactivate_chat, chat_id=1, reason="blocked")
    assert _queued(db, _event(db, "F6", "Gas supplies were discussed.")) == []


def test_a_group_that_becomes_a_supergroup_keeps_its_filter(db: Database) -> None:
    add_chat(db, -100)
    db.call(chats.set_filter, chat_id=-100, words=("gas", "нефть"))

    db.call(deliveries.move_chat, old_id=-100, new_id=-1001234)

    moved = db.call(chats.get_chat, chat_id=-1001234)
    assert moved is not None and moved.filter_words == ("gas", "нефть")
    # ... and the fan-out applies it there: an event on friendship only is held back.
    assert _queued(db, _event(db, "F7", "Talks on friendship.")) == []
    assert _queued(db, _event(db, "F8", "Gas supplies were discussed.")) == [-1001234]


def test_an_event_held_back_then_released_is_checked_against_every_report(
    db: Database,
) -> None:
    add_chat(db, 1)
    add_chat(db, 2)
    db.call(chats.set_filter, chat_id=2, words=("samarkand",))
    doubtful = "Doubtful: Tajik and Uzbek ministers may have met in Samarkand."
    with db.session() as session:
        first = session.get(Item, add_item(db, 502))
        assert first is not None
        first.title, first.text = "Ministers met?", doubtful
    event = _event(db, "F9", doubtful, alert=False, item_id=first.id)
    assert _queued(db, event) == []

    confident = "The foreign ministers of Tajikistan and Uzbekistan held talks."
    db.call(
        add_source,
        key=event.key,
        item_id=add_item(db, 503),
        state="{}",
        verdict=VERDICT,
        alert=True,
        topics=find_topics(confident),
        terms=report_terms(confident),
    )

    # The first report named Samarkand: released, the event reaches the filtered chat too.
    assert _queued(db, event) == [1, 2]


def test_a_report_that_may_not_alert_does_not_release_the_event_to_a_filtered_chat(
    db: Database,
) -> None:
    add_chat(db, 1)
    add_chat(db, 2)
    db.call(chats.set_filter, chat_id=2, words=("railway",))
    event = _event(db, "F10", "The foreign ministers of Tajikistan and Uzbekistan met.")
    report = "Ministers may have discussed a railway between Dushanbe and Termez."

    def join(number: int, *, alert: bool) -> None:
        db.call(
            add_source,
            key=event.key,
            item_id=add_item(db, number),
            state="{}",
            verdict=VERDICT,
            alert=alert,
            topics=find_topics(report),
            terms=report_terms(report),
        )

    # A doubtful report, or one older than MAX_ITEM_AGE, is stored but pushes nothing.
    join(504, alert=False)
    assert _queued(db, event) == [1]
    join(505, alert=True)
    assert _queued(db, event) == [1, 2]


def _filtered_chats(db: Database, count: int, words: str) -> None:
    """``count`` private chats (ids 1..count) with a /filter, in one statement."""
    numbers = select(literal(1).label("n")).cte("numbers", recursive=True)
    numbers = numbers.union_all(select(numbers.c.n + 1).where(numbers.c.n < count))
    now = utcnow()
    rows = select(
        numbers.c.n,
        literal("private"),
        literal("en"),
        literal(True),
        literal("instant"),
        literal(9),
        literal("Asia/Almaty"),
        literal("visit,meeting,call,agreement"),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
        literal(words),
    )
    columns = [
        "id",
        "type",
        "language",
        "active",
        "mode",
        "digest_hour",
        "timezone",
        "event_types",
        "created_at",
        "updated_at",
        "filter_words",
    ]
    with db.session() as session:
        session.execute(insert(Chat).from_select(columns, rows))


@pytest.mark.slow
def test_more_filtered_chats_than_a_statement_takes_parameters_all_get_the_event(
    db: Database,
) -> None:
    # PostgreSQL takes at most 65,535 parameters in a statement: one per chat id did not fit.
    _filtered_chats(db, 66_000, "gas")
    add_chat(db, -1, countries=["KG"])
    db.call(chats.set_filter, chat_id=-1, words=("gas",))  # follows another state

    event = _event(db, "F11", "Gas supplies were discussed.")

    with db.session() as session:
        queued = session.exec(
            select(func.count(), func.min(Delivery.chat_id)).where(Delivery.event_id == event.id)
        ).one()
    assert tuple(queued) == (66_000, 1)
