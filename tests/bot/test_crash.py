"""kill -9 in the middle of a fan-out, restart: nothing is lost, at most one duplicate."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from storage import Database
from storage.models import Delivery
from tests.fakebot.server import FakeTelegram
from tests.seed import add_chat, add_event

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHATS = range(1, 61)


def _command() -> list[str]:
    return [sys.executable, "-m", "bot", "run"]


def _start(fake: FakeTelegram, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
        "DATABASE_URL": database_url,
        "DEFAULT_FEEDS": "false",
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(_command(), cwd=log.parent, env=env, stdout=out, stderr=out)


def _alerts(fake: FakeTelegram) -> dict[int, int]:
    return {chat_id: len(fake.messages(chat_id)) for chat_id in CHATS}


async def _wait(fake: FakeTelegram, enough: int, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for n in _alerts(fake).values() if n) < enough:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {_alerts(fake)} after {timeout}s; log:\n{log.read_text()}")
        await asyncio.sleep(0.02)


async def test_sigkill_mid_fan_out_loses_nothing(
    tmp_path: Path, sqlite_db: Database, fake_telegram: FakeTelegram
) -> None:
    for chat_id in CHATS:
        fake_telegram.add_chat(chat_id, "private")
        add_chat(sqlite_db, chat_id)
    add_event(sqlite_db)
    url, log = sqlite_db.url, tmp_path / "coopwatch.log"

    first = _start(fake_telegram, url, log)
    try:
        await _wait(fake_telegram, 30, 15.0, log)  # past the first burst, mid fan-out
        # A crash comes at any moment, not in step with the sends: kill somewhere within
        # the next two sends (28/s), wherever that falls relative to the window.
        await asyncio.sleep(random.uniform(0.0, 0.07))
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    finally:
        first.kill()
    before_restart = _alerts(fake_telegram)
    assert sum(1 for n in before_restart.values() if n) < len(CHATS), "killed too late"

    second = _start(fake_telegram, url, log)
    try:
        await _wait(fake_telegram, len(CHATS), 15.0, log)
        await asyncio.sleep(0.3)  # anything sent twice would show up by now
    finally:
        second.terminate()
        second.wait(10)

    alerts = _alerts(fake_telegram)
    assert min(alerts.values()) == 1, "an alert was lost"
    order = [r.params.get("chat_id") for r in fake_telegram.calls("sendMessage")]
    twice = [(i, c) for i, c in enumerate(order) if order.index(c) != i]
    assert sum(n - 1 for n in alerts.values()) <= 1, f"sent twice (position, chat): {twice}"
    with sqlite_db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert {row.status for row in rows} == {"sent"}


async def test_sigterm_mid_fan_out_stops_cleanly_and_resumes_without_duplicates(
    tmp_path: Path, sqlite_db: Database, fake_telegram: FakeTelegram
) -> None:
    for chat_id in CHATS:
        fake_telegram.add_chat(chat_id, "private")
        add_chat(sqlite_db, chat_id)
    add_event(sqlite_db)
    url, log = sqlite_db.url, tmp_path / "coopwatch.log"
    first = _start(fake_telegram, url, log)
    try:
        await _wait(fake_telegram, 20, 15.0, log)
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
    finally:
        first.kill()
    assert "Traceback" not in log.read_text()
    stopped_at = sum(1 for n in _alerts(fake_telegram).values() if n)
    assert stopped_at < len(CHATS), "stopped too late to test anything"
    second = _start(fake_telegram, url, log)
    try:
        await _wait(fake_telegram, len(CHATS), 15.0, log)
        await asyncio.sleep(0.3)
    finally:
        second.terminate()
        second.wait(10)
    # A clean stop finishes the send in hand and records it: nobody gets the alert twice.
    assert set(_alerts(fake_telegram).values()) == {1}
