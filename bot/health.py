"""``GET /health``: is the scheduler running and the database answering?

The checks only; the web server (bot/web) serves them. The answer is 200 with
``"status": "ok"`` or 503 with ``"status": "degraded"``, so a container or load-balancer probe
can use the status alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.context import BotApplication
from bot.jobs import POLL_TICK_SECONDS
from coopwatch.leadership import LeadershipStatus
from storage import Database, StorageError

log = logging.getLogger(__name__)

DATABASE_TIMEOUT = 2.0
# Ticks the scheduler may miss before it counts as stuck (a poll run may take a while).
STALE_TICKS = 3

HealthCheck = Callable[[], Awaitable["HealthReport"]]


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One answer of /health."""

    checked_at: datetime
    scheduler_ok: bool
    last_poll_at: datetime | None
    database_ok: bool
    database_error: str | None = None
    # Whether this instance leads or waits (coopwatch/leadership.py); a waiting instance is
    # healthy: it runs no scheduler, by design.
    leadership: LeadershipStatus | None = None

    @property
    def ok(self) -> bool:
        return self.scheduler_ok and self.database_ok

    def to_json(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "degraded",
            "checked_at": self.checked_at.isoformat(),
            "scheduler": {
                "ok": self.scheduler_ok,
                "last_run_at": self.last_poll_at.isoformat() if self.last_poll_at else None,
            },
            "database": {"ok": self.database_ok, "error": self.database_error},
            "leadership": self.leadership.to_json() if self.leadership else None,
        }


def scheduler_is_fresh(
    last_run_at: datetime | None, *, started_at: datetime, now: datetime, max_age: timedelta
) -> bool:
    """Has a poll run completed recently enough? Before the first one, the start counts."""
    return now - (last_run_at or started_at) <= max_age


def max_poll_age(poll_interval: float) -> timedelta:
    """How old the last completed poll run may be before the scheduler counts as stuck."""
    return timedelta(seconds=STALE_TICKS * POLL_TICK_SECONDS + poll_interval)


class DatabaseProbe:
    """``SELECT 1`` in a worker thread with a deadline.

    At most one ping is in flight: against a hung database, each probe request would
    otherwise leave one more thread blocked in the driver.
    """

    def __init__(self, db: Database, *, timeout: float = DATABASE_TIMEOUT) -> None:
        self.db = db
        self.timeout = timeout
        self._pending: asyncio.Future[None] | None = None
        self._was_ok = True

    async def check(self) -> str | None:
        """None when the database answered, else a short reason (details go to the log)."""
        if self._pending is None or self._pending.done():
            self._pending = asyncio.ensure_future(asyncio.to_thread(self.db.ping))
            # A ping that ends after its caller gave up must not warn "never retrieved".
            self._pending.add_done_callback(_retrieve)
        try:
            await asyncio.wait_for(asyncio.shield(self._pending), self.timeout)
        except TimeoutError:
            return self._failed(f"no answer within {self.timeout:g} s", None)
        except StorageError as exc:
            return self._failed("unreachable", exc)
        if not self._was_ok:
            log.info("health: the database answers again")
        self._was_ok = True
        return None

    def _failed(self, reason: str, exc: Exception | None) -> str:
        # Logged once per outage, not once per probe request.
        if self._was_ok:
            log.warning("health: database %s%s", reason, f": {exc}" if exc else "")
        self._was_ok = False
        return reason


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


def application_check(app: BotApplication, *, started_at: datetime) -> HealthCheck:
    """The check of a running Application: its poll job's last run and its database."""
    coopwatch = app.bot_data.opened()
    probe = DatabaseProbe(coopwatch.db)
    max_age = max_poll_age(coopwatch.settings.poll_interval)

    async def check() -> HealthReport:
        now = datetime.now(UTC)
        last_run = app.bot_data.last_poll_ok_at
        database_error = await probe.check()
        leadership = app.bot_data.leadership
        status = leadership.status() if leadership is not None else None
        # The scheduler runs only on the leader, from the moment it took the lead.
        scheduler_ok = status is not None and not status.leading
        if not scheduler_ok:
            since = max(started_at, status.since) if status is not None else started_at
            scheduler_ok = scheduler_is_fresh(last_run, started_at=since, now=now, max_age=max_age)
        return HealthReport(
            checked_at=now,
            scheduler_ok=scheduler_ok,
            last_poll_at=last_run,
            database_ok=database_error is None,
            database_error=database_error,
            leadership=status,
        )

    return check
