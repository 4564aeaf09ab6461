"""High availability: several `coopwatch run` on one PostgreSQL database, one leader.

Real processes against the fake Bot API, which ends an older getUpdates with 409 Conflict
when a newer one arrives, as Telegram does. The leader is killed with SIGKILL in the middle
of a fan-out, twice: a waiting instance takes over within 30 s each time, and every chat
gets every alert once (at most one repeat per kill: the documented window between
Telegram's answer and the commit, see docs/design.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.delivery import CONCURRENCY
from storage import Database
from storage import lease as leases
from storage.lease import Lease, LeaseStore
from storage.models import Delivery
from storage.types import utcnow
from tests.bot.test_health import free_port, get_health
from tests.conftest import _reset_postgres
from tests.delivery.helpers import add_chat, add_event
from tests.fakebot.server import FakeTelegram

CHATS = range(1, 61)
TAKEOVER_LIMIT = 30.0


@pytest.fixture
def pg_db(postgres_server_url: str | None) -> Iterator[Database]:
    if postgres_server_url is None:
        pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL)")
    _reset_postgres(postgres_server_url)
    database = Database(postgres_server_url)
    database.upgrade()
    yield database
    database.close()


class Instances:
    """The `coopwatch run` processes of one test, each with its own log."""

    def __init__(self, fake: FakeTelegram, database_url: str, workdir: Path) -> None:
        self.fake, self.database_url, self.workdir = fake, database_url, workdir
        self.running: dict[int, subprocess.Popen[bytes]] = {}
        self.logs: dict[int, Path] = {}

    def start(
        self, health_port: int | None = None, extra: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        env = os.environ | {
            "TELEGRAM_BOT_TOKEN": self.fake.token,
            "TELEGRAM_BASE_URL": self.fake.base_url,
            "DATABASE_URL": self.database_url,
            "DEFAULT_FEEDS": "false",
            "LOG_LEVEL": "INFO",
        }
        if health_port is not None:
            env["WEB_PORT"] = str(health_port)
        env |= extra or {}
        log = self.workdir / f"instance-{len(self.logs) + 1}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=self.workdir,
                env=env,
                stdout=out,
                stderr=out,
            )
        self.running[process.pid] = process
        self.logs[process.pid] = log
        return process

    def kill(self, pid: int) -> None:
        process = self.running.pop(pid)
        process.send_signal(signal.SIGKILL)
        process.wait(5)

    def stop_all(self) -> list[int | None]:
        """SIGTERM to every instance; their exit statuses (None: killed after 20 s)."""
        for process in self.running.values():
            process.terminate()
        statuses: list[int | None] = []
        for process in self.running.values():
            try:
                statuses.append(process.wait(20))
            except subprocess.TimeoutExpired:
                process.kill()
                statuses.append(None)
        self.running.clear()
        return statuses

    def output(self) -> str:
        return "\n".join(f"--- pid {pid}:\n{log.read_text()}" for pid, log in self.logs.items())


async def _waiting(instances: Instances, process: subprocess.Popen[bytes]) -> None:
    """Once a newly started instance waits for the lease (and handles SIGTERM)."""
    deadline = time.monotonic() + 30.0
    while "waiting: " not in instances.logs[process.pid].read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"pid {process.pid} never waited; logs:\n{instances.output()}")
        await asyncio.sleep(0.1)


def _alerts(fake: FakeTelegram) -> dict[int, int]:
    return {chat_id: len(fake.messages(chat_id)) for chat_id in CHATS}


def _lease(store: LeaseStore) -> Lease | None:
    found: Lease | None = store.call(leases.current_lease)
    return found


async def _leader(store: LeaseStore, instances: Instances, timeout: float) -> int:
    """The pid of the instance holding an unexpired lease, once there is one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = _lease(store)
        if held is not None and held.expires_at > utcnow():
            pid = int(held.holder.rsplit(":", 1)[1])
            if pid in instances.running:
                return pid
        await asyncio.sleep(0.1)
    raise AssertionError(f"no leader after {timeout}s; logs:\n{instances.output()}")


