"""The audit log of admin actions, and the figures /stats shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import AuditEntry, Chat, Event, Feed


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    user_id: int | None
    source: str
    action: str
    detail: str


def record(
    session: Session, /, *, action: str, detail: str, user_id: int | None, source: str = "telegram"
) -> None:
    session.add(AuditEntry(action=action, detail=detail[:1000], user_id=user_id, source=source))


def recent(session: Session, /, *, limit: int = 20) -> list[AuditRecord]:
    rows = session.exec(
        select(AuditEntry)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    ).all()
    return [AuditRecord(r.at, r.user_id, r.source, r.action, r.detail) for r in rows]


@dataclass(frozen=True, slots=True)
class Figures:
    """What /stats shows (deliveries come from storage.deliveries.delivery_stats)."""

    subscribers: int
    events_today: int
    events_week: int
    feeds_ok: int
    feeds_failing: int
    feeds_disabled: int


def figures(session: Session, /, *, now: datetime) -> Figures:
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def events_since(moment: datetime) -> int:
        return session.exec(select(func.count()).where(col(Event.created_at) >= moment)).one()

    feeds = session.exec(select(Feed.enabled, Feed.consecutive_failures)).all()
    return Figures(
        subscribers=session.exec(select(func.count()).where(col(Chat.active))).one(),
        events_today=events_since(day_start),
        events_week=events_since(now - timedelta(days=7)),
        feeds_ok=sum(1 for enabled, failures in feeds if enabled and not failures),
        feeds_failing=sum(1 for enabled, failures in feeds if enabled and failures),
        feeds_disabled=sum(1 for enabled, _ in feeds if not enabled),
    )
