"""The parse pool: real worker processes, killed and replaced past their time or memory limit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from news.errors import EntityDeclarationError, FeedParseError, ParseLimitError
from news.parse import (
    MAX_ITEMS_PER_FEED,
    MAX_KEY_CHARS,
    MAX_LINK_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    ParsedFeed,
    parse_feed,
)
from news.parse_pool import MAX_REPLY, ParsePool
from news.records import FeedItem
from tests.feedserver import make_rss
from tests.hostile import MiB, entity_before_doctype, many_items, nested, quadratic, unclosed

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
URL = "https://news.example.kz/rss"
ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


async def parse(pool: ParsePool, body: bytes, headers: dict[str, str] | None = None) -> object:
    return await pool.parse(body, headers or {}, url=URL, fetched_at=NOW)


async def test_a_worker_gives_what_parse_feed_gives() -> None:
    pool = ParsePool(2)
    try:
        body = make_rss("Pooled", 5)
        assert await parse(pool, body) == parse_feed(body, {}, url=URL, fetched_at=NOW)
        with pytest.raises(EntityDeclarationError):
            await parse(
                pool, quadratic("utf-16-le"), {"Content-Type": "text/xml; charset=utf-16le"}
            )
        assert len(pool.pids) == 1  # a refused feed does not cost the worker
    finally:
        pool.close()


async def test_an_entity_before_the_doctype_is_refused_in_the_worker() -> None:
    """Review 3, finding 1: this body used to come back from a worker expanded to 20 MB."""
    pool = ParsePool(1, timeout=10)
    try:
        body = entity_before_doctype(value_chars=1_000, references=20_000)
        with pytest.raises(EntityDeclarationError):
            await parse(pool, body, {"Content-Type": "application/rss+xml"})
    finally:
        pool.close()


async def test_a_huge_feed_title_does_not_reach_the_parent() -> None:
    """Review 3, finding 2: a 4 MB channel title used to come back whole to the bot."""
    title = "\U0001f600" * 1_000_000
    body = (
        f'<rss version="2.0"><channel><title>{title}</title>'
        "<item><title>x</title><description>y</description></item></channel></rss>"
    ).encode()
    pool = ParsePool(1, timeout=15)
    try:
        feed = await parse(pool, body, {"Content-Type": "application/rss+xml"})
        assert isinstance(feed, ParsedFeed)
        assert feed.title is not None and len(feed.title) <= MAX_TITLE_CHARS + 1
    finally:
        pool.close()


def test_the_largest_reply_the_caps_allow_fits_under_max_reply() -> None:
    """MAX_REPLY is derived from the field caps: every field full of 4-byte characters."""
    wide = "\U0001f600"
    item = FeedItem(
        key=wide * MAX_KEY_CHARS,
        link="https://a.example/" + wide * MAX_LINK_CHARS,
        title=wide * (MAX_TITLE_CHARS + 1),
        text=wide * (MAX_TEXT_CHARS + 1),
        published=NOW,
        language="ru",
    )
    # Distinct strings, so pickle cannot share them between items.
    items = tuple(
        FeedItem(
            f"{n}{item.key}", f"{item.link}{n}", f"{n}{item.title}", f"{n}{item.text}", NOW, "ru"
        )
        for n in range(MAX_ITEMS_PER_FEED)
    )
    feed = ParsedFeed(
        title=wide * (MAX_TITLE_CHARS + 1),
        link=item.link,
        language="ru",
        items=items,
        version="rss20",
        encoding="utf-8",
        warning="ill-formed feed: " + wide * (MAX_TITLE_CHARS + 1),
    )
    size = len(pickle.dumps(("ok", feed, False), protocol=pickle.HIGHEST_PROTOCOL))
    assert size < MAX_REPLY <= 32 * MiB


async def test_a_parse_over_time_is_cut_and_the_others_go_on() -> None:
    pool = ParsePool(2, timeout=1.5)
    try:
        stuck = asyncio.create_task(parse(pool, nested(6 * MiB)))
        await asyncio.sleep(0.3)
        [stuck_pid] = pool.pids
        started = time.monotonic()
        healthy = await parse(pool, make_rss("Healthy", 3))
        assert time.monotonic() - started < 1.5  # not queued behind the stuck feed
        assert healthy.items[0].title == "Healthy story 0"  # type: ignore[attr-defined]
        with pytest.raises(ParseLimitError, match=r"longer than 1\.5 s"):
            await stuck
        assert wait_gone([stuck_pid], 3) == []
        again = await parse(pool, make_rss("After", 1))
        assert again.items[0].title == "After story 0"  # type: ignore[attr-defined]
        assert stuck_pid not in pool.pids
    finally:
        pool.close()


@pytest.mark.slow
async def test_a_parse_over_memory_is_refused_and_the_worker_replaced() -> None:
    pool = ParsePool(1, timeout=60, memory_limit=128 * MiB)
    try:
        started = time.monotonic()
        with pytest.raises(ParseLimitError, match="128 MiB of memory"):
            await parse(pool, unclosed(9 * MiB))
        assert time.monotonic() - started < 30
        feed = await parse(pool, make_rss("Next", 2))
        assert len(feed.items) == 2  # type: ignore[attr-defined]
    finally:
        pool.close()


async def test_a_cancelled_parse_kills_its_busy_worker() -> None:
    pool = ParsePool(2, timeout=60)
    try:
        task = asyncio.create_task(parse(pool, nested(6 * MiB)))
        await asyncio.sleep(0.3)
        [pid] = pool.pids
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert wait_gone([pid], 2) == []
    finally:
        pool.close()


async def test_close_kills_busy_workers_at_once() -> None:
    pool = ParsePool(2, timeout=60)
    tasks = [asyncio.create_task(parse(pool, nested(6 * MiB))) for _ in range(3)]
    await asyncio.sleep(0.3)
    pids = pool.pids
    assert len(pids) == 2
    started = time.monotonic()
    pool.close()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert time.monotonic() - started < 2
    assert all(isinstance(r, FeedParseError) for r in results)
    assert wait_gone(pids, 2) == []


async def test_waiting_parses_take_a_free_worker_smallest_body_first() -> None:
    pool = ParsePool(1, timeout=1.0)
    finished: list[str] = []

    async def run(name: str, body: bytes) -> None:
        with contextlib.suppress(FeedParseError):
            await parse(pool, body)
        finished.append(name)

    try:
        first = asyncio.create_task(run("stuck", nested(6 * MiB)))
        await asyncio.sleep(0.2)
        big = asyncio.create_task(run("big", many_items(2000)))
        await asyncio.sleep(0.05)
        small = asyncio.create_task(run("small", make_rss("Small", 2)))
        await asyncio.gather(first, big, small)
        assert finished == ["stuck", "small", "big"]
    finally:
        pool.close()


WORKER_OWNER = """
import asyncio, sys
from datetime import UTC, datetime
from news.parse_pool import ParsePool
from tests.hostile import nested

