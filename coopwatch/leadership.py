"""Leadership: one of the instances sharing a database leads, the others wait.

The leader long-polls Telegram (or owns the webhook), runs the feed scheduler and sends; it
holds the lease of ``storage.lease`` and renews it on a heartbeat. A waiting instance tries
to take the lease every few seconds and leads once it expires. The timings, and why a
deposed leader stops sending before anyone else starts, are in docs/design.md ("High
availability: one leader by a lease in PostgreSQL"); in short:

- the lease lasts ``LEASE_TTL`` (20 s) after each renewal, by the database's clock;
- the leader counts it from the moment it *sent* the renewal, by its own monotonic clock,
  and starts no send later than ``SEND_MARGIN`` (12 s) before that — the longest a send
  already begun may take to reach Telegram — so its last send has arrived before the lease
  can be taken;
- it renews every ``RENEW_EVERY`` (2 s), so four renewals in a row must fail before it
  stops; a waiting instance tries every ``RETRY_EVERY`` (2 s): a dead leader is replaced
  within LEASE_TTL + RETRY_EVERY, about 22 s.

SQLite is one instance (the file lock of ``storage.lease``): it takes the lease by force at
start and leads for as long as it runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage import StorageError
from storage import lease as leases
from storage.deliveries import Claimant
from storage.lease import Lease, LeaseStore
from storage.types import utcnow

log = logging.getLogger(__name__)

LEASE_TTL = 20.0
RENEW_EVERY = 2.0
# PTB's default timeouts for one request: pool 1 s + connect 5 s + write 5 s, and a second of
# slack. A send started before this margin has reached Telegram (or failed) by the lease's end.
SEND_MARGIN = 12.0
RETRY_EVERY = 2.0
CALL_TIMEOUT = 5.0  # one lease statement; the lease's connection has the same network limits

SINGLE_INSTANCE_TTL = 10 * 365 * 86400.0

LEADER, WAITING, DEPOSED, STOPPED = "leader", "waiting", "deposed", "stopped"


def instance_name() -> str:
    """How this instance is named in the lease, /stats and /health: hostname:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class LeadershipStatus:
    """What /health, /metrics and /stats say about leadership."""

    role: str  # "leader" | "waiting" | "deposed" (lost the lease) | "stopped"
    instance: str  # this instance, hostname:pid
    leader: str | None  # the lease holder as last seen (this instance when it leads)
    term: int | None  # the leader's term (the fencing token)
    since: datetime  # when this instance took the role
    single: bool  # SQLite: the only instance there can be

    @property
    def leading(self) -> bool:
        return self.role == LEADER

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "instance": self.instance,
            "leader": self.leader,
            "term": self.term,
            "since": self.since.isoformat(),
            "single_instance": self.single,
        }


