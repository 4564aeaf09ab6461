"""The web server shares the bot's process: a client must not hold its connections or file
descriptors. Slow and idle clients are cut off, connections are capped, /health answers."""

from __future__ import annotations

import asyncio
import time

import httpx

from bot.web.server import BODY_TIMEOUT, HEAD_TIMEOUT, MAX_CONNECTIONS
from storage import Database
from tests.web.archive import web_server


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


async def closed_after(reader: asyncio.StreamReader, limit: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and what it sent before."""
    started = time.monotonic()
    data = await asyncio.wait_for(reader.read(), limit)
    return time.monotonic() - started, data


async def test_idle_and_half_sent_requests_are_cut_off(sqlite_db: Database) -> None:
    async with web_server(sqlite_db) as base:
        port = port_of(base)
        idle_reader, idle = await asyncio.open_connection("127.0.0.1", port)
        slow_reader, slow = await asyncio.open_connection("127.0.0.1", port)
        slow.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
        await slow.drain()
        dribble = asyncio.create_task(_dribble(slow))  # one byte a second keeps nothing open
        try:
            (idle_for, _), (slow_for, _) = await asyncio.gather(
                closed_after(idle_reader, HEAD_TIMEOUT + 3),
                closed_after(slow_reader, HEAD_TIMEOUT + 3),
            )
        finally:
            dribble.cancel()
        assert idle_for <= HEAD_TIMEOUT + 1.5 and slow_for <= HEAD_TIMEOUT + 1.5
        idle.close()
        slow.close()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/health")).status_code == 200


async def _dribble(writer: asyncio.StreamWriter) -> None:
    while True:
        await asyncio.sleep(1)
        writer.write(b"X")
        await writer.drain()


async def test_a_head_sent_in_parts_within_the_deadline_is_served(sqlite_db: Database) -> None:
    async with web_server(sqlite_db) as base:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(base))
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.write(b"Connection: close\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200")


async def test_connections_are_capped_and_health_still_answers(sqlite_db: Database) -> None:
    """Many idle connections: the oldest idle ones make room, the probe is answered."""
    async with web_server(sqlite_db) as base:
        port = port_of(base)
        idle = [
            await asyncio.open_connection("127.0.0.1", port) for _ in range(MAX_CONNECTIONS + 40)
        ]
        await asyncio.sleep(0.2)
        started = time.monotonic()
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{base}/health", timeout=5)
        assert answer.status_code == 200 and time.monotonic() - started < 2
        # The server closed the oldest idle connections: at most MAX_CONNECTIONS stayed.
        still_open = 0
        for reader, writer in idle:
            try:
                data = await asyncio.wait_for(reader.read(1), 0.05)
            except TimeoutError:
                still_open += 1
            else:
                assert data == b""
            writer.close()
        assert still_open <= MAX_CONNECTIONS
        assert still_open >= MAX_CONNECTIONS - 2  # the newest ones were kept, not all dropped


async def test_an_oversized_request_head_gets_431(sqlite_db: Database) -> None:
    async with web_server(sqlite_db) as base:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(base))
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200_000 + b"\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/health")).status_code == 200


async def _slow_body(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A full head announcing a large body, then the body at one byte a second."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nX")
    await writer.drain()
    return reader, writer


async def test_a_body_dribbled_after_a_full_head_is_cut_off(sqlite_db: Database) -> None:
    """Review 3, finding 4: the head deadline did not cover the body."""
    async with web_server(sqlite_db) as base:
        reader, writer = await _slow_body(port_of(base))
        dribble = asyncio.create_task(_dribble(writer))
        try:
            closed_for, _ = await closed_after(reader, BODY_TIMEOUT + 4)
        finally:
            dribble.cancel()
            writer.close()
        assert closed_for <= BODY_TIMEOUT + 1.5


async def test_slow_bodies_on_every_connection_leave_room_for_health(sqlite_db: Database) -> None:
    """Review 3, finding 4: 70 slow bodies held every slot and /health was refused."""
    async with web_server(sqlite_db) as base:
        port = port_of(base)
        slow = [await _slow_body(port) for _ in range(MAX_CONNECTIONS + 6)]
        dribbles = [asyncio.create_task(_dribble(writer)) for _, writer in slow]
        try:
            await asyncio.sleep(1.2)  # every one of them is reading its body
            started = time.monotonic()
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"{base}/health", timeout=5)
            assert answer.status_code == 200 and time.monotonic() - started < 2
        finally:
            for task in dribbles:
                task.cancel()
            for _, writer in slow:
                writer.close()
