"""From a feed to the web: the running bot polls a feed, and its page, Atom feed and metrics
show what came of it."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
from prometheus_client.parser import text_string_to_metric_families

from coopwatch.leadership import instance_name
from coopwatch.settings import Settings
from storage import Database
from storage import feeds as feed_store
from tests.bot.harness import running_bot
from tests.bot.test_event_flow import rss
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def metric_values(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_polled_report_reaches_the_page_the_feed_and_the_metrics(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    published = datetime.now(UTC) - timedelta(hours=1)
    url = feed_server.add(
        "/wire",
        rss(
            [
                (
                    "Kazakh and Tajik presidents hold talks in Dushanbe",
                    "President of Kazakhstan Kassym-Jomart Tokayev held talks with President "
                    "of Tajikistan Emomali Rahmon in Dushanbe. The sides signed agreements on "
                    "trade, energy and healthcare; trade could reach $1 billion.",
                    published,
                ),
                ("Snow expected in Almaty", "Forecasters expect heavy snow tonight.", published),
            ]
        ),
    )
    db = Database(settings.database_url)
    db.upgrade()
    db.call(feed_store.add_feed, url=url, title="Steppe Wire")
    db.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"web_port": port, "allow_private_feeds": True})
    async with running_bot(settings, fake_telegram), httpx.AsyncClient(timeout=10) as client:
        deadline = time.monotonic() + 30
        while 'li class="event"' not in (page := (await client.get(base + "/")).text):
            assert time.monotonic() < deadline, "no event reached the page"
            await asyncio.sleep(0.2)
        assert "Kazakhstan – Tajikistan" in page and "Snow" not in page
        metrics = metric_values((await client.get(base + "/metrics")).text)
        atom = feedparser.parse((await client.get(base + "/events.atom?country=KZ")).content)
        health = (await client.get(base + "/health")).json()

    assert metrics[("coopwatch_polls_total", (("outcome", "ok"),))] >= 1
    assert metrics[("coopwatch_items_new_total", ())] == 2
    assert metrics[("coopwatch_items", ())] == 2
    assert metrics[("coopwatch_events", ())] == 1
    assert metrics[("coopwatch_feeds_enabled", ())] == 1
    assert metrics[("coopwatch_leader", (("instance", instance_name()),))] == 1
    assert health["leadership"]["role"] == "leader"
    assert [entry.title.split(" · ")[0] for entry in atom.entries] == ["Kazakhstan – Tajikistan"]
    assert atom.entries[0].link.startswith(base + "/event/KZ-TJ-")
    assert health["database"] == {"ok": True, "error": None}


async def test_flood_waits_are_counted(settings: Settings, fake_telegram: FakeTelegram) -> None:
    """A 429 that the rate limiter waits out itself is still a flood wait in /metrics."""
    port = free_port()
    settings = settings.model_copy(update={"web_port": port})
    async with running_bot(settings, fake_telegram), httpx.AsyncClient(timeout=10) as client:
        fake_telegram.fail_next("sendMessage", 429, retry_after=1)
        fake_telegram.send_user_message(4711, "/help")
        [reply] = await fake_telegram.wait_for_messages(4711, timeout=10)
        assert "/export" in reply.text
        metrics = metric_values((await client.get(f"http://127.0.0.1:{port}/metrics")).text)
    assert metrics[("coopwatch_flood_waits_total", ())] == 1
    assert metrics[("coopwatch_flood_wait_seconds_total", ())] == 1
