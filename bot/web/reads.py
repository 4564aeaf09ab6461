"""The web routes' database reads: at most two at a time, slow-changing figures shared.

The web server is open to anyone who can reach it and shares the bot's database — on SQLite
its one database thread, where every query waits behind the ones queued before it. A burst of
page views or a scraper must not queue dozens of queries ahead of polling, delivery and the
health probe's ping. So the anonymous routes read through one gate that lets two reads run
at once (the rest wait in the event loop, not in the database's queue), and what changes
slowly and is read on every request — the /metrics counts, the page's country menu — is read
once per few seconds however many ask, concurrent askers sharing the one reading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from storage import Database

T = TypeVar("T")

WEB_READS = 2  # web queries in flight at once
CACHE_SECONDS = 5.0  # how old a shared figure may be (a Prometheus scrape is every 15 s or more)


class WebReads:
    """Database reads for the web routes, at most ``concurrency`` at a time."""

    def __init__(self, db: Database, *, concurrency: int = WEB_READS) -> None:
        self.db = db
        self._gate = asyncio.Semaphore(concurrency)

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        async with self._gate:
            return await self.db.run(fn, **kwargs)


class SharedRead(Generic[T]):
    """One read, reused for ``max_age`` seconds; callers during a read wait for its result."""

    def __init__(
        self, reads: WebReads, fn: Callable[..., T], *, max_age: float = CACHE_SECONDS
    ) -> None:
        self.reads = reads
        self.fn = fn
        self.max_age = max_age
        self._lock = asyncio.Lock()
        self._value: T | None = None
        self._read_at: float | None = None

    async def get(self) -> T:
        async with self._lock:
            fresh = self._read_at is not None and time.monotonic() - self._read_at < self.max_age
            if not fresh or self._value is None:
                # A failed read raises here and is not kept: the next caller tries again.
                self._value = await self.reads.run(self.fn)
                self._read_at = time.monotonic()
            return self._value
