"""The web server and the exports over a large archive: answer times and export sizes.

Seeds a temporary SQLite database with N events (default 5,000) of three sources each, serves
it with the real web server on a free local port, and prints the median and worst answer time
of `/`, `/?country=TJ&type=visit`, `/event/ID`, `/events.atom`, `/metrics` and `/health`, then
the time and size of a full CSV and JSON Lines export, and /health's answer time while 40 idle
connections are held open.

    .venv/bin/python bench/web.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.export import render_export
from bot.health import HealthReport
from bot.web.metrics import ProcessFigures
from bot.web.server import WebServer, build_web_app
from storage import Database
from storage.archive import list_events
from storage.models import Event, EventCountry, Feed, Item

PAIRS = [("KZ", "TJ"), ("CN", "UZ"), ("KG", "RU"), ("TM", "TR"), ("KZ", "UZ"), ("DE", "KZ")]
TYPES = ["visit", "meeting", "call", "agreement"]
ROUNDS = 20


def seed(db: Database, count: int) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        session.execute(
            insert(Feed),
            [{"url": f"https://outlet{n}.example/rss", "title": f"Outlet {n}"} for n in range(3)],
        )
        events, countries, items = [], [], []
        for n in range(1, count + 1):
            pair = PAIRS[n % len(PAIRS)]
            day = date(2026, 11, 30) - timedelta(days=n % 700)
            events.append(
                {
                    "id": n,
                    "key": f"{pair[0]}-{pair[1]}-{day.isoformat()}-{n}",
                    "event_type": TYPES[n % 4],
                    "countries": ",".join(pair),
                    "event_date": day,
                    "place": "Dushanbe",
                    "summary": "The presidents held talks and signed agreements on trade, "
                    "energy and transport; trade could reach $1 billion. " * 2,
                    "confidence": 0.9,
                    "source_count": 3,
                    "alerted": True,
                    "created_at": now - timedelta(minutes=n),
                    "updated_at": now - timedelta(minutes=n),
                }
            )
            countries += [{"event_id": n, "country": code} for code in pair]
            items += [
                {
                    "feed_id": feed + 1,
                    "key": f"item-{n}-{feed}",
                    "link": f"https://outlet{feed}.example/news/{n}",
                    "title": f"Report {n} from outlet {feed}",
                    "published_at": now - timedelta(minutes=n),
                    "first_seen_at": now - timedelta(minutes=n),
                    "label": True,
                    "event_id": n,
                }
                for feed in range(3)
            ]
        session.execute(insert(Event), events)
        session.execute(insert(EventCountry), countries)
        session.execute(insert(Item), items)


async def healthy() -> HealthReport:
    return HealthReport(
        checked_at=datetime.now(UTC), scheduler_ok=True, last_poll_at=None, database_ok=True
    )


async def timed(client: httpx.AsyncClient, url: str) -> tuple[float, float, int]:
    times = []
    size = 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        answer = await client.get(url)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, (url, answer.status_code)
        size = len(answer.content)
    return statistics.median(times) * 1000, max(times) * 1000, size


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.upgrade()
        started = time.perf_counter()
        seed(db, count)
        print(
            f"seeded {count} events, {3 * count} sources in {time.perf_counter() - started:.1f} s"
        )
        server = WebServer(
            build_web_app(db=db, health=healthy, process_figures=ProcessFigures),
            host="127.0.0.1",
            port=0,
        )
        await server.start()
        base = f"http://127.0.0.1:{server.port}"
        key = db.call(list_events, limit=1)[0].key
        async with httpx.AsyncClient(timeout=30) as client:
            for path in (
                "/",
                "/?country=TJ&type=visit",
                f"/event/{key}",
                "/events.atom",
                "/metrics",
                "/health",
            ):
                median, worst, size = await timed(client, base + path)
                print(f"GET {path:28} median {median:7.1f} ms  worst {worst:7.1f} ms  {size:>8} B")
            idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(40)]
            median, worst, _ = await timed(client, base + "/health")
            print(
                "GET /health with 40 idle connections: "
                f"median {median:.1f} ms, worst {worst:.1f} ms"
            )
            for _, writer in idle:
                writer.close()
        await server.stop()
        for fmt in ("csv", "jsonl"):
            started = time.perf_counter()
            entries = db.call(list_events)
            data = render_export(entries, fmt, title="bench")
            elapsed = time.perf_counter() - started
            print(
                f"export {fmt:5}: {len(entries)} events in {elapsed:.2f} s, "
                f"{len(data) / 1e6:.1f} MB"
            )
        db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
