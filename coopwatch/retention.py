"""Retention: delete old items and finished deliveries (the bot runs it every 6 hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import Database
from storage.retention import prune_deliveries, prune_items


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows one retention run deleted."""

    items: int
    deliveries: int


async def prune_old_rows(db: Database, *, days: float, now: datetime) -> Pruned:
    """Delete items and finished deliveries older than `days`, batch by batch."""
    before = now - timedelta(days=days)
    totals = []
    for prune in (prune_items, prune_deliveries):
        total = 0
        while deleted := await db.run(prune, before=before):
            total += deleted
        totals.append(total)
    return Pruned(items=totals[0], deliveries=totals[1])
