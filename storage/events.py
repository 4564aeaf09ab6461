"""Events, their sources and the classifier's verdicts on items."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from news.records import FeedItem
from news.topics import merge_topics
from storage import eventlist
from storage.db import UPDATE_BATCH, forget_loaded, update_by_id
from storage.deliveries import Fanout, enqueue
from storage.feeds import StoredItem
from storage.models import Event, EventCountry, Feed, Item
from storage.records import EventInfo, SourceInfo, event_info, split_codes
from storage.types import utcnow


def _info(event: Event, sources: tuple[SourceInfo, ...] = ()) -> EventInfo:
    assert event.id is not None
    return EventInfo(
        id=event.id,
        key=event.key,
        event_type=event.event_type,
        countries=split_codes(event.countries),
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
        topics=split_codes(event.topics),
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classifier's verdict as stored on the item."""

    label: bool
    event_type: str
    countries: tuple[str, ...]
    confidence: float
    evidence: str  # JSON


def save_classifications(session: Session, verdicts: Sequence[tuple[int, Verdict]], /) -> None:
    """Store negative verdicts (a positive one is stored with its event), all in the caller's
    transaction; an item that is gone (pruned meanwhile) is skipped."""
    update_by_id(
        session.connection(),
        Item.__table__,  # type: ignore[attr-defined]
        [
            {
                "id": item_id,
                "label": v.label,
                "event_type": v.event_type,
                "countries": ",".join(sorted(v.countries)),
                "confidence": v.confidence,
                "evidence": v.evidence,
            }
            for item_id, v in verdicts
        ],
    )


def classified_among(session: Session, item_ids: Sequence[int], /) -> set[int]:
    """Which of ``item_ids`` already have a verdict (another batch took them meanwhile)."""
    found: set[int] = set()
    for start in range(0, len(item_ids), UPDATE_BATCH):  # a statement's parameters are few
        chunk = list(item_ids[start : start + UPDATE_BATCH])
        found.update(
            session.execute(
                sa_select(col(Item.id)).where(col(Item.id).in_(chunk), col(Item.label).is_not(None))
            ).scalars()
        )
    return found


def unclassified_items(
    session: Session, /, *, before: datetime, limit: int = 500
) -> list[StoredItem]:
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


def recent_states(session: Session, /, *, since: datetime) -> list[str]:
    """The grouping states (JSON) of events created since ``since``, oldest first."""
    rows = session.exec(
        select(Event.state)
        .where(col(Event.created_at) >= since)
        .where(col(Event.state).is_not(None))
        .order_by(col(Event.created_at))
    ).all()
    return [row for row in rows if row]


def create_event(
    session: Session,
    /,
    *,
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
    topics: tuple[str, ...] = (),
    terms: frozenset[str] = frozenset(),
) -> EventInfo:
    """Create an event from its first report; when ``alert``, queue its deliveries.

    The deliveries are written in this same transaction (the outbox): either the event and
    every delivery exist, or neither does. ``topics`` and ``terms`` (the report's topics and
    word keys, news.topics) decide which chats with a /filter get it.
    """
    event: dict[str, Any] = {
        "key": key,
        "event_type": event_type,
        "countries": ",".join(sorted(countries)),
        "event_date": event_date,
        "place": place,
        "summary": summary,
        "facts": json.dumps(facts, ensure_ascii=False, default=str),
        "evidence": evidence,
        "language": language,
        "confidence": confidence,
        "state": state,
        "source_count": 1,
        "alerted": alert,
        "created_at": utcnow(),
        "updated_at": utcnow(),
        "topics": ",".join(merge_topics(topics)),
    }
    connection = session.connection()
    event["id"] = event_id = connection.execute(_INSERT_EVENT, event).scalar_one()
    parties = [{"event_id": event_id, "country": code} for code in sorted(set(countries))]
    if parties:  # an empty executemany would insert one row of NULLs
        connection.execute(_INSERT_COUNTRY, parties)
    _attach(session, item_id, event_id, verdict)  # a report pruned meanwhile: no source yet
    if alert:
        fanout = Fanout(event_id, event["event_type"], event["countries"], event["topics"])
        enqueue(session, fanout, terms=terms)
    return event_info(event)


