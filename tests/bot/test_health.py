"""GET /health: the running bot's scheduler and database, and a server that cannot be tied up."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.health import HealthReport, max_poll_age, scheduler_is_fresh
from bot.web.metrics import ProcessFigures
from bot.web.server import HEAD_TIMEOUT, WebError, WebServer, build_web_app
from coopwatch.leadership import instance_name
from coopwatch.settings import Settings
from storage import Database
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
    settings = settings.model_copy(update={"web_port": port})
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
    settings = settings.model_copy(update={"web_port": port})
    async with running_bot(settings, fake_telegram) as app:
        assert (await get_health(port)).status_code == 200
        # Take the database away under the running bot: the file becomes a directory.
        app.bot_data.opened().db.engine.dispose()
        db_file = Path(settings.database_url.removeprefix("sqlite:///"))
        db_file.unlink()
        db_file.mkdir()
        answer = await get_health(port)
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "degraded"
        assert body["database"] == {"ok": False, "error": "unreachable"}


async def test_no_web_server_in_polling_mode_without_web_port(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    assert settings.web_port_in_effect is None
    async with running_bot(settings, fake_telegram) as app:
        assert app.bot_data.web is None


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


# -- the web server that serves it ------------------------------------------------------


async def healthy() -> HealthReport:
    return HealthReport(
        checked_at=datetime.now(UTC), scheduler_ok=True, last_poll_at=None, database_ok=True
    )


@asynccontextmanager
async def serving(db: Database, port: int = 0) -> AsyncIterator[WebServer]:
    app = build_web_app(db=db, health=healthy, process_figures=ProcessFigures)
    server = WebServer(app, host="127.0.0.1", port=port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_only_get_health_is_served(sqlite_db: Database) -> None:
    async with serving(sqlite_db) as server, httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{server.port}"
        assert (await client.get(f"{base}/health?verbose=1")).status_code == 200
        assert (await client.get(f"{base}/health/../admin")).status_code == 404
        assert (await client.post(f"{base}/health", content=b"{}")).status_code == 405
        assert (await client.delete(f"{base}/health")).status_code == 405
        garbage = await raw_request(server.port, b"\x16\x03\x01 not http at all\r\n\r\n")
        assert garbage.startswith(b"HTTP/1.1 400") or garbage == b""


async def raw_request(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


async def test_an_oversized_request_is_refused(sqlite_db: Database) -> None:
    async with serving(sqlite_db) as server:
        huge = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200_000 + b"\r\n\r\n"
        answer = await raw_request(server.port, huge)
        # 431 Request Header Fields Too Large (RFC 6585): the head is what is too large; a
        # body over the webhook's limit gets 413 (tests/bot/test_webhook.py).
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
        assert (await get_health(server.port)).status_code == 200


@pytest.mark.slow
async def test_idle_and_slow_clients_do_not_starve_health(sqlite_db: Database) -> None:
    """40 connections that never finish a request; /health still answers at once."""
    async with serving(sqlite_db) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(20)]
        slow = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(20)]
        for _, writer in slow:  # a request head that never ends (slowloris)
            writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            await writer.drain()
        started = time.monotonic()
        answer = await get_health(server.port)
        assert answer.status_code == 200 and answer.json()["status"] == "ok"
        assert time.monotonic() - started < 2
        # …and they are cut off once the head deadline has passed (tests/web/
        # test_connection_limits.py covers the deadline and the connection cap).
        for reader, _ in idle + slow:
            assert await asyncio.wait_for(reader.read(), HEAD_TIMEOUT + 2) == b""
        for _, writer in idle + slow:
            writer.close()


async def test_a_taken_port_is_a_clear_error(sqlite_db: Database) -> None:
    async with serving(sqlite_db) as server:
        with pytest.raises(WebError, match="WEB_PORT"):
            async with serving(sqlite_db, port=server.port):
                pass


@pytest.mark.slow
def test_coopwatch_run_reports_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "DEFAULT_FEEDS": "false",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cw.db'}",
            "WEB_PORT": str(taken.getsockname()[1]),
        }
        done = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path,
            env=env,
            input="",
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "set WEB_LISTEN / WEB_PORT" in done.stderr
    assert "Traceback" not in done.stderr