async def _wait_alerts(
    fake: FakeTelegram, instances: Instances, per_chat: int, enough: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for n in _alerts(fake).values() if n >= per_chat) < enough:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"only {_alerts(fake)} after {timeout}s; logs:\n{instances.output()}"
            )
        await asyncio.sleep(0.02)


async def _kill_leader_mid_fan_out(
    fake: FakeTelegram, instances: Instances, store: LeaseStore, per_chat: int
) -> tuple[float, int]:
    """Kill the leader once half the chats have this alert.

    Returns the takeover time in seconds and how many messages had been sent at the kill.
    """
    leader = await _leader(store, instances, 30.0)
    await _wait_alerts(fake, instances, per_chat, len(CHATS) // 2, 30.0)
    # Not in step with the sends (seeing a message stored is itself a moment inside the
    # duplicate window): kill somewhere within the next two sends (28/s).
    await asyncio.sleep(random.uniform(0.0, 0.07))
    instances.kill(leader)
    killed_at = time.monotonic()
    sent_at_kill = len(fake.calls("sendMessage"))
    assert sum(1 for n in _alerts(fake).values() if n >= per_chat) < len(CHATS), "killed late"
    await _leader(store, instances, TAKEOVER_LIMIT + 5)
    return time.monotonic() - killed_at, sent_at_kill


@pytest.mark.timeout(240)
async def test_sigkill_of_the_leader_mid_fan_out_loses_and_repeats_nothing(
    tmp_path: Path, pg_db: Database, fake_telegram: FakeTelegram
) -> None:
    for chat_id in CHATS:
        fake_telegram.add_chat(chat_id, "private")
        add_chat(pg_db, chat_id)
    instances = Instances(fake_telegram, pg_db.url, tmp_path)
    store = LeaseStore(pg_db.url)
    try:
        ports = {instances.start(port).pid: port for port in (free_port(), free_port())}
        leader = await _leader(store, instances, 30.0)
        await asyncio.sleep(3.0)  # both up: the waiting one must not poll Telegram
        assert fake_telegram.conflicts == 0, instances.output()
        for pid, port in ports.items():
            health = (await get_health(port)).json()
            assert health["status"] == "ok", health
            role = "leader" if pid == leader else "waiting"
            assert health["leadership"]["role"] == role, health
            assert health["leadership"]["leader"].endswith(f":{leader}"), health

        add_event(pg_db)
        first_takeover, first_kill = await _kill_leader_mid_fan_out(
            fake_telegram, instances, store, 1
        )
        instances.start()  # a replacement joins as a waiting instance
        await _wait_alerts(fake_telegram, instances, 1, len(CHATS), 30.0)

        add_event(pg_db, countries=("UZ", "KG"), summary="Mirziyoyev held talks with Japarov.")
        second_takeover, second_kill = await _kill_leader_mid_fan_out(
            fake_telegram, instances, store, 2
        )
        replacement = instances.start()
        await _wait_alerts(fake_telegram, instances, 2, len(CHATS), 30.0)
        await asyncio.sleep(0.5)  # anything sent twice would show up by now
        await _waiting(instances, replacement)
        # The last leader and the last waiting instance stop cleanly on SIGTERM.
        assert instances.stop_all() == [0, 0], instances.output()
    finally:
        instances.stop_all()
        store.close()

    alerts = _alerts(fake_telegram)
    repeated = sum(n - 2 for n in alerts.values())
    print(  # the figures, for `pytest -s`
        f"takeovers {first_takeover:.1f} s and {second_takeover:.1f} s; repeated {repeated}; "
        f"409s {fake_telegram.conflicts}"
    )
    assert first_takeover < TAKEOVER_LIMIT and second_takeover < TAKEOVER_LIMIT
    assert min(alerts.values()) == 2, "an alert was lost"
    # (chat, which alert) of every send, in order.
    order = [
        (r.params.get("chat_id"), "Mirziyoyev" in str(r.params.get("text")))
        for r in fake_telegram.calls("sendMessage")
    ]
    assert repeated <= 2, f"sent twice: {repeated} (order {order})"  # one window per kill
    # A repeat can only be a send the killed leader had in flight (the window), never a
    # row the two leaders both took: its first copy is among the last sends before a kill.
    for position, send in enumerate(order):
        first = order.index(send)
        if first != position:
            assert any(kill - CONCURRENCY <= first < kill for kill in (first_kill, second_kill)), (
                f"{send} repeated at {position}, first at {first}; kills {first_kill, second_kill}"
            )
    with pg_db.session() as session:
        assert {row.status for row in session.exec(select(Delivery)).all()} == {"sent"}
    # The dead leader's last long poll may be ended by the new leader's: one 409 per kill.
    assert fake_telegram.conflicts <= 2


async def test_a_second_instance_on_one_sqlite_file_refuses_to_start(
    tmp_path: Path, sqlite_db: Database, fake_telegram: FakeTelegram
) -> None:
    instances = Instances(fake_telegram, sqlite_db.url, tmp_path)
    try:
        first = instances.start()
        await fake_telegram.wait_for_requests("getUpdates", 1, timeout=30.0)
        second = instances.start()
        assert second.wait(30) == 1
        assert first.poll() is None, "the first instance must keep running"
    finally:
        instances.stop_all()
    refusal = instances.logs[second.pid].read_text()
    assert f"another coopwatch instance (pid {first.pid}) is running" in refusal
    assert "SQLite allows one instance" in refusal
    assert "Traceback" not in refusal


async def test_a_leader_that_loses_its_lease_stops_and_exits_with_status_3(
    tmp_path: Path, pg_db: Database, fake_telegram: FakeTelegram
) -> None:
    instances = Instances(fake_telegram, pg_db.url, tmp_path)
    store = LeaseStore(pg_db.url)
    try:
        leader = instances.start()
        await _leader(store, instances, 30.0)
        # What no correct instance does, to see the leader react: the lease changes hands.
        store.call(leases.try_acquire, holder="elsewhere:1", ttl=60, force=True)
        try:
            assert leader.wait(30) == 3
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running; logs:\n{instances.output()}") from None
    finally:
        instances.stop_all()
        store.close()
    log = instances.logs[leader.pid].read_text()
    assert "lost leadership (another instance took the lease)" in log
    assert "Traceback" not in log


async def test_in_webhook_mode_only_the_leader_registers_and_takes_updates(
    tmp_path: Path, pg_db: Database, fake_telegram: FakeTelegram
) -> None:
    instances = Instances(fake_telegram, pg_db.url, tmp_path)
    store = LeaseStore(pg_db.url)
    secret = "ha-secret_0123456789"
    webhook = {"WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": secret}
    try:
        ports = {instances.start(port, webhook).pid: port for port in (free_port(), free_port())}
        leader = await _leader(store, instances, 30.0)
        await fake_telegram.wait_for_requests("setWebhook", 1, timeout=30.0)
        [waiting] = [pid for pid in ports if pid != leader]
        await _waiting(instances, instances.running[waiting])
        async with httpx.AsyncClient(timeout=5) as client:
            answers = {
                pid: (
                    await client.post(
                        f"http://127.0.0.1:{port}/hook",
                        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                        json={"update_id": 1},
                    )
                ).status_code
                for pid, port in ports.items()
            }
        # The waiting instance refuses (Telegram would send the update again, to the leader)
        # and stops at once on SIGTERM, though it never got past waiting for the lease.
        instances.running[waiting].terminate()
        assert instances.running.pop(waiting).wait(20) == 0
    finally:
        statuses = instances.stop_all()
        store.close()
    assert answers == {leader: 200, waiting: 503}
    assert len(fake_telegram.calls("setWebhook")) == 1
    assert statuses == [0], instances.output()
