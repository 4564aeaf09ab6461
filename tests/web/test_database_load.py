"""Anonymous web requests share the bot's database (on SQLite, its one database thread): they
must not queue up queries ahead of polling, delivery and the health probe."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from bot.web.reads import WEB_READS
from storage import Database
from tests.web.archive import seed_archive, web_server


class StatementLog:
    """Every SQL statement the engine runs, and the most connections in use at once."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.in_use = 0
        self.most_in_use = 0
        self._lock = threading.Lock()

    def executed(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        with self._lock:
            self.statements.append(statement)

    def checkout(self, *args: Any) -> None:
        with self._lock:
            self.in_use += 1
            self.most_in_use = max(self.most_in_use, self.in_use)

    def checkin(self, *args: Any) -> None:
        with self._lock:
            self.in_use -= 1

    def count(self, fragment: str) -> int:
        return sum(fragment in statement for statement in self.statements)


@contextmanager
def statement_log(db: Database) -> Iterator[StatementLog]:
    log = StatementLog()
    hooks = (
        (db.engine, "before_cursor_execute", log.executed),
        (db.engine.pool, "checkout", log.checkout),
        (db.engine.pool, "checkin", log.checkin),
    )
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    try:
        yield log
    finally:
        for target, name, hook in hooks:
            event.remove(target, name, hook)


async def test_metrics_scrapes_share_one_reading_of_the_database(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base, httpx.AsyncClient(timeout=10) as client:
        with statement_log(db) as log:
            await asyncio.gather(*(client.get(f"{base}/metrics") for _ in range(10)))
            for _ in range(10):
                assert (await client.get(f"{base}/metrics")).status_code == 200
        # One scrape's counts (items, events, deliveries, feeds), not twenty.
        assert 0 < log.count("count(") <= 7, log.statements


async def test_the_country_menu_is_not_read_for_every_page(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base, httpx.AsyncClient(timeout=10) as client:
        with statement_log(db) as log:
            for _ in range(10):
                assert (await client.get(f"{base}/")).status_code == 200
        assert log.count("SELECT DISTINCT event_country.country") == 1


async def test_at_most_two_web_reads_at_a_time(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base, httpx.AsyncClient(timeout=10) as client:
        with statement_log(db) as log:
            paths = ["/?country=TJ", "/events.atom", "/event/KG-RU-2026-11-27-call"] * 10
            answers = await asyncio.gather(*(client.get(base + path) for path in paths))
        assert all(answer.status_code == 200 for answer in answers)
        assert log.most_in_use <= WEB_READS
