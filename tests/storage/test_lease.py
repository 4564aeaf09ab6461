"""The leader lease: one holder at a time, expiry by the database's clock, fencing terms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage import Database, StorageError
from storage import lease as leases
from storage.lease import LeaseStore, lock_sqlite_file


@pytest.fixture
def store(db: Database) -> Iterator[LeaseStore]:
    found = LeaseStore(db.url)
    yield found
    found.close()


def test_only_one_instance_gets_a_held_lease(store: LeaseStore) -> None:
    first = store.call(leases.try_acquire, holder="a:1", ttl=30)
    assert first is not None and first.term == 1
    assert store.call(leases.try_acquire, holder="b:2", ttl=30) is None
    held = store.call(leases.current_lease)
    assert held is not None and (held.holder, held.term) == ("a:1", 1)


def test_an_expired_lease_goes_to_the_next_taker_with_a_new_term(store: LeaseStore) -> None:
    assert store.call(leases.try_acquire, holder="a:1", ttl=0.2) is not None
    time.sleep(0.3)
    taken = store.call(leases.try_acquire, holder="b:2", ttl=30)
    assert taken is not None and (taken.holder, taken.term) == ("b:2", 2)
    # The old holder can neither renew nor release what is no longer its own.
    assert store.call(leases.renew, holder="a:1", term=1, ttl=30) is None
    assert not store.call(leases.release, holder="a:1", term=1)
    assert store.call(leases.holds_lease, holder="b:2", term=2)
    assert not store.call(leases.holds_lease, holder="a:1", term=1)


def test_renewal_keeps_the_lease_and_release_frees_it_at_once(store: LeaseStore) -> None:
    assert store.call(leases.try_acquire, holder="a:1", ttl=0.5) is not None
    time.sleep(0.3)
    renewed = store.call(leases.renew, holder="a:1", term=1, ttl=30)
    assert renewed is not None
    time.sleep(0.3)  # past the first expiry: the renewal moved it
    assert store.call(leases.try_acquire, holder="b:2", ttl=30) is None
    assert store.call(leases.release, holder="a:1", term=1)
    taken = store.call(leases.try_acquire, holder="b:2", ttl=30)
    assert taken is not None and taken.term == 2


def test_force_takes_a_held_lease(store: LeaseStore) -> None:
    assert store.call(leases.try_acquire, holder="a:1", ttl=30) is not None
    forced = store.call(leases.try_acquire, holder="b:2", ttl=30, force=True)
    assert forced is not None and forced.term == 2


def test_a_second_instance_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coopwatch.db'}"
    held = lock_sqlite_file(url)
    assert held is not None
    with pytest.raises(StorageError, match=r"another coopwatch instance .*SQLite allows one"):
        lock_sqlite_file(url)
    held.release()
    again = lock_sqlite_file(url)
    assert again is not None
    again.release()


def test_postgresql_and_memory_need_no_file_lock() -> None:
    assert lock_sqlite_file("sqlite://") is None
    assert lock_sqlite_file("postgresql+psycopg://u@127.0.0.1/x") is None
