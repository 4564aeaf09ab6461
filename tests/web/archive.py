"""Events with sources in a real database, made through the storage functions, for web tests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.health import HealthReport
from bot.web.metrics import ProcessFigures
from bot.web.server import WebServer, build_web_app
from storage import Database
from storage.events import EventInfo, Verdict, add_source, create_event
from storage.models import Feed, Item

_numbers = itertools.count(1)
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass(frozen=True, slots=True)
class Report:
    outlet: str
    title: str
    url: str


def _item(db: Database, report: Report, published: datetime) -> int:
    with db.session() as session:
        feed = session.exec(select(Feed).where(Feed.title == report.outlet)).first()
        if feed is None:
            feed = Feed(url=f"https://feeds.example/{next(_numbers)}.xml", title=report.outlet)
            session.add(feed)
            session.flush()
        assert feed.id is not None
        item = Item(
            feed_id=feed.id,
            key=f"item-{next(_numbers)}",
            link=report.url,
            title=report.title,
            language="en",
            published_at=published,
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def add_event(
    db: Database,
    *,
    key: str,
    countries: tuple[str, str],
    event_type: str,
    day: date,
    summary: str,
    reports: Sequence[Report],
    place: str | None = None,
) -> EventInfo:
    """An event with its first report and any further ones, as the pipeline stores them."""
    verdict = Verdict(True, event_type, countries, 0.95, "[]")
    published = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    first = _item(db, reports[0], published)
    event = db.call(
        create_event,
        key=key,
        event_type=event_type,
        countries=countries,
        event_date=day,
        place=place,
        summary=summary,
        facts={},
        evidence=summary,
        language="en",
        confidence=0.95,
        state="{}",
        item_id=first,
        verdict=verdict,
        alert=False,
    )
    for n, report in enumerate(reports[1:], start=1):
        item_id = _item(db, report, published + timedelta(hours=n))
        db.call(add_source, key=key, item_id=item_id, state="{}", verdict=verdict, alert=False)
    return event


def seed_archive(db: Database) -> None:
    """Three events: Kazakhstan–Tajikistan visit (3 outlets), Uzbekistan–China agreement with
    hostile feed text, Kyrgyzstan–Russia call."""
    add_event(
        db,
        key="KZ-TJ-2026-11-20-visit",
        countries=("KZ", "TJ"),
        event_type="visit",
        day=date(2026, 11, 20),
        place="Dushanbe",
        summary="Tokayev began a two-day state visit to Dushanbe and held talks with Rahmon.",
        reports=[
            Report(
                "The Astana Times", "Tokayev arrives in Dushanbe", "https://astanatimes.example/1"
            ),
            Report("Asia-Plus", "Токаев прибыл в Душанбе", "https://asiaplus.example/2"),
            Report("Kabar", "Kazakh leader visits Tajikistan", "https://kabar.example/3"),
        ],
    )
    add_event(
        db,
        key="CN-UZ-2026-11-25-agreement",
        countries=("CN", "UZ"),
        event_type="agreement",
        day=date(2026, 11, 25),
        place="Tashkent",
        summary=f"Uzbekistan and China signed a transport roadmap {HOSTILE} & more.",
        reports=[
            Report(f"Evil {HOSTILE} Wire", f"Roadmap {HOSTILE}", "javascript:alert(1)"),
            Report("Gazeta.uz", "Uzbekistan, China sign roadmap", "https://gazeta.example/4"),
        ],
    )
    add_event(
        db,
        key="KG-RU-2026-11-27-call",
        countries=("KG", "RU"),
        event_type="call",
        day=date(2026, 11, 27),
        summary="Japarov and Putin discussed trade by phone.",
        reports=[Report("24.kg", "Japarov, Putin hold phone call", "https://24kg.example/5")],
    )


async def healthy() -> HealthReport:
    return HealthReport(
        checked_at=datetime.now(UTC), scheduler_ok=True, last_poll_at=None, database_ok=True
    )


@asynccontextmanager
async def web_server(db: Database) -> AsyncIterator[str]:
    """The real web server over ``db`` on a free port; yields its base URL."""
    server = WebServer(
        build_web_app(db=db, health=healthy, process_figures=ProcessFigures),
        host="127.0.0.1",
        port=0,
    )
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()
