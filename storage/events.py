"""Events, their sources and the classifier's verdicts on items."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from news.records import FeedItem
from storage.deliveries import enqueue_event
from storage.feeds import StoredItem
from storage.models import Event, EventCountry, Feed, Item
from storage.types import utcnow


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One report of an event: which outlet, which link."""

    item_id: int
    feed_title: str
    url: str | None
    title: str
    language: str | None
    published_at: datetime
    text: str = ""  # the report's text, to summarise it in its own language


@dataclass(frozen=True, slots=True)
class EventInfo:
    """An event as the commands and the sender show it."""

    id: int
    key: str
    event_type: str
    countries: tuple[str, ...]
    event_date: date | None
    place: str | None
    summary: str
    facts: dict[str, Any]
    evidence: str | None
    language: str | None
    confidence: float
    source_count: int
    alerted: bool
    created_at: datetime
    sources: tuple[SourceInfo, ...] = ()


def _split(codes: str) -> tuple[str, ...]:
    return tuple(code for code in codes.split(",") if code)


def _info(event: Event, sources: tuple[SourceInfo, ...] = ()) -> EventInfo:
    assert event.id is not None
    return EventInfo(
        id=event.id,
        key=event.key,
        event_type=event.event_type,
        countries=_split(event.countries),
        event_date=event.event_date,
        place=event.place,
        summary=event.summary,
        facts=json.loads(event.facts) if event.facts else {},
        evidence=event.evidence,
        language=event.language,
        confidence=event.confidence,
        source_count=event.source_count,
        alerted=event.alerted,
        created_at=event.created_at,
        sources=sources,
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classifier's verdict as stored on the item."""

    label: bool
    event_type: str
    countries: tuple[str, ...]
    confidence: float
    evidence: str  # JSON


def _apply(item: Item, verdict: Verdict) -> None:
    item.label = verdict.label
    item.event_type = verdict.event_type
    item.countries = ",".join(sorted(verdict.countries))
    item.confidence = verdict.confidence
    item.evidence = verdict.evidence


def save_classification(*, session: Session, item_id: int, verdict: Verdict) -> None:
    """Store a negative verdict (a positive one is stored with its event)."""
    item = session.get(Item, item_id)
    if item is not None:
        _apply(item, verdict)


def unclassified_items(*, session: Session, before: datetime, limit: int = 500) -> list[StoredItem]:
    """Items stored before ``before`` that no classification reached (the backlog).

    A poll commits its items before they are classified; if the pipeline fails or the
    process stops in between, these are picked up again instead of being lost.
    """
    rows = session.exec(
        select(Item, Feed.title)
        .join(Feed, col(Feed.id) == col(Item.feed_id))
        .where(col(Item.label).is_(None))
        .where(col(Item.first_seen_at) < before)
        .order_by(col(Item.published_at))
        .limit(limit)
    ).all()
    return [
        StoredItem(
            id=item.id or 0,
            feed_id=item.feed_id,
            feed_title=title or "",
            item=FeedItem(
                item.key, item.link, item.title, item.text, item.published_at, item.language
            ),
            published_at=item.published_at,
            alertable=item.alertable,
        )
        for item, title in rows
    ]


def recent_states(*, session: Session, since: datetime) -> list[str]:
    """The grouping states (JSON) of events created since ``since``, oldest first."""
    rows = session.exec(
        select(Event.state)
        .where(col(Event.created_at) >= since)
        .where(col(Event.state).is_not(None))
        .order_by(col(Event.created_at))
    ).all()
    return [row for row in rows if row]


def create_event(
    *,
    session: Session,
    key: str,
    event_type: str,
    countries: tuple[str, ...],
    event_date: date | None,
    place: str | None,
    summary: str,
    facts: dict[str, Any],
    evidence: str | None,
    language: str | None,
    confidence: float,
    state: str,
    item_id: int,
    verdict: Verdict,
    alert: bool,
) -> EventInfo:
    """Create an event from its first report; when ``alert``, queue its deliveries.

    The deliveries are written in this same transaction (the outbox): either the event and
    every delivery exist, or neither does.
    """
    event = Event(
        key=key,
        event_type=event_type,
        countries=",".join(sorted(countries)),
        event_date=event_date,
        place=place,
        summary=summary,
        facts=json.dumps(facts, ensure_ascii=False, default=str),
        evidence=evidence,
        language=language,
        confidence=confidence,
        state=state,
        alerted=alert,
    )
    session.add(event)
    session.flush()
    assert event.id is not None
    for code in sorted(set(countries)):
        session.add(EventCountry(event_id=event.id, country=code))
    item = session.get(Item, item_id)
    if item is not None:
        item.event_id = event.id
        _apply(item, verdict)
    session.flush()
    if alert:
        enqueue_event(session=session, event_id=event.id)
    return _info(event)


def add_source(
    *, session: Session, key: str, item_id: int, state: str, verdict: Verdict, alert: bool
) -> EventInfo | None:
    """Attach a further report to an event; alert now if it was held back and ``alert``.

    Subscribers already alerted are not alerted again: the sender edits their messages to
    the new source count instead.
    """
    event = session.exec(select(Event).where(Event.key == key)).first()
    item = session.get(Item, item_id)
    if event is None or item is None:
        return None
    item.event_id = event.id
    _apply(item, verdict)
    session.flush()
    event.source_count = session.exec(select(func.count()).where(Item.event_id == event.id)).one()
    event.state = state
    event.updated_at = utcnow()
    if alert and not event.alerted:
        # A doubtful first report held the event back; a confident second one releases it.
        event.alerted = True
        session.flush()
        assert event.id is not None
        enqueue_event(session=session, event_id=event.id)
    session.flush()
    return _info(event)


def _sources(session: Session, event_id: int) -> tuple[SourceInfo, ...]:
    rows = session.exec(
        select(Item, Feed.title)
        .join(Feed, col(Feed.id) == col(Item.feed_id))
        .where(Item.event_id == event_id)
        .order_by(col(Item.published_at))
    ).all()
    return tuple(
        SourceInfo(
            item_id=item.id or 0,
            feed_title=feed_title or "",
            url=item.link,
            title=item.title,
            language=item.language,
            published_at=item.published_at,
            text=item.text,
        )
        for item, feed_title in rows
    )


def _with_sources(session: Session, event: Event) -> EventInfo:
    # A page holds five events: five more queries, so a reader sees each summary in their
    # language (bot.eventviews picks it from the sources).
    return _info(event, _sources(session, event.id) if event.id is not None else ())


def get_event(*, session: Session, key: str) -> EventInfo | None:
    """An event with all its sources, by key (case-insensitive)."""
    event = session.exec(select(Event).where(func.upper(Event.key) == key.upper())).first()
    if event is None or event.id is None:
        return None
    return _info(event, _sources(session, event.id))


def find_events(*, session: Session, ref: str, limit: int = 5) -> list[EventInfo]:
    """What `/event REF` names, newest first: the short id ("42", "#42"), a full key
    ("KZ-TJ-2021-05-19-visit", as older alerts and `coopwatch group` print it), or a key
    without its type suffix ("KZ-TJ-2021-05-19", the form the old usage text promised),
    which may name several events."""
    ref = ref.strip().removeprefix("#")
    if ref.isdigit():
        found = get_event_by_id(session=session, event_id=int(ref)) if len(ref) < 19 else None
        return [found] if found else []
    exact = get_event(session=session, key=ref)
    if exact is not None:
        return [exact]
    # Keys are [A-Za-z0-9-] only (news.grouping.make_key; handlers check the argument), so
    # the pattern needs no escaping.
    rows = session.exec(
        _newest_first(select(Event).where(func.upper(Event.key).like(ref.upper() + "-%"))).limit(
            limit
        )
    ).all()
    return [_info(event, _sources(session, event.id)) for event in rows if event.id is not None]


def event_exists(*, session: Session, key: str) -> bool:
    return session.exec(select(Event.id).where(Event.key == key)).first() is not None


def get_event_by_id(*, session: Session, event_id: int) -> EventInfo | None:
    event = session.get(Event, event_id)
    if event is None or event.id is None:
        return None
    return _info(event, _sources(session, event.id))


def _newest_first(query: Any) -> Any:
    return query.order_by(col(Event.event_date).desc(), col(Event.created_at).desc())


def events_for_country(
    *, session: Session, country: str, offset: int = 0, limit: int = 5
) -> tuple[list[EventInfo], int]:
    """Events involving ``country``, newest first, and how many there are in all."""
    base = select(Event).join(EventCountry).where(EventCountry.country == country)
    total = session.exec(
        select(func.count()).select_from(EventCountry).where(EventCountry.country == country)
    ).one()
    rows = session.exec(_newest_first(base).offset(offset).limit(limit)).all()
    return [_with_sources(session, event) for event in rows], total


def latest_events(
    *, session: Session, offset: int = 0, limit: int = 5
) -> tuple[list[EventInfo], int]:
    total = session.exec(select(func.count()).select_from(Event)).one()
    rows = session.exec(
        select(Event).order_by(col(Event.created_at).desc()).offset(offset).limit(limit)
    ).all()
    return [_with_sources(session, event) for event in rows], total


def count_events_since(*, session: Session, since: datetime) -> int:
    return session.exec(select(func.count()).where(col(Event.created_at) >= since)).one()
