"""Classifier verdicts on stored items: many negatives in one transaction, and a joining
report's facts merged where they are stored (issue 14: a poll's database work per item)."""

from __future__ import annotations

from sqlmodel import select

from storage import Database
from storage import events as event_store
from storage.db import UPDATE_BATCH
from storage.models import Item
from tests.seed import VERDICT, add_event, add_item

NEGATIVE = event_store.Verdict(False, "none", (), 0.95, '[{"sentence": "Weather.", "spans": []}]')
OTHER = event_store.Verdict(False, "none", ("KZ",), 0.6, "[]")


def test_negative_verdicts_are_stored_together_and_a_vanished_item_is_skipped(
    db: Database,
) -> None:
    first, second = add_item(db, 1), add_item(db, 2)
    # 10**9: an item pruned between the poll and its classification.
    db.call(
        event_store.save_classifications, [(first, NEGATIVE), (10**9, NEGATIVE), (second, OTHER)]
    )
    with db.session() as session:
        rows = {row.id: row for row in session.exec(select(Item)).all()}
    assert rows[first].label is False and rows[first].confidence == 0.95
    assert rows[first].evidence == NEGATIVE.evidence
    assert rows[second].countries == "KZ" and rows[second].confidence == 0.6
    assert set(rows) == {first, second}


def test_more_verdicts_than_one_statement_takes(db: Database) -> None:
    ids = [add_item(db, n) for n in range(UPDATE_BATCH + 3)]
    db.call(event_store.save_classifications, [(i, NEGATIVE) for i in ids])
    with db.session() as session:
        labels = session.exec(select(Item.label)).all()
    assert len(labels) == len(ids) and not any(labels) and None not in labels


def test_a_joining_report_merges_into_the_stored_facts_in_its_own_transaction(
    db: Database,
) -> None:
    event = add_event(
        db, facts={"place": "Dushanbe", "documents": ["roadmap"]}, item_id=add_item(db, 7)
    )
    seen: list[dict[str, object]] = []

    def merge(known: dict[str, object]) -> dict[str, object]:
        seen.append(known)
        return known | {"documents": ["roadmap", "water treaty"]}

    joined = db.call(
        event_store.add_source,
        key=event.key,
        item_id=add_item(db, 8),
        state="{}",
        verdict=VERDICT,
        alert=False,
        merge_facts=merge,
    )
    assert seen == [{"place": "Dushanbe", "documents": ["roadmap"]}]
    assert joined is not None and joined.source_count == 2
    assert joined.facts["documents"] == ["roadmap", "water treaty"]
