"""A newcomer's first hour (issue 11), as a user sees it: through the fake Bot API and the
real command line."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.cli import main
from coopwatch.settings import Settings
from storage import Database
from storage import events as event_store
from storage import feeds as feed_store
from tests.bot.harness import running_bot
from tests.bot.test_event_flow import rss
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer

ADMIN, USER, RU_USER = 1001, 3003, 5005
ROOT = Path(__file__).resolve().parents[2]
App = Application[Any, Any, Any, Any, Any, Any]

# Reports that the classifier takes as events, by name: (title, text, days ago).
KZ_TJ = (
    "Kazakh and Tajik presidents hold talks in Dushanbe",
    "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of Tajikistan "
    "Emomali Rahmon in Dushanbe. The sides signed agreements on trade, energy and water.",
)
KZ_TJ_RU = (
    "Токаев и Рахмон провели переговоры в Душанбе",
    "Президент Казахстана Касым-Жомарт Токаев провёл переговоры с Президентом Таджикистана "
    "Эмомали Рахмоном в Душанбе. Стороны подписали соглашения в сфере торговли и энергетики.",
)
CN_UZ = (
    "Uzbek and Chinese foreign ministers talk by phone",
    "Foreign Minister of Uzbekistan Bakhtiyor Saidov held a telephone conversation with "
    "Chinese Foreign Minister Wang Yi.",
)
KG_TR = (
    "Japarov and Erdogan hold talks in Ankara",
    "President of Kyrgyzstan Sadyr Japarov held talks with President of Turkey Recep Tayyip "
    "Erdogan in Ankara.",
)
AZ_TM = (
    "Berdimuhamedov and Aliyev talk by phone",
    "President of Turkmenistan Serdar Berdimuhamedov held a telephone conversation with "
    "President of Azerbaijan Ilham Aliyev.",
)
RU_UZ = (
    "Mirziyoyev and Putin hold talks in Moscow",
    "President of Uzbekistan Shavkat Mirziyoyev held talks with President of Russia Vladimir "
    "Putin in Moscow.",
)


def feed(*reports: tuple[tuple[str, str], float]) -> bytes:
    """An RSS feed of (report, days ago), listed as given (real feeds list newest first)."""
    now = datetime.now(UTC)
    return rss([(head, body, now - timedelta(days=days)) for (head, body), days in reports])


@pytest.fixture
async def bot_app(
    settings: Settings, fake_telegram: FakeTelegram
) -> AsyncIterator[tuple[App, FakeTelegram]]:
    settings = settings.model_copy(
        update={
            "admin_ids": frozenset({ADMIN}),
            "allow_private_feeds": True,
            "max_item_age": 24.0 * 7,  # reports of the last days are all fresh
        }
    )
    async with running_bot(settings, fake_telegram) as app:
        yield app, fake_telegram


def _db(app: App) -> Database:
    db: Database = app.bot_data.opened().db
    return db


async def say(fake: FakeTelegram, chat_id: int, text: str, **kwargs: Any) -> str:
    """Send `text` as the user; the bot's next message to that chat."""
    before = len(fake.messages(chat_id))
    fake.send_user_message(chat_id, text, **kwargs)
    return (await fake.wait_for_messages(chat_id, before + 1, timeout=20))[before].text


async def add_feed(fake: FakeTelegram, url: str) -> str:
    before = len(fake.messages(ADMIN))
    fake.send_user_message(ADMIN, f"/addfeed {url}")
    return (await fake.wait_for_messages(ADMIN, before + 2, timeout=30))[-1].text


async def quiet(fake: FakeTelegram, chat_id: int, count: int, settle: float = 4.0) -> list[str]:
    """The chat's messages once `count` have come and no more came for `settle` seconds."""
    await fake.wait_for_messages(chat_id, count, timeout=30)
    await asyncio.sleep(settle)
    return [m.text for m in fake.messages(chat_id)]


# -- short ids ---------------------------------------------------------------------------


@pytest.mark.slow
async def test_every_event_has_a_short_id_people_can_type(
    bot_app: tuple[App, FakeTelegram], feed_server: FeedServer
) -> None:
    app, fake = bot_app
    await say(fake, USER, "/start")
    url = feed_server.add("/ids", feed((KZ_TJ, 1)))
    assert "with 1 item." in await add_feed(fake, url)  # not "1 items"
    [alert] = (await quiet(fake, USER, 2))[1:]
    [event], _ = await _db(app).run(event_store.latest_events)
    assert f"/event {event.id}" in alert

    listing = await say(fake, USER, "/latest")
    assert f"/event {event.id}" in listing
    assert f"/event {event.id}" in await say(fake, USER, "/country Tajikistan")
    for ref in (str(event.id), f"#{event.id}", event.key, event.key.rsplit("-", 1)[0]):
        details = await say(fake, USER, f"/event {ref}")
        assert f"/event {event.id}" in details and "Steppe Wire" in details, ref
    assert "There is no event 999" in await say(fake, USER, "/event 999")


