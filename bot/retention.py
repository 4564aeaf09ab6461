"""The retention job: delete old items and finished deliveries on a schedule (JobQueue)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from telegram.ext import ContextTypes

from bot.services import services
from storage import Database
from storage.retention import prune_deliveries, prune_items

log = logging.getLogger(__name__)

RETENTION_TICK_SECONDS = 6 * 3600.0  # a day's growth is small; four looks a day keep it flat
RETENTION_FIRST_SECONDS = 300.0  # not in the busy first minutes after a start


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


async def retention_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The scheduled run; RETENTION_DAYS=0 keeps everything."""
    svc = services(context)
    days = svc.settings.retention_days
    if days <= 0:
        return
    try:
        pruned = await prune_old_rows(svc.db, days=days, now=svc.poller.clock())
    except Exception:
        log.exception("pruning old rows failed; it is tried again at the next run")
        return
    if pruned.items or pruned.deliveries:
        log.info(
            "pruned old rows",
            extra={"items": pruned.items, "deliveries": pruned.deliveries, "days": days},
        )
