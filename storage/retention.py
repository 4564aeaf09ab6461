"""Retention: old items and finished deliveries are deleted; events and their sources stay.

Each call deletes at most ``limit`` rows, so a first prune of a large database is many short
transactions rather than one that holds SQLite's only writer for minutes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, or_
from sqlmodel import Session, col, select

from storage.deliveries import DIGESTED, FAILED, SENT
from storage.models import Delivery, Item

FINISHED = (SENT, FAILED, DIGESTED)  # owe nobody anything any more
BATCH = 2000


def prune_items(*, session: Session, before: datetime, limit: int = BATCH) -> int:
    """Delete up to `limit` items seen and published before `before` that report no event.

    Kept: every source of an event (``event_id`` set) and items not classified yet (the
    backlog job owes them a verdict). A feed that still lists a pruned item stores it again
    as new; it is then old (never alerted) and classified as before.
    """
    doomed = (
        select(Item.id)
        .where(
            col(Item.event_id).is_(None),
            col(Item.label).is_not(None),
            col(Item.published_at) < before,  # indexed: the database narrows by it first
            col(Item.first_seen_at) < before,
        )
        .limit(limit)
    )
    ids = list(session.exec(doomed))
    if ids:
        session.execute(delete(Item).where(col(Item.id).in_(ids)))
    return len(ids)


def prune_deliveries(*, session: Session, before: datetime, limit: int = BATCH) -> int:
    """Delete up to `limit` deliveries finished (sent, failed, digested) before `before`.

    Waiting rows (pending, digest) always stay. An alert older than that is no longer edited
    when a new source joins its event, which is what its row was kept for.
    """
    finished_before = or_(
        col(Delivery.sent_at) < before,
        and_(col(Delivery.sent_at).is_(None), col(Delivery.created_at) < before),
    )
    doomed = (
        select(Delivery.id).where(col(Delivery.status).in_(FINISHED), finished_before).limit(limit)
    )
    ids = list(session.exec(doomed))
    if ids:
        session.execute(delete(Delivery).where(col(Delivery.id).in_(ids)))
    return len(ids)