def add_source(
    session: Session,
    /,
    *,
    key: str,
    item_id: int,
    state: str,
    verdict: Verdict,
    alert: bool,
    span: tuple[date, date] | None = None,
    topics: tuple[str, ...] = (),
    terms: frozenset[str] = frozenset(),
    merge_facts: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    place: str | None = None,
) -> EventInfo | None:
    """Attach a further report to an event; alert now if it was held back and ``alert``.

    ``merge_facts``: given the event's stored facts, returns them with this report's merged
    in (the caller knows how; reading and writing them here saves a transaction per join);
    ``place``: this report's place, stored when the event had none.

    Subscribers already alerted are not alerted again: the sender edits their messages to
    the new source count instead. ``span``: the event's days as the reports now state them
    (an arrival report, then a recap naming the dates), shown by `/event` and the export.
    The report's ``topics`` join the event's; a chat whose
    /filter held the event back gets it when this report, one that may alert, mentions one
    of its words.
    """
    found = session.connection().execute(_JOINED_EVENT, {"key": key}).first()
    if found is None:
        return None
    event = found._asdict()
    event_id = event["id"]
    if not _attach(session, item_id, event_id, verdict):
        return None
    changed: dict[str, Any] = {"state": state, "updated_at": utcnow()}
    facts = event["facts"]
    if merge_facts is not None:
        stored = json.loads(facts) if facts else {}
        facts = json.dumps(merge_facts(stored), ensure_ascii=False, default=str)
    if place and not event["place"]:
        changed["place"] = place
    if span is not None:
        stated = json.loads(facts) if facts else {}
        end = span[1].isoformat() if span[1] > span[0] else None
        changed["event_date"] = span[0]
        facts = json.dumps(stated | {"event_date": span[0].isoformat(), "event_end": end})
    changed["facts"] = facts
    changed["topics"] = ",".join(merge_topics(split_codes(event["topics"]), topics))
    release = alert and not event["alerted"]
    if release:
        changed["alerted"] = True
    # Only what changed is written, as the ORM's flush did.
    changed = {name: value for name, value in changed.items() if value != event.get(name)}
    source_count = (
        session.connection()
        .execute(_event_update(tuple(changed)), {"event_id": event_id, **changed})
        .scalar_one()
    )
    forget_loaded(session, Event, event_id)
    event |= changed
    event["source_count"] = source_count
    fanout = Fanout(event_id, event["event_type"], event["countries"], event["topics"])
    if release:
        # A doubtful first report held the event back; a confident second one releases it,
        # and a /filter word in any of its reports, the held-back ones included, counts.
        enqueue(session, fanout, terms=terms, all_reports=True)
    elif event["alerted"] and alert and terms:
        # Only a report that may alert releases: a doubtful one, or one older than
        # MAX_ITEM_AGE, is stored and listed but pushes nothing, to filtered chats neither.
        enqueue(session, fanout, terms=terms, only_filtered=True)
    return event_info(event)


# An event's first report and its joins in Core statements built once (the ORM's loads,
# flushes and statement building cost ≈ 5 ms per join, bench/store.py): for a join, the event
# without its grouping state, which the join replaces; the report attached with its verdict;
# the event updated with its new count.
_EVENTS = Event.__table__  # type: ignore[attr-defined]
_ITEMS = Item.__table__  # type: ignore[attr-defined]
_JOINED_EVENT = sa_select(*(column for column in _EVENTS.c if column.name != "state")).where(
    _EVENTS.c.key == bindparam("key")
)
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)
_INSERT_COUNTRY = insert(EventCountry.__table__)  # type: ignore[attr-defined]
_ATTACH = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("item_id"))
    .values(
        event_id=bindparam("event_id"),
        label=bindparam("label"),
        event_type=bindparam("event_type"),
        countries=bindparam("countries"),
        confidence=bindparam("confidence"),
        evidence=bindparam("evidence"),
    )
    .returning(_ITEMS.c.id)
)


def _attach(session: Session, item_id: int, event_id: int | None, verdict: Verdict) -> bool:
    """Make the item a report of the event, with its verdict; False when the item is gone."""
    attached = (
        session.connection()
        .execute(
            _ATTACH,
            {
                "item_id": item_id,
                "event_id": event_id,
                "label": verdict.label,
                "event_type": verdict.event_type,
                "countries": ",".join(sorted(verdict.countries)),
                "confidence": verdict.confidence,
                "evidence": verdict.evidence,
            },
        )
        .first()
    )
    forget_loaded(session, Item, item_id)
    return attached is not None


@functools.cache
def _event_update(columns: tuple[str, ...]) -> Any:
    """UPDATE event SET <columns>, source_count = its reports WHERE id = :event_id."""
    reports = (
        sa_select(func.count())
        .select_from(_ITEMS)
        .where(_ITEMS.c.event_id == bindparam("event_id"))
        .scalar_subquery()
    )
    return (
        update(_EVENTS)
        .where(_EVENTS.c.id == bindparam("event_id"))
        .values({**{name: bindparam(name) for name in columns}, "source_count": reports})
        .returning(_EVENTS.c.source_count)
    )


