"""The event archive as the web page, the Atom feed and the exports read it; metric figures.

Events are listed newest first (by the event's day, then by when it was stored) with every
source, loaded for all the listed events at once rather than one query per event; the query
is storage.eventlist's, on SQLAlchemy Core, which `coopwatch export` runs without a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage import eventlist
from storage.deliveries import DIGEST, DIGESTED, FAILED, PENDING, SENT
from storage.models import Delivery, Event, EventCountry, Feed, Item
from storage.records import EventInfo

DELIVERY_STATUSES = (PENDING, SENT, FAILED, DIGEST, DIGESTED)


def list_events(
    session: Session,
    /,
    *,
    country: str | None = None,
    event_type: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> list[EventInfo]:
    """Events newest first with every source (storage.eventlist.list_events, in the
    session's transaction)."""
    session.flush()  # Core statements do not flush the session's pending changes themselves
    return eventlist.list_events(
        session.connection(), country=country, event_type=event_type, since=since, limit=limit
    )


def count_events(session: Session, /, *, country: str | None = None) -> int:
    """How many events there are (involving ``country``, if given)."""
    query = select(func.count()).select_from(Event)
    if country is not None:
        query = (
            select(func.count()).select_from(EventCountry).where(EventCountry.country == country)
        )
    return session.exec(query).one()


def archive_countries(session: Session, /) -> list[str]:
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


def archive_figures(session: Session, /) -> ArchiveFigures:
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
