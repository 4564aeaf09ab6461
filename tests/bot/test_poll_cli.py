"""`coopwatch poll [--all]`: one real poll cycle through the CLI, alerts queued, nothing sent."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.cli import main
from storage import Database, chats
from storage import feeds as feed_store
from storage.models import Delivery, Event, Item
from tests.bot.test_event_flow import rss
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[2]
CHAT_ID = 501


@pytest.fixture(autouse=True)
def _cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DEFAULT_FEEDS", "false")
    monkeypatch.setenv("ALLOW_PRIVATE_FEEDS", "true")
    yield
    logging.getLogger().handlers.clear()


@pytest.fixture
def store(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def wire(hours_ago: float = 1.0) -> bytes:
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    return rss(
        [
            (
                "Kazakh and Tajik presidents hold talks in Dushanbe",
                "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of "
                "Tajikistan Emomali Rahmon in Dushanbe. The sides signed agreements on trade "
                "and energy.",
                when,
            ),
            ("Snow expected in Almaty", "Forecasters expect heavy snow in Almaty tonight.", when),
        ]
    )


def test_poll_stores_classifies_and_queues_alerts(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer, store: Database
) -> None:
    url = feed_server.add("/wire", wire())
    store.call(feed_store.add_feed, url=url)
    # A chat with no subscriptions follows the five Central Asian states.
    store.call(chats.register_chat, chat_id=CHAT_ID, chat_type="private", language="en")

    code, out, _ = run(capsys, "poll")
    assert code == 0
    assert out.count("\n") == 1, out  # one summary line
    assert "polled 1 feeds: 1 ok, 0 not modified, 0 failed; 2 new items; 1 new events" in out
    assert "1 alerts queued" in out
    with store.session() as session:
        items = session.exec(select(Item)).all()
        assert len(items) == 2 and all(item.label is not None for item in items)
        event = session.exec(select(Event)).one()
        assert event.countries == "KZ,TJ" and event.alerted
        delivery = session.exec(select(Delivery)).one()
        # Queued for the running bot's sender; this process sent nothing.
        assert (delivery.chat_id, delivery.status) == (CHAT_ID, "pending")

    # Polled a moment ago: nothing is due until the interval has passed.
    code, out, _ = run(capsys, "poll")
    assert code == 0 and out.startswith("no feed was due; nothing polled")
    assert feed_server.count("/wire") == 1

    # --all polls it anyway, with its validators: a 304, nothing new, nothing queued twice.
    code, out, _ = run(capsys, "poll", "--all")
    assert code == 0
    assert "polled 1 feeds: 0 ok, 1 not modified, 0 failed; 0 new items" in out
    assert "0 alerts queued" in out
    assert feed_server.last_request("/wire").get("if-none-match")
    with store.session() as session:
        assert len(session.exec(select(Delivery)).all()) == 1


def test_poll_exit_1_only_when_every_feed_failed(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer, store: Database
) -> None:
    broken = store.call(feed_store.add_feed, url=feed_server.url("/fault/500"))
    code, out, _ = run(capsys, "poll")
    assert code == 1
    assert "polled 1 feeds: 0 ok, 0 not modified, 1 failed" in out
    failing = store.call(feed_store.get_feed, feed_id=broken.id)
    assert failing is not None and failing.last_error == "HTTP 500 Internal Server Error"

    store.call(feed_store.add_feed, url=feed_server.add("/wire", wire()))
    code, out, _ = run(capsys, "poll", "--all")
    assert code == 0
    assert "polled 2 feeds: 1 ok, 0 not modified, 1 failed" in out


def test_poll_stores_old_items_without_alerting(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer, store: Database
) -> None:
    store.call(feed_store.add_feed, url=feed_server.add("/old", wire(hours_ago=24 * 5)))
    store.call(chats.register_chat, chat_id=CHAT_ID, chat_type="private", language="en")
    code, out, _ = run(capsys, "poll")
    assert code == 0 and "2 new items" in out and "0 alerts queued" in out
    with store.session() as session:
        assert session.exec(select(Delivery)).all() == []


@pytest.mark.slow
def test_poll_as_a_process_never_calls_telegram(
    feed_server: FeedServer, fake_telegram: FakeTelegram, store: Database, database_url: str
) -> None:
    store.call(feed_store.add_feed, url=feed_server.add("/wire", wire()))
    store.call(chats.register_chat, chat_id=CHAT_ID, chat_type="private", language="en")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELEGRAM_")} | {
        "DATABASE_URL": database_url,
        "DEFAULT_FEEDS": "false",
        "ALLOW_PRIVATE_FEEDS": "true",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_BASE_URL": fake_telegram.base_url,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "poll", "--all"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 new events, 0 reports joined events; 1 alerts queued" in done.stdout
    assert fake_telegram.state.requests == []
