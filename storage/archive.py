"""The event archive as the web page, the Atom feed and the exports read it; metric figures.

Events are listed newest first (by the event's date, then by when it was stored) with every
source, loaded in one query per page rather than one per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.deliveries import DIGEST, DIGESTED, FAILED, PENDING, SENT
from storage.events import EventInfo, SourceInfo, _info
from storage.models import Delivery, Event, EventCountry, Feed, Item

DELIVERY_STATUSES = (PENDING, SENT, FAILED, DIGEST, DIGESTED)


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    """An event with every source and its topics."""

    event: EventInfo
    topics: tuple[str, ...] = ()


def event_topics(row: Event) -> tuple[str, ...]:
    """The topic keys stored on an event row ("energy,trade"), in the topic list's order.

    The one place the archive, the exports and the web page read topics from.
    """
    return tuple(topic for topic in row.topics.split(",") if topic)


def _sources_of(session: Session, event_ids: Sequence[int]) -> dict[int, list[SourceInfo]]:
    found: dict[int, list[SourceInfo]] = {event_id: [] for event_id in event_ids}
    if not event_ids:
        return found
    rows = session.exec(
        select(Item, Feed.title)
        .join(Feed, col(Feed.id) == col(Item.feed_id))
        .where(col(Item.event_id).in_(list(event_ids)))
        .order_by(col(Item.published_at), col(Item.id))
    ).all()
    for item, feed_title in rows:
        assert item.event_id is not None
        found[item.event_id].append(
            SourceInfo(
                item_id=item.id or 0,
                feed_title=feed_title or "",
                url=item.link,
                title=item.title,
                language=item.language,
                published_at=item.published_at,
            )
        )
    return found


def list_events(
    *,
    session: Session,
    country: str | None = None,
    event_type: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> list[ArchivedEvent]:
    """Events newest first, optionally one country's, one type's, dated on or after ``since``."""
    query = select(Event)
    if country is not None:
        query = query.join(EventCountry).where(EventCountry.country == country)
    if event_type is not None:
        query = query.where(Event.event_type == event_type)
    if since is not None:
        query = query.where(col(Event.event_date) >= since)
    query = query.order_by(
        col(Event.event_date).desc().nulls_last(),
        col(Event.created_at).desc(),
        col(Event.id).desc(),
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.exec(query).all()
    sources = _sources_of(session, [row.id for row in rows if row.id is not None])
    return [
        ArchivedEvent(_info(row, tuple(sources.get(row.id or 0, ()))), event_topics(row))
        for row in rows
    ]


def get_archived_event(*, session: Session, key: str) -> ArchivedEvent | None:
    """One event with every source, by key (case-insensitive)."""
    row = session.exec(select(Event).where(func.upper(Event.key) == key.upper())).first()
    if row is None or row.id is None:
        return None
    sources = _sources_of(session, [row.id])
    return ArchivedEvent(_info(row, tuple(sources[row.id])), event_topics(row))


def archive_countries(*, session: Session) -> list[str]:
    """Every country that is a party to a stored event (ISO codes, sorted)."""
    rows = session.exec(select(EventCountry.country).distinct()).all()
    return sorted(rows)


@dataclass(frozen=True, slots=True)
class ArchiveFigures:
    """Counts for /metrics, read from the database at scrape time."""

    items: int
    items_classified: int
    events: int
    events_alerted: int
    deliveries: dict[str, int]  # by status, every status in DELIVERY_STATUSES present
    feeds_enabled: int
    feeds_failing: int


def archive_figures(*, session: Session) -> ArchiveFigures:
    items = session.exec(select(func.count()).select_from(Item)).one()
    classified = session.exec(select(func.count()).where(col(Item.label).is_not(None))).one()
    events = session.exec(select(func.count()).select_from(Event)).one()
    alerted = session.exec(select(func.count()).where(col(Event.alerted).is_(True))).one()
    by_status = dict.fromkeys(DELIVERY_STATUSES, 0)
    for status, count in session.exec(
        select(Delivery.status, func.count()).group_by(col(Delivery.status))
    ).all():
        by_status[status] = count
    enabled = session.exec(select(func.count()).where(col(Feed.enabled).is_(True))).one()
    failing = session.exec(
        select(func.count())
        .where(col(Feed.enabled).is_(True))
        .where(col(Feed.consecutive_failures) > 0)
    ).one()
    return ArchiveFigures(
        items=items,
        items_classified=classified,
        events=events,
        events_alerted=alerted,
        deliveries=by_status,
        feeds_enabled=enabled,
        feeds_failing=failing,
    )