# -- subscriptions -------------------------------------------------------------------------


async def test_subscribe_adds_to_what_settings_shows_after_unsubscribe_and_start(
    bot_app: tuple[App, FakeTelegram],
) -> None:
    _, fake = bot_app
    five = ("Kazakhstan", "Kyrgyzstan", "Tajikistan", "Turkmenistan", "Uzbekistan")
    await say(fake, USER, "/start")
    fresh = await say(fake, USER, "/subscribe China")
    assert all(name in fresh for name in (*five, "China"))
    await say(fake, USER, "/unsubscribe")
    await say(fake, USER, "/start")
    fake.send_user_message(USER, "/settings")
    shown = (await quiet(fake, USER, 5, settle=0.5))[-1]
    assert all(name in shown for name in five) and "China" not in shown
    again = await say(fake, USER, "/subscribe China")
    assert again == fresh  # the same answer as in a fresh chat: China added to the five


# -- bursts ------------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_new_feed_with_many_events_sends_one_digest_in_date_order(
    bot_app: tuple[App, FakeTelegram], feed_server: FeedServer
) -> None:
    _, fake = bot_app
    await say(fake, USER, "/start")
    # Newest first, as feeds list them; the chat reads them oldest first.
    url = feed_server.add(
        "/burst", feed((KZ_TJ, 1), (CN_UZ, 2), (KG_TR, 3), (AZ_TM, 4), (RU_UZ, 5))
    )
    await add_feed(fake, url)
    messages = await quiet(fake, USER, 2)
    assert len(messages) == 2, messages  # the welcome and one digest, not five alerts
    digest = messages[1]
    assert digest.startswith("5 new events")
    order = ["Uzbekistan – Russia", "Turkmenistan – Azerbaijan", "Kyrgyzstan – Turkey"]
    order += ["Uzbekistan – China", "Kazakhstan – Tajikistan"]
    positions = [digest.index(header) for header in order]
    assert positions == sorted(positions), digest


@pytest.mark.slow
async def test_a_few_events_at_once_come_one_by_one_in_date_order(
    bot_app: tuple[App, FakeTelegram], feed_server: FeedServer
) -> None:
    _, fake = bot_app
    await say(fake, USER, "/start")
    url = feed_server.add("/few", feed((KZ_TJ, 1), (CN_UZ, 2), (KG_TR, 3)))
    await add_feed(fake, url)
    alerts = (await quiet(fake, USER, 4))[1:]
    assert len(alerts) == 3
    assert alerts[0].startswith("🇰🇬🇹🇷") and "Kyrgyzstan – Turkey" in alerts[0]
    assert "Uzbekistan – China" in alerts[1] and "Kazakhstan – Tajikistan" in alerts[2]


# -- Russian -----------------------------------------------------------------------------


@pytest.mark.slow
async def test_a_russian_reader_sees_russian_throughout(
    bot_app: tuple[App, FakeTelegram], feed_server: FeedServer
) -> None:
    app, fake = bot_app
    await say(fake, RU_USER, "/start", language_code="ru")
    url = feed_server.add("/ru", feed((KZ_TJ_RU, 0.9), (KZ_TJ, 1), (KG_TR, 2)))
    await add_feed(fake, url)
    await quiet(fake, RU_USER, 3)
    events, _ = await _db(app).run(event_store.latest_events)
    kz_tj = next(e for e in events if e.countries == ("KZ", "TJ"))
    assert kz_tj.language == "en"  # first reported in English…
    details = await say(fake, RU_USER, f"/event {kz_tj.id}")
    # …and read in Russian: the Russian report's summary, labels and words.
    assert "Токаев провёл переговоры" in details and "Tokayev" not in details
    assert "Подписано: соглашения" in details
    assert "Сферы: торговля, энергетика, водные ресурсы" in details
    assert "Казахстан – Таджикистан" in details
    listing = await say(fake, RU_USER, "/country Киргизия")
    assert "Кыргызстан" in listing and "Киргизия" not in listing


# -- small items -------------------------------------------------------------------------


