"""The outbox claim: atomic across processes, voided by a newer term, fenced by the lease."""

from __future__ import annotations

import threading
from datetime import timedelta

from storage import Database, deliveries
from storage import lease as leases
from storage.deliveries import Claimant
from storage.types import utcnow
from tests.delivery.helpers import add_chat, add_event


def _claim(db: Database, claimant: Claimant, limit: int = 10, **kwargs: float) -> list[int]:
    due = db.call(
        deliveries.claim_due_deliveries, now=utcnow(), limit=limit, claimant=claimant, **kwargs
    )
    return sorted(d.chat_id for d in due)


def test_a_claimed_row_is_not_claimed_again_in_the_same_term(db: Database) -> None:
    for chat_id in (1, 2, 3):
        add_chat(db, chat_id)
    add_event(db)
    assert _claim(db, Claimant(1), limit=2) == [1, 2]
    assert _claim(db, Claimant(1)) == [3]
    assert _claim(db, Claimant(1)) == []


def test_a_newer_term_takes_over_the_claims_of_an_older_one(db: Database) -> None:
    add_chat(db, 1)
    add_event(db)
    assert _claim(db, Claimant(1)) == [1]
    assert _claim(db, Claimant(2)) == [1]  # the old leader stopped before this term began
    assert _claim(db, Claimant(1)) == []  # and an old term never takes a newer one's rows


def test_an_expired_claim_is_claimed_again(db: Database) -> None:
    add_chat(db, 1)
    add_event(db)
    assert _claim(db, Claimant(1), claim_seconds=-1.0) == [1]
    assert _claim(db, Claimant(1)) == [1]


def test_marking_a_row_ends_its_claim(db: Database) -> None:
    add_chat(db, 1)
    add_chat(db, 2)
    add_event(db)
    due = {
        d.chat_id: d
        for d in db.call(
            deliveries.claim_due_deliveries, now=utcnow(), limit=10, claimant=Claimant(1)
        )
    }
    db.call(deliveries.mark_sent, delivery_id=due[1].id, message_id=5, source_count=1)
    db.call(deliveries.mark_retry, delivery_id=due[2].id, next_attempt_at=utcnow(), error="timeout")
    assert _claim(db, Claimant(1)) == [2]  # pending again, claim gone; the sent one never


def test_next_due_at_counts_a_live_claim_from_its_end(db: Database) -> None:
    add_chat(db, 1)
    add_event(db)
    before = utcnow()
    _claim(db, Claimant(1), claim_seconds=60.0)
    held_until = db.call(deliveries.next_due_at, term=1)
    assert held_until is not None and held_until > before + timedelta(seconds=50)
    free = db.call(deliveries.next_due_at, term=2)
    assert free is not None and free <= utcnow()


def test_only_the_lease_holder_claims(db: Database) -> None:
    add_chat(db, 1)
    add_event(db)
    store = leases.LeaseStore(db.url)
    try:
        held = store.call(leases.try_acquire, holder="a:1", ttl=30)
        assert held is not None
        assert _claim(db, Claimant(held.term, holder="b:2")) == []
        assert _claim(db, Claimant(held.term + 1, holder="a:1")) == []
        assert _claim(db, Claimant(held.term, holder="a:1")) == [1]
    finally:
        store.close()


def test_concurrent_claims_never_share_a_row(db: Database) -> None:
    chat_ids = range(1, 41)
    for chat_id in chat_ids:
        add_chat(db, chat_id)
    add_event(db)
    taken: list[list[int]] = [[], [], [], []]
    start = threading.Barrier(len(taken))

    def claim(slot: int) -> None:
        start.wait()
        while batch := _claim(db, Claimant(1), limit=3):
            taken[slot].extend(batch)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(taken))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [chat_id for batch in taken for chat_id in batch]
    assert sorted(everything) == list(chat_ids)
