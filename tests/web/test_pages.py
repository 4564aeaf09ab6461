"""The archive page, event pages, Atom feed and metrics over HTTP, on each database backend."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from storage import Database
from tests.web.archive import HOSTILE, seed_archive, web_server

KEYS_NEWEST_FIRST = [
    "KG-RU-2026-11-27-call",
    "CN-UZ-2026-11-25-agreement",
    "KZ-TJ-2026-11-20-visit",
]


def keys_on(page: str) -> list[str]:
    return re.findall(r'<li class="event" id="([^"]+)"', page)


async def get(base: str, path: str, **kwargs: object) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(base + path, timeout=10, **kwargs)  # type: ignore[arg-type]


async def test_archive_lists_events_newest_first_with_filters(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base:
        page = await get(base, "/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "script-src" not in page.headers["content-security-policy"]  # none allowed
        assert keys_on(page.text) == KEYS_NEWEST_FIRST
        assert 'href="/event/KZ-TJ-2026-11-20-visit?lang=en"' in page.text
        assert "Kazakhstan – Tajikistan" in page.text and "3 sources" in page.text
        options = re.findall(r'<option value="([A-Z]{2})"', page.text)
        assert options == ["KZ", "KG", "TJ", "TM", "UZ", "CN", "RU"]  # then partners, by name

        tajik = await get(base, "/?country=TJ")
        assert keys_on(tajik.text) == ["KZ-TJ-2026-11-20-visit"]
        # Names, Russian names and demonyms work as they do in /country.
        assert keys_on((await get(base, "/?country=Таджикистан")).text) == keys_on(tajik.text)
        calls = await get(base, "/?type=call")
        assert keys_on(calls.text) == ["KG-RU-2026-11-27-call"]
        assert keys_on((await get(base, "/?country=TJ&type=call")).text) == []
        assert "No events match." in (await get(base, "/?country=TJ&type=call")).text


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("?country=Atlantis", "Unknown country “Atlantis”"),
        ("?country=Tajikstan", "did you mean Tajikistan?"),
        ("?type=party", "Unknown event type “party”"),
        ("?country=" + "x" * 5000, "is too long"),
        ("?country=%3Cscript%3Ealert(1)%3C/script%3E", "Unknown country “&lt;script&gt;"),
        ("?country=%00%ff%fe&type=%E2%80%AE", "Unknown"),
        ("?country=TJ&country=KZ&type=", ""),
    ],
)
async def test_bad_query_strings_get_a_notice_not_an_error(
    sqlite_db: Database, query: str, notice: str
) -> None:
    seed_archive(sqlite_db)
    async with web_server(sqlite_db) as base:
        page = await get(base, "/" + query)
        assert page.status_code == 200
        assert notice in page.text
        assert "<script>" not in page.text
        assert keys_on(page.text)  # the events are still listed


async def test_event_page_lists_every_source(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base:
        page = await get(base, "/event/kz-tj-2026-11-20-visit")  # ids are case-insensitive
        assert page.status_code == 200
        assert "Tokayev began a two-day state visit" in page.text
        assert page.text.count('<li class="source">') == 3
        for outlet, url in [
            ("The Astana Times", "https://astanatimes.example/1"),
            ("Asia-Plus", "https://asiaplus.example/2"),
            ("Kabar", "https://kabar.example/3"),
        ]:
            assert f'<a href="{url}" rel="noopener noreferrer nofollow">{outlet}</a>' in page.text
        russian = await get(base, "/event/KZ-TJ-2026-11-20-visit?lang=ru")
        assert "Казахстан – Таджикистан" in russian.text and "Источники (3)" in russian.text
        missing = await get(base, "/event/NO-SUCH-EVENT")
        assert missing.status_code == 404 and "There is no event" in missing.text


async def test_hostile_feed_text_is_escaped(sqlite_db: Database) -> None:
    seed_archive(sqlite_db)
    async with web_server(sqlite_db) as base:
        for path in ("/", "/event/CN-UZ-2026-11-25-agreement"):
            page = await get(base, path)
            assert "<script" not in page.text and "<img" not in page.text
            assert "&lt;script&gt;" in page.text
        page = await get(base, "/event/CN-UZ-2026-11-25-agreement")
        assert "javascript:" not in page.text  # a source link that is not http(s) is not linked
        assert "Evil &lt;script&gt;" in page.text


async def test_atom_feed_parses_and_narrows_by_country(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base:
        answer = await get(base, "/events.atom")
        assert answer.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(answer.content)
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == "atom10"
        titles = [entry.title for entry in feed.entries]
        assert titles[0] == "Kyrgyzstan – Russia · phone call · 27 November 2026"
        assert len(feed.entries) == 3
        visit = feed.entries[2]
        assert visit.link == f"{base}/event/KZ-TJ-2026-11-20-visit"
        related = [link.href for link in visit.links if link.rel == "related"]
        assert related == [
            "https://astanatimes.example/1",
            "https://asiaplus.example/2",
            "https://kabar.example/3",
        ]
        hostile = feed.entries[1]
        assert HOSTILE in hostile.summary  # text, escaped in the XML, intact once parsed
        assert hostile.summary_detail.type == "text/plain"

        uzbek = feedparser.parse((await get(base, "/events.atom?country=uzbekistan")).content)
        assert [e.title for e in uzbek.entries] == [
            "Uzbekistan – China · agreement · 25 November 2026"
        ]
        bad = await get(base, "/events.atom?country=Atlantis")
        assert bad.status_code == 400 and "Unknown country" in bad.text


async def test_metrics_parse_as_prometheus_text(db: Database) -> None:
    seed_archive(db)
    async with web_server(db) as base:
        answer = await get(base, "/metrics")
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
        families = {f.name: f for f in text_string_to_metric_families(answer.text)}
        assert all(name.startswith("coopwatch_") for name in families)
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in families.values()
            for s in family.samples
        }
        assert samples[("coopwatch_events", ())] == 3
        assert samples[("coopwatch_items", ())] == 6
        assert samples[("coopwatch_polls_total", (("outcome", "ok"),))] == 0
        assert samples[("coopwatch_deliveries", (("status", "pending"),))] == 0
        assert samples[("coopwatch_flood_waits_total", ())] == 0
        assert families["coopwatch_polls"].type == "counter"
        assert families["coopwatch_deliveries"].type == "gauge"
        # Pending deliveries are one series of coopwatch_deliveries, not a second metric too.
        assert "coopwatch_deliveries_pending" not in families


async def test_a_lost_database_is_a_503_not_a_traceback(sqlite_db: Database) -> None:
    seed_archive(sqlite_db)
    async with web_server(sqlite_db) as base:
        sqlite_db.engine.dispose()
        db_file = Path(str(sqlite_db.engine.url.database))
        db_file.unlink()
        db_file.mkdir()
        for path in ("/", "/event/KG-RU-2026-11-27-call", "/events.atom", "/metrics"):
            answer = await get(base, path)
            assert answer.status_code == 503, path
            assert "database is unavailable" in answer.text


async def test_atom_feed_id_is_permanent_whatever_the_request(db: Database) -> None:
    """The feed's <id> names the feed (all events, or one country's), not the request: the
    country's spelling, extra query parameters and the Host header do not change it."""
    seed_archive(db)
    async with web_server(db) as base, httpx.AsyncClient() as client:

        async def feed_of(path: str, **headers: str) -> Any:
            answer = await client.get(base + path, headers=headers)
            assert answer.status_code == 200, path
            return feedparser.parse(answer.content).feed

        tajik = await feed_of("/events.atom?country=TJ")
        for path in ("/events.atom?country=tj", "/events.atom?country=Tajikistan&utm=x"):
            assert (await feed_of(path)).id == tajik.id, path
        evil = await feed_of("/events.atom?country=TJ", Host="evil.example")
        assert evil.id == tajik.id and "evil.example" not in evil.id
        everything = await feed_of("/events.atom")
        assert everything.id != tajik.id
        assert (await feed_of("/events.atom?utm_source=x")).id == everything.id
        # The self link names the feed as asked for by its country code, nothing else.
        [self_link] = [link.href for link in tajik.links if link.rel == "self"]
        assert self_link == f"{base}/events.atom?country=TJ"