class Leadership:
    """The lease of this instance: take it, renew it, say whether we may act on it."""

    def __init__(
        self,
        store: LeaseStore,
        *,
        single: bool,
        instance: str | None = None,
        on_deposed: Callable[[str], None] = lambda reason: None,
        ttl: float = LEASE_TTL,
        renew_every: float = RENEW_EVERY,
        send_margin: float = SEND_MARGIN,
        retry_every: float = RETRY_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.single = single
        self.instance = instance or instance_name()
        self.on_deposed = on_deposed
        self.ttl, self.renew_every = ttl, renew_every
        self.send_margin, self.retry_every = send_margin, retry_every
        self.clock = clock
        self.role = WAITING
        self.since = utcnow()
        self.term: int | None = None
        self.leader: str | None = None
        self.deposed_reason = ""
        self._valid_until = 0.0  # monotonic; meaningless unless role == LEADER
        self._heartbeat: asyncio.Task[None] | None = None
        self._was_failing = False

    # -- what the rest of the bot asks -----------------------------------------------------

    def is_leader(self) -> bool:
        """May this instance send now? False once its lease may be running out."""
        if self.role != LEADER:
            return False
        return self.single or self.clock() < self._valid_until

    def status(self) -> LeadershipStatus:
        return LeadershipStatus(
            role=self.role,
            instance=self.instance,
            leader=self.leader,
            term=self.term,
            since=self.since,
            single=self.single,
        )

    def claimant(self) -> Claimant:
        """How the sender claims outbox rows: with our term, fenced by the lease if shared."""
        if self.term is None:
            raise RuntimeError("claimant() before this instance leads")
        return Claimant(self.term, holder=None if self.single else self.instance)

    # -- taking the lease --------------------------------------------------------------------

    async def acquire(self) -> None:
        """Return once this instance leads; wait (trying every few seconds) while another does."""
        announced = False
        while True:
            started = self.clock()
            # SQLite: ours for as long as the process runs; the next start takes it by force.
            ttl = SINGLE_INSTANCE_TTL if self.single else self.ttl
            lease = await self._call(
                leases.try_acquire, holder=self.instance, ttl=ttl, force=self.single
            )
            if lease is not None:
                self._lead(lease, started)
                return
            holder = await self._call(leases.current_lease)
            self.leader = holder.holder if holder is not None else None
            if not announced:
                log.info(
                    "waiting: %s leads; this instance (%s) takes over if it stops",
                    self.leader or "another instance",
                    self.instance,
                )
                announced = True
            await asyncio.sleep(self.retry_every)

    def _lead(self, lease: Lease, started: float) -> None:
        self.role, self.term, self.leader = LEADER, lease.term, lease.holder
        self.since = utcnow()
        self._valid_until = started + self.ttl - self.send_margin
        log.info("leading: this instance (%s) holds the lease, term %d", self.instance, lease.term)

    def start_heartbeat(self) -> None:
        """Renew the lease in the background while leading (nothing to renew for SQLite)."""
        if self.single or self.role != LEADER or self._heartbeat is not None:
            return
        self._heartbeat = asyncio.get_running_loop().create_task(
            self._renew_until_lost(), name="lease-heartbeat"
        )

    async def _renew_until_lost(self) -> None:
        assert self.term is not None
        while True:
            started = self.clock()
            try:
                # Never wait on a hung renewal past the moment we stop leading anyway.
                lease = await self._call_once(
                    leases.renew,
                    holder=self.instance,
                    term=self.term,
                    ttl=self.ttl,
                    within=max(self._valid_until - started, 0.05),
                )
            except (StorageError, TimeoutError) as exc:
                self._failing(exc)
            else:
                if lease is None:
                    self._depose("another instance took the lease")
                    return
                self._valid_until = started + self.ttl - self.send_margin
                if self._was_failing:
                    log.info("lease renewed again (term %d)", self.term)
                self._was_failing = False
            left = self._valid_until - self.clock()
            if left <= 0:
                self._depose(
                    f"the lease could not be renewed for {self.ttl - self.send_margin:g} s"
                )
                return
            await asyncio.sleep(min(self.renew_every, left))

    def _failing(self, exc: BaseException) -> None:
        if not self._was_failing:  # once per outage, not every two seconds
            log.warning("lease: no answer from the database: %s", str(exc) or "timed out")
        self._was_failing = True

    def _depose(self, reason: str) -> None:
        self.role, self.since, self.deposed_reason = DEPOSED, utcnow(), reason
        log.error("lost leadership: %s; stopping", reason)
        self.on_deposed(reason)

    # -- stopping ----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop renewing; hand the lease over at once if we still hold it.

        Call only once this instance sends nothing more (after the sender has finished).
        """
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
            self._heartbeat = None
        was_leading = self.role == LEADER
        if self.role in (LEADER, WAITING):
            self.role, self.since = STOPPED, utcnow()
        if was_leading and self.term is not None and not self.single:
            try:
                await self._call_once(leases.release, holder=self.instance, term=self.term)
                log.info("lease released (term %d)", self.term)
            except (StorageError, TimeoutError) as exc:
                log.warning("could not release the lease (it expires by itself): %s", exc)
        self.store.close()

    # -- the database ------------------------------------------------------------------------

    async def _call_once(self, fn: Any, /, *, within: float = CALL_TIMEOUT, **kwargs: Any) -> Any:
        """One lease statement in a worker thread, given up after ``within`` s (at most 5 s)."""
        return await asyncio.wait_for(
            asyncio.to_thread(self.store.call, fn, **kwargs), min(within, CALL_TIMEOUT)
        )

    async def _call(self, fn: Any, /, **kwargs: Any) -> Any:
        """Like _call_once, for waiting: a failure is logged and read as "not now"."""
        try:
            found = await self._call_once(fn, **kwargs)
        except (StorageError, TimeoutError) as exc:
            self._failing(exc)
            return None
        self._was_failing = False
        return found
