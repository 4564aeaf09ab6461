"""Classifier throughput: items per second over dev.jsonl repeated to 10,000 items, one process.

Run: .venv/bin/python bench/classify.py [PATH]  (default ../shared/data/dev.jsonl)
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

from news.classify import Classifier
from news.evaluate import read_labelled

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev.jsonl"
ITEMS = 10_000


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    items = read_labelled(path)
    classifier = Classifier()  # loading the gazetteer and the analyser is not timed
    classifier.classify("warm-up", "Президент Казахстана встретился с президентом Китая.")
    batch = list(itertools.islice(itertools.cycle(items), ITEMS))
    wall, cpu = time.perf_counter(), time.process_time()
    for item in batch:
        classifier.classify(item.get("title") or "", item.get("text") or "")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # CPU time as well: on a busy machine the wall-clock figure understates one core's speed.
    print(
        f"{ITEMS} items in {wall:.2f} s: {ITEMS / wall:,.0f} items/s wall clock, "
        f"{ITEMS / cpu:,.0f} items/s of CPU time (one process)"
    )


if __name__ == "__main__":
    main()
