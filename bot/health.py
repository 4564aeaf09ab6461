"""``GET /health``: is the scheduler running and the database answering?

A small asyncio HTTP server of our own rather than a web framework: one route, and every
limit that keeps it from being tied up (request size, read and write deadlines, concurrent
connections) is in plain sight. It answers 200 with ``"status": "ok"`` or 503 with
``"status": "degraded"``, so a container or load-balancer probe can use the status alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram.ext import Application

from bot.jobs import LAST_POLL_KEY, POLL_TICK_SECONDS
from bot.leadership import LEADERSHIP_KEY, Leadership, LeadershipStatus
from bot.services import SERVICES_KEY, Services
from storage import Database, StorageError

log = logging.getLogger(__name__)

HEALTH_KEY = "health_server"  # bot_data key of the running HealthServer
MAX_REQUEST_BYTES = 8192  # request line and headers; a probe sends a few hundred
READ_TIMEOUT = 5.0  # for the whole request head: a client dribbling bytes is cut off
WRITE_TIMEOUT = 5.0  # a client that never reads its answer is cut off too
DATABASE_TIMEOUT = 2.0
MAX_CONNECTIONS = 32
# Ticks the scheduler may miss before it counts as stuck (a poll run may take a while).
STALE_TICKS = 3

HealthCheck = Callable[[], Awaitable["HealthReport"]]


class HealthError(Exception):
    """The health server could not start (e.g. its port is taken)."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One answer of /health."""

    checked_at: datetime
    scheduler_ok: bool
    last_poll_at: datetime | None
    database_ok: bool
    database_error: str | None = None
    # Whether this instance leads or waits (bot/leadership.py); a waiting instance is
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


def application_check(
    app: Application[Any, Any, Any, Any, Any, Any], *, started_at: datetime
) -> HealthCheck:
    """The check of a running Application: its poll job's last run and its database."""
    services: Services = app.bot_data[SERVICES_KEY]
    probe = DatabaseProbe(services.db)
    max_age = max_poll_age(services.settings.poll_interval)

    async def check() -> HealthReport:
        now = datetime.now(UTC)
        last_run: datetime | None = app.bot_data.get(LAST_POLL_KEY)
        database_error = await probe.check()
        leadership: Leadership | None = app.bot_data.get(LEADERSHIP_KEY)
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


class HealthServer:
    """Serves ``GET /health`` on host:port; everything else is 404. One request per connection."""

    def __init__(
        self,
        check: HealthCheck,
        *,
        host: str,
        port: int,
        read_timeout: float = READ_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.check = check
        self.host = host
        self.requested_port = port
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        """The port listened on (the real one when 0 was asked for)."""
        if self._server is None or not self._server.sockets:
            return self.requested_port
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.requested_port, limit=MAX_REQUEST_BYTES
            )
        except OSError as exc:
            raise HealthError(
                f"cannot serve /health on {self.host}:{self.requested_port} ({exc.strerror}); "
                "set HEALTH_PORT to a free port"
            ) from exc
        log.info("health endpoint at http://%s:%d/health", self.host, self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None or len(self._connections) >= self.max_connections:
            writer.close()
            return
        self._connections.add(task)
        try:
            status, body = await self._answer(reader)
            writer.write(_response(status, body))
            await asyncio.wait_for(writer.drain(), self.write_timeout)
        except (TimeoutError, ConnectionError):
            pass  # a slow or vanished client: nothing to answer
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.read_timeout)
        except asyncio.LimitOverrunError:
            return 431, {"error": "request too large"}
        except asyncio.IncompleteReadError:
            return 400, {"error": "incomplete request"}
        method, path = _request_target(head)
        if method != "GET" or path != "/health":
            return 404, {"error": "not found"}
        try:
            report = await self.check()
        except Exception:  # a bug in a check must still give the probe an answer
            log.exception("health check failed")
            return 500, {"status": "degraded", "error": "health check failed"}
        return (200 if report.ok else 503), report.to_json()


def _request_target(head: bytes) -> tuple[str, str]:
    """Method and path (query dropped) of an HTTP/1.x request head; ("", "") if malformed."""
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return "", ""
    return parts[0], parts[1].split("?", 1)[0]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _response(status: int, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body, ensure_ascii=False).encode()
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + payload


async def start_health_server(
    app: Application[Any, Any, Any, Any, Any, Any], *, host: str, port: int
) -> HealthServer:
    """Start /health for a running Application (call at the end of post_init)."""
    server = HealthServer(
        application_check(app, started_at=datetime.now(UTC)), host=host, port=port
    )
    await server.start()
    app.bot_data[HEALTH_KEY] = server
    return server


async def stop_health_server(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the Application's /health server, if it has one (post_shutdown)."""
    server: HealthServer | None = app.bot_data.pop(HEALTH_KEY, None)
    if server is not None:
        await server.stop()
