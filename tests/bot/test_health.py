"""GET /health: the running bot's scheduler and database, and a server that cannot be tied up."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.health import (
    MAX_CONNECTIONS,
    READ_TIMEOUT,
    HealthError,
    HealthReport,
    HealthServer,
    max_poll_age,
    scheduler_is_fresh,
)
from bot.leadership import instance_name
from bot.settings import Settings
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def get_health(port: int) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(f"http://127.0.0.1:{port}/health", timeout=5)


async def test_health_reports_scheduler_and_database(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"health_port": port})
    async with running_bot(settings, fake_telegram):
        answer = await get_health(port)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["status"] == "ok"
        assert answer.json()["database"] == {"ok": True, "error": None}
        leadership = answer.json()["leadership"]
        assert (leadership["role"], leadership["single_instance"]) == ("leader", True)
        assert leadership["instance"] == leadership["leader"] == instance_name()
        # The poll job's first tick comes a second after start; then its run is reported.
        deadline = time.monotonic() + 5
        while (last_run := answer.json()["scheduler"]["last_run_at"]) is None:
            assert time.monotonic() < deadline, "the scheduler never reported a run"
            await asyncio.sleep(0.1)
            answer = await get_health(port)
        assert datetime.now(UTC) - datetime.fromisoformat(last_run) < timedelta(seconds=10)
        assert answer.json()["scheduler"]["ok"] is True


async def test_health_is_degraded_when_the_database_is_unreachable(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    port = free_port()
    settings = settings.model_copy(update={"health_port": port})
    async with running_bot(settings, fake_telegram) as app:
        assert (await get_health(port)).status_code == 200
        # Take the database away under the running bot: the file becomes a directory.
        app.bot_data["services"].db.engine.dispose()
        db_file = Path(settings.database_url.removeprefix("sqlite:///"))
        db_file.unlink()
        db_file.mkdir()
        answer = await get_health(port)
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "degraded"
        assert body["database"] == {"ok": False, "error": "unreachable"}


async def test_no_health_server_in_polling_mode_without_health_port(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    assert settings.health_port_in_effect is None
    async with running_bot(settings, fake_telegram) as app:
        assert "health_server" not in app.bot_data


def test_a_stuck_scheduler_is_reported() -> None:
    start = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    limit = max_poll_age(poll_interval=60)
    assert limit == timedelta(seconds=75)  # three 5 s ticks plus one poll interval
    # Before the first run, the start time counts: a fresh start is healthy…
    assert scheduler_is_fresh(None, started_at=start, now=start + limit, max_age=limit)
    # …but a scheduler that never completes a run is not, once the allowance is spent.
    assert not scheduler_is_fresh(None, started_at=start, now=start + 2 * limit, max_age=limit)
    last = start + timedelta(minutes=10)
    assert scheduler_is_fresh(last, started_at=start, now=last + limit, max_age=limit)
    assert not scheduler_is_fresh(
        last, started_at=start, now=last + limit + timedelta(seconds=1), max_age=limit
    )


# -- the HTTP server itself ---------------------------------------------------------------


async def healthy() -> HealthReport:
    return HealthReport(
        checked_at=datetime.now(UTC), scheduler_ok=True, last_poll_at=None, database_ok=True
    )


@asynccontextmanager
async def serving(
    *, read_timeout: float = READ_TIMEOUT, max_connections: int = MAX_CONNECTIONS
) -> AsyncIterator[HealthServer]:
    server = HealthServer(
        healthy,
        host="127.0.0.1",
        port=0,
        read_timeout=read_timeout,
        max_connections=max_connections,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def raw_request(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_only_get_health_is_served() -> None:
    async with serving() as server, httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{server.port}"
        assert (await client.get(f"{base}/health?verbose=1")).status_code == 200
        assert (await client.get(f"{base}/")).status_code == 404
        assert (await client.get(f"{base}/health/../admin")).status_code == 404
        assert (await client.post(f"{base}/health", content=b"{}")).status_code == 404
        assert (await client.delete(f"{base}/health")).status_code == 404
        garbage = await raw_request(server.port, b"\x16\x03\x01 not http at all\r\n\r\n")
        assert garbage.startswith(b"HTTP/1.1 404")


async def test_an_oversized_request_is_refused() -> None:
    async with serving() as server:
        huge = b"GET /health HTTP/1.1\r\nX-Pad: " + b"a" * 20_000 + b"\r\n\r\n"
        answer = await raw_request(server.port, huge)
        assert answer.startswith(b"HTTP/1.1 431")


async def test_a_slow_client_is_cut_off_and_blocks_nobody() -> None:
    async with serving(read_timeout=0.3) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # …and never the blank line
        await writer.drain()
        started = time.monotonic()
        assert (await get_health(server.port)).status_code == 200  # served meanwhile
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, unanswered
        assert time.monotonic() - started < 2
        writer.close()


async def test_connections_beyond_the_cap_are_closed_at_once() -> None:
    async with serving(read_timeout=0.5, max_connections=2) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 1) == b""
        writer.close()
        for _, idle_writer in idle:
            idle_writer.close()
        await asyncio.sleep(0.6)  # the idle ones time out and free their slots
        assert (await get_health(server.port)).status_code == 200


async def test_a_taken_port_is_a_clear_error() -> None:
    async with serving() as server:
        second = HealthServer(healthy, host="127.0.0.1", port=server.port)
        with pytest.raises(HealthError, match="HEALTH_PORT"):
            await second.start()