def sources_of(
    session: Session, /, event_ids: Sequence[int], *, with_text: bool = False
) -> dict[int, tuple[SourceInfo, ...]]:
    """Every report of each event, oldest first (storage.eventlist.sources_of, in the
    session's transaction)."""
    session.flush()  # Core statements do not flush the session's pending changes themselves
    return eventlist.sources_of(session.connection(), event_ids, with_text=with_text)


def _sources(session: Session, event_id: int) -> tuple[SourceInfo, ...]:
    return sources_of(session, [event_id], with_text=True)[event_id]


def _with_sources(session: Session, event: Event) -> EventInfo:
    # A page holds five events: five more queries, so a reader sees each summary in their
    # language (bot.eventviews picks it from the sources).
    return _info(event, _sources(session, event.id) if event.id is not None else ())


def get_event(session: Session, /, *, key: str) -> EventInfo | None:
    """An event with all its sources, by key (case-insensitive)."""
    event = session.exec(select(Event).where(func.upper(Event.key) == key.upper())).first()
    if event is None or event.id is None:
        return None
    return _info(event, _sources(session, event.id))


def find_events(session: Session, /, *, ref: str, limit: int = 5) -> list[EventInfo]:
    """What `/event REF` names, newest first: the short id ("42", "#42"), a full key
    ("KZ-TJ-2021-05-19-visit", as older alerts and `coopwatch group` print it), or a key
    without its type suffix ("KZ-TJ-2021-05-19", the form the old usage text promised),
    which may name several events."""
    ref = ref.strip().removeprefix("#")
    if ref.isdigit():
        found = get_event_by_id(session, event_id=int(ref)) if len(ref) < 19 else None
        return [found] if found else []
    exact = get_event(session, key=ref)
    if exact is not None:
        return [exact]
    # Keys are [A-Za-z0-9-] only (news.grouping.make_key; handlers check the argument), so
    # the pattern needs no escaping.
    rows = session.exec(
        newest_first(select(Event).where(func.upper(Event.key).like(ref.upper() + "-%"))).limit(
            limit
        )
    ).all()
    return [_info(event, _sources(session, event.id)) for event in rows if event.id is not None]


def event_exists(session: Session, /, *, key: str) -> bool:
    return session.exec(select(Event.id).where(Event.key == key)).first() is not None


def get_event_by_id(session: Session, /, *, event_id: int) -> EventInfo | None:
    event = session.get(Event, event_id)
    if event is None or event.id is None:
        return None
    return _info(event, _sources(session, event.id))


def event_day() -> Any:
    """An event's day in SQL (storage.eventlist.event_day), in a query on the ORM's table."""
    return eventlist.event_day(_EVENTS)


def newest_first(query: Any) -> Any:
    """Newest first (storage.eventlist.newest_first), in a query on the ORM's table."""
    return eventlist.newest_first(query, _EVENTS)


def events_for_country(
    session: Session, /, *, country: str, offset: int = 0, limit: int = 5
) -> tuple[list[EventInfo], int]:
    """Events involving ``country``, newest first, and how many there are in all."""
    base = select(Event).join(EventCountry).where(EventCountry.country == country)
    total = session.exec(
        select(func.count()).select_from(EventCountry).where(EventCountry.country == country)
    ).one()
    rows = session.exec(newest_first(base).offset(offset).limit(limit)).all()
    return [_with_sources(session, event) for event in rows], total


def latest_events(
    session: Session, /, *, offset: int = 0, limit: int = 5
) -> tuple[list[EventInfo], int]:
    total = session.exec(select(func.count()).select_from(Event)).one()
    rows = session.exec(
        select(Event).order_by(col(Event.created_at).desc()).offset(offset).limit(limit)
    ).all()
    return [_with_sources(session, event) for event in rows], total


def count_events_since(session: Session, /, *, since: datetime) -> int:
    return session.exec(select(func.count()).where(col(Event.created_at) >= since)).one()


def event_dates(
    session: Session, /, *, since: date, until: date, country: str | None = None
) -> list[tuple[date, tuple[str, ...]]]:
    """(day, parties) of events dated ``since``..``until`` (inclusive), for /trends.

    An event's day is its own date, else the day it was stored.
    """
    # Three columns, not whole rows: the grouping state of a year's events is large.
    query = select(col(Event.event_date), col(Event.created_at), col(Event.countries))
    if country is not None:
        query = query.join(EventCountry).where(EventCountry.country == country)
    # Events without a date are few; they are selected by the stored time and checked below.
    query = query.where(
        (col(Event.event_date).is_(None) & (col(Event.created_at) >= _midnight(since)))
        | ((col(Event.event_date) >= since) & (col(Event.event_date) <= until))
    )
    found = []
    for event_date, created_at, countries in session.exec(query).all():
        day = event_date or created_at.date()
        if since <= day <= until:
            found.append((day, split_codes(countries)))
    return found


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