async def main():
    pool = ParsePool(2, timeout=600)
    task = asyncio.create_task(pool.parse(nested(8 * 1024 * 1024), {}, url="u",
                                          fetched_at=datetime.now(UTC)))
    await asyncio.sleep(0.5)
    print(*pool.pids, flush=True)
    await task

asyncio.run(main())
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_when_their_parent_is_killed() -> None:
    """Issue 18: SIGKILL of the parent leaves no busy worker behind."""
    owner = subprocess.Popen(
        [sys.executable, "-c", WORKER_OWNER],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert owner.stdout is not None
    pids = [int(p) for p in owner.stdout.readline().split()]
    assert len(pids) == 1 and alive(pids[0])
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert wait_gone(pids, 5) == []


async def test_an_idle_worker_killed_from_outside_is_replaced_not_used() -> None:
    pool = ParsePool(2)
    try:
        await parse(pool, make_rss("First", 1))
        [pid] = pool.pids
        os.kill(pid, signal.SIGKILL)
        assert wait_gone([pid], 2) == []
        feed = await parse(pool, make_rss("Second", 1))
        assert feed.items[0].title == "Second story 0"  # type: ignore[attr-defined]
    finally:
        pool.close()


async def test_a_worker_handed_to_a_call_cancelled_at_that_moment_goes_back_to_the_pool() -> None:
    """Review: the hand-over landed, then the cancel; the worker must not be lost (with one
    worker, every later parse would wait for ever)."""
    pool = ParsePool(1)
    try:
        held = await pool._acquire(0)
        waiting = asyncio.ensure_future(pool._acquire(0))
        await asyncio.sleep(0.05)  # it waits for the only worker
        loop = asyncio.get_running_loop()
        pool._release(held, reusable=True)  # schedules the hand-over in this loop
        loop.call_soon(waiting.cancel)  # runs after the hand-over, before the task resumes
        with pytest.raises(asyncio.CancelledError):
            await waiting
        async with asyncio.timeout(10):
            feed = await parse(pool, make_rss("After", 1))
        assert feed.items[0].title == "After story 0"  # type: ignore[attr-defined]
    finally:
        pool.close()
