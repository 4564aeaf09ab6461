"""/filter in the outbox fan-out: a chat gets only events whose topics or reports match."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from news.topics import find_topics, report_terms
from storage import Database, chats
from storage.events import EventInfo, add_source, create_event
from storage.models import Delivery
from tests.delivery.helpers import VERDICT, add_chat, add_item


def _queued(db: Database, event: EventInfo) -> list[int]:
    with db.session() as session:
        rows = session.exec(select(Delivery.chat_id).where(Delivery.event_id == event.id)).all()
    return sorted(rows)


def _event(db: Database, key: str, report: str, *, alert: bool = True) -> EventInfo:
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
        item_id=0,
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
