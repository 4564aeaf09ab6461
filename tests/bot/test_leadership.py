"""Leadership: one leader, a waiting instance takes over, a leader that cannot renew stops first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from coopwatch.leadership import Leadership
from storage import Database
from storage import lease as leases
from storage.lease import LeaseStore
from tests.conftest import _reset_postgres

FAST = {"ttl": 3.0, "renew_every": 0.2, "send_margin": 1.0, "retry_every": 0.1}


@pytest.fixture
def pg_url(postgres_server_url: str | None) -> Iterator[str]:
    if postgres_server_url is None:
        pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL)")
    _reset_postgres(postgres_server_url)
    database = Database(postgres_server_url)
    database.upgrade()
    database.close()
    yield postgres_server_url


def _instance(url: str, name: str, deposed: list[tuple[str, float]]) -> Leadership:
    return Leadership(
        LeaseStore(url),
        single=False,
        instance=name,
        on_deposed=lambda reason: deposed.append((name, time.monotonic())),
        **FAST,
    )


@pytest.mark.slow
async def test_a_waiting_instance_leads_once_the_leader_stops_renewing(pg_url: str) -> None:
    deposed: list[tuple[str, float]] = []
    first, second = _instance(pg_url, "a:1", deposed), _instance(pg_url, "b:2", deposed)
    try:
        await first.acquire()  # and then dies: no heartbeat
        waiting = asyncio.ensure_future(second.acquire())
        await asyncio.sleep(1.0)
        assert not waiting.done() and second.status().role == "waiting"
        assert second.status().leader == "a:1"
        await asyncio.wait_for(waiting, 5.0)
        assert (second.status().role, second.term) == ("leader", 2)
        assert second.claimant().holder == "b:2"
    finally:
        await first.close()
        await second.close()


@pytest.mark.slow
async def test_a_leader_that_cannot_renew_stops_before_another_starts(pg_url: str) -> None:
    deposed: list[tuple[str, float]] = []
    first, second = _instance(pg_url, "a:1", deposed), _instance(pg_url, "b:2", deposed)
    blocker = create_engine(pg_url)
    try:
        await first.acquire()
        first.start_heartbeat()
        await asyncio.sleep(0.5)
        assert first.is_leader()
        # The database stops answering the lease statements (as on a partition) for longer
        # than the lease lasts; the statement timeout ends the ones already waiting.
        with blocker.connect() as conn:
            conn.execute(text("LOCK TABLE leader_lease IN ACCESS EXCLUSIVE MODE"))
            taking_over = asyncio.ensure_future(second.acquire())
            started = time.monotonic()
            while first.is_leader():
                await asyncio.sleep(0.01)
            stopped_sending = time.monotonic()
            await asyncio.sleep(6.0 - (stopped_sending - started))
            conn.rollback()
        await asyncio.wait_for(taking_over, 10.0)
        took_over = time.monotonic()
        roles = (first.status().role, second.status().role)
    finally:
        await first.close()
        await second.close()
        blocker.dispose()

    assert stopped_sending - started <= FAST["ttl"] - FAST["send_margin"] + 0.5
    assert [name for name, _ in deposed] == ["a:1"]
    assert deposed[0][1] < took_over and stopped_sending < took_over
    assert roles == ("deposed", "leader")


async def test_a_leader_whose_lease_was_taken_is_deposed_at_once(pg_url: str) -> None:
    deposed: list[tuple[str, float]] = []
    first = _instance(pg_url, "a:1", deposed)
    store = LeaseStore(pg_url)
    try:
        await first.acquire()
        first.start_heartbeat()
        store.call(leases.try_acquire, holder="b:2", ttl=30, force=True)
        for _ in range(100):
            if deposed:
                break
            await asyncio.sleep(0.05)
        assert not first.is_leader()
        assert first.deposed_reason == "another instance took the lease"
    finally:
        await first.close()
        store.close()


async def test_sqlite_leads_at_once_with_a_new_term_at_every_start(sqlite_db: Database) -> None:
    terms = []
    for _ in range(2):
        single = Leadership(LeaseStore(sqlite_db.url), single=True, instance="solo:1")
        await single.acquire()  # the previous start never released its lease: no matter
        assert single.is_leader() and single.claimant().holder is None
        terms.append(single.term)
        await single.close()
    assert terms == [1, 2]
