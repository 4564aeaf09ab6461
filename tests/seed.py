"""Building chats and events for tests, through the real storage functions."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date

from sqlmodel import select

from news.records import CENTRAL_ASIA
from storage import Database, chats
from storage.events import EventInfo, Verdict, add_source, create_event, get_event_by_id
from storage.models import Feed, Item
from storage.types import utcnow

_keys = itertools.count(1)


VERDICT = Verdict(True, "visit", ("KZ", "TJ"), 0.95, "[]")


def add_chat(
    db: Database,
    chat_id: int,
    *,
    countries: Iterable[str] = CENTRAL_ASIA,
    chat_type: str | None = None,
    language: str = "en",
    mode: str = "instant",
    event_types: Iterable[str] | None = None,
) -> None:
    kind = chat_type or ("private" if chat_id > 0 else "group")
    db.call(chats.register_chat, chat_id=chat_id, chat_type=kind, language=language)
    db.call(chats.set_countries, chat_id=chat_id, countries=countries)
    if mode != "instant":
        db.call(chats.set_mode, chat_id=chat_id, mode=mode)
    if event_types is not None:
        db.call(chats.set_event_types, chat_id=chat_id, event_types=event_types)


def add_event(
    db: Database,
    *,
    countries: tuple[str, ...] = ("KZ", "TJ"),
    event_type: str = "visit",
    summary: str = "Tokayev began a two-day state visit to Dushanbe and held talks with Rahmon.",
    alert: bool = True,
    facts: dict[str, object] | None = None,
    item_id: int = 0,
) -> EventInfo:
    key = f"T{next(_keys):04d}"
    return db.call(
        create_event,
        key=key,
        event_type=event_type,
        countries=countries,
        event_date=date(2026, 11, 28),
        place="Dushanbe",
        summary=summary,
        facts=facts or {},
        evidence=summary,
        language="en",
        confidence=0.95,
        state="{}",
        item_id=item_id,
        verdict=VERDICT,
        alert=alert,
    )


def reload_event(db: Database, event_id: int) -> EventInfo:
    event = db.call(get_event_by_id, event_id=event_id)
    assert event is not None
    return event


def add_item(db: Database, number: int, *, outlet: str = "The Astana Times") -> int:
    """A stored report (feed item) that an event can take as a source."""
    with db.session() as session:
        feed = session.exec(select(Feed).where(Feed.title == outlet)).first()
        if feed is None:
            feed = Feed(url=f"https://example.org/{len(outlet)}/{outlet.replace(' ', '')}.xml")
            feed.title = outlet
            session.add(feed)
            session.flush()
        assert feed.id is not None
        item = Item(
            feed_id=feed.id,
            key=f"item-{number}",
            link=f"https://example.org/news/{number}",
            title=f"Report {number}",
            published_at=utcnow(),
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def add_event_with_source(db: Database, **kwargs: object) -> EventInfo:
    """An event whose first report is a real item (so the alert links a source)."""
    item_id = add_item(db, next(_keys))
    event = add_event(db, **kwargs)  # type: ignore[arg-type]
    with db.session() as session:
        item = session.get(Item, item_id)
        assert item is not None
        item.event_id = event.id
    return event


def add_report(db: Database, event: EventInfo, *, outlet: str = "Kabar") -> None:
    """A further outlet reports the event."""
    item_id = add_item(db, next(_keys), outlet=outlet)
    assert db.call(
        add_source, key=event.key, item_id=item_id, state="{}", verdict=VERDICT, alert=True
    )
