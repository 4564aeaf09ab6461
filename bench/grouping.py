"""Grouping benchmark: B-cubed precision, recall and F1 of `coopwatch group` on labelled clusters.

Usage: python bench/grouping.py [PATH]   (default: bench/data/grouping_clusters.jsonl)

Each line is a `group` input item plus "cluster": the gold event key, or null for an item that
is not an event. An item that is not an event (gold or predicted null) counts as a cluster of
its own, so a missed event costs recall and a false event costs precision.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "bench" / "data" / "grouping_clusters.jsonl"


def bcubed(
    gold: Sequence[str | None], predicted: Sequence[str | None]
) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1; None labels are singletons."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    if not gold:
        return 1.0, 1.0, 1.0
    g = [c if c is not None else f"\0gold{i}" for i, c in enumerate(gold)]
    p = [c if c is not None else f"\0pred{i}" for i, c in enumerate(predicted)]
    pair_counts = Counter(zip(g, p, strict=True))
    gold_sizes, pred_sizes = Counter(g), Counter(p)
    precision = sum(pair_counts[(gi, pi)] / pred_sizes[pi] for gi, pi in zip(g, p, strict=True))
    recall = sum(pair_counts[(gi, pi)] / gold_sizes[gi] for gi, pi in zip(g, p, strict=True))
    precision, recall = precision / len(g), recall / len(g)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run(path: Path) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The labelled items and `coopwatch group`'s answers for them, in file order."""
    sys.path.insert(0, str(ROOT))
    from news.group_stream import group_stream

    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    lines = [json.dumps({k: v for k, v in it.items() if k != "cluster"}) for it in items]
    out = io.StringIO()
    group_stream(lines, out)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    return items, answers


def _report(items: list[dict[str, object]], answers: list[dict[str, object]]) -> None:
    by_gold: dict[object, list[str]] = {}
    for item, answer in zip(items, answers, strict=True):
        by_gold.setdefault(item["cluster"], []).append(f"{item['id']}->{answer.get('event')}")
    for gold, members in by_gold.items():
        predicted = {m.split("->")[1] for m in members}
        wrong = len(predicted) > 1 or (gold is None and predicted != {"None"})
        wrong = wrong or (gold is not None and predicted == {"None"})
        if wrong:
            print(f"  split/missed/false: {gold}: {' '.join(members)}")
    merged: dict[object, set[object]] = {}
    for item, answer in zip(items, answers, strict=True):
        if answer.get("event"):
            merged.setdefault(answer["event"], set()).add(item["cluster"])
    for key, golds in merged.items():
        if len(golds) > 1:
            print(f"  merged: {key}: {sorted(map(str, golds))}")


def main(argv: Sequence[str] = ()) -> None:
    path = Path(argv[0]) if argv else DEFAULT_DATA
    started = time.perf_counter()
    items, answers = run(path)
    elapsed = time.perf_counter() - started
    gold = [it["cluster"] for it in items]
    predicted = [a.get("event") for a in answers]
    precision, recall, f1 = bcubed(
        [str(c) if c else None for c in gold], [str(c) if c else None for c in predicted]
    )
    events = len({c for c in gold if c})
    print(f"{len(items)} items, {events} gold events, {len({p for p in predicted if p})} predicted")
    _report(items, answers)
    print(f"B-cubed precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    print(f"{len(items) / elapsed:.0f} items/s (classification included)")


if __name__ == "__main__":
    main(sys.argv[1:])