async def test_clear_answers_to_small_mistakes(bot_app: tuple[App, FakeTelegram]) -> None:
    _, fake = bot_app
    reply = await add_feed(fake, "notaurl")
    assert "not a web address" in reply and "https://" in reply and "''" not in reply
    reply = await say(fake, USER, "/country Narnia")
    assert "Did you mean" not in reply and "Narnia" in reply
    assert "Did you mean Tajikistan?" in await say(fake, USER, "/country Tajikstan")


def test_scan_exits_1_when_no_feed_could_be_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'scan.db'}"
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DEFAULT_FEEDS", "false")
    monkeypatch.setenv("ALLOW_PRIVATE_FEEDS", "true")
    db = Database(db_url)
    db.upgrade()
    db.call(feed_store.add_feed, url=f"http://127.0.0.1:{closed_port()}/feed", title="Gone")
    db.close()
    assert main(["scan"]) == 1
    assert "none of the 1 feeds could be read" in capsys.readouterr().out


def test_eval_refuses_a_file_without_labels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"id": "1", "title": "Talks", "text": "Leaders met."}\n', encoding="utf-8")
    assert main(["eval", str(path)]) == 2
    err = capsys.readouterr().err
    assert 'line 1 has no "label"' in err and "coopwatch classify" in err


def test_unknown_keys_in_env_are_warned_about(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"DATABASE_URL=sqlite:///{tmp_path / 'env.db'}\nPOLL_INTERVALL=60\nADMIN_ID=5\n",
        encoding="utf-8",
    )
    assert main(["db", "upgrade"]) == 0  # the conftest fixture runs us in tmp_path
    err = capsys.readouterr().err
    assert "'POLL_INTERVALL' is ignored; did you mean POLL_INTERVAL?" in err
    assert "'ADMIN_ID' is ignored; did you mean ADMIN_IDS?" in err
    assert "DATABASE_URL" not in err


# -- console mode --------------------------------------------------------------------------


def closed_port() -> int:
    """A local port nobody listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def console(tmp_path: Path, **env: str) -> subprocess.Popen[str]:
    """`coopwatch run` without a token, in tmp_path, its stdin and stdout pipes."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ADMIN_"))}
    environment.update(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'console.db'}", "DEFAULT_FEEDS": "false"}, **env
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_console_answers_every_piped_command_before_it_exits(tmp_path: Path) -> None:
    process = console(tmp_path)
    out, err = process.communicate("/start\n/latest\n/addchannel @news\n/feeds\n", timeout=90)
    assert process.returncode == 0, err
    for answer in ("Welcome to coopwatch", "Latest events", "No feeds yet"):
        assert answer in out
    assert "Console mode has no channels, so @news cannot be added here" in out
    assert "Something went wrong" not in out and "Traceback" not in err
    assert "you are an\nadmin here" in out  # the banner says so
    assert out.rstrip().endswith("bye")


@pytest.mark.slow
def test_console_summarises_the_first_poll_in_one_line(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'console.db'}")
    db.upgrade()
    port = closed_port()
    for n in range(3):
        db.call(feed_store.add_feed, url=f"http://127.0.0.1:{port}/{n}", title=f"Outlet {n}")
    db.close()
    process = console(tmp_path, ALLOW_PRIVATE_FEEDS="true")
    assert process.stdout is not None and process.stdin is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "first poll" in line or not line:
            break
    process.stdin.close()
    process.wait(timeout=60)
    summary = [line for line in lines if "first poll" in line]
    assert summary and "3 of 3 feeds could not be read" in summary[0]
    assert "coopwatch-console.log" in summary[0]


def test_scan_names_an_event_already_stored_by_its_short_id(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    feed_server: FeedServer,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'scan.db'}"
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("DEFAULT_FEEDS", "false")
    monkeypatch.setenv("ALLOW_PRIVATE_FEEDS", "true")
    assert main(["feeds", "add", feed_server.add("/scan-ids", feed((CN_UZ, 1)))]) == 0
    assert main(["scan"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "\tcall\tCN-UZ" in x)
    assert "/event" not in line  # nothing stored yet: only the key
    db = Database(db_url)
    stored = db.call(
        event_store.create_event,
        key=line.split("\t")[0],
        event_type="call",
        countries=("CN", "UZ"),
        event_date=None,
        place=None,
        summary="Saidov and Wang Yi talked by phone.",
        facts={},
        evidence=None,
        language="en",
        confidence=0.96,
        state="{}",
        item_id=0,
        verdict=event_store.Verdict(True, "call", ("CN", "UZ"), 0.96, "[]"),
        alert=False,
    )
    db.close()
    assert main(["scan"]) == 0
    assert f"\t/event {stored.id}" in capsys.readouterr().out
