"""A fixed, small classifier workload for A/B comparisons, in CPU time or under callgrind.

Run: .venv/bin/python bench/classify_workload.py [--passes N] [--repeat R]

300 labelled items (dev.jsonl, then dev2.jsonl) and 100 generated word-salad feed items
(bench/feedserver_process.py: long run-on sentences of country and event words), classified
once to warm the caches (lemmas, phrase starts), then ``--passes`` times measured; the
word-salad positives' reports are read as the analysis worker reads them (read_report).
The measured passes run in a thread of their own, so that under
``valgrind --tool=callgrind --separate-threads=yes`` the second thread's file counts them alone.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify_corpus import CorpusItem, labelled, word_salad

from news.analysis import ItemText, read_report
from news.candidates import is_event
from news.classify import classify_item


def classify_all(items: list[CorpusItem]) -> list[bool]:
    return [
        is_event(classify_item(i.title, i.text, published=i.published, language=i.language))
        for i in items
    ]


def read_all(items: list[CorpusItem]) -> None:
    for n, i in enumerate(items):
        result = classify_item(i.title, i.text, published=i.published, language=i.language)
        read_report(ItemText(n, i.title, i.text, i.published, i.language), result)


def best_of(repeat: int, passes: int, work: object, items: list[CorpusItem]) -> float:
    """The least CPU seconds per item over ``repeat`` runs of ``passes`` passes."""
    best = float("inf")
    for _ in range(repeat):
        cpu = time.process_time()
        for _ in range(passes):
            work(items)  # type: ignore[operator]
        best = min(best, (time.process_time() - cpu) / (passes * len(items)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    dev = list(
        itertools.islice(itertools.chain(labelled("dev.jsonl"), labelled("dev2.jsonl")), 300)
    )
    salad = list(itertools.islice(word_salad(5), 100))
    classify_all(dev)
    positives = [i for i, p in zip(salad, classify_all(salad), strict=True) if p]
    read_all(positives)
    thread = threading.Thread(target=measure, args=(args, dev, salad, positives))
    thread.start()
    thread.join()


def measure(
    args: argparse.Namespace,
    dev: list[CorpusItem],
    salad: list[CorpusItem],
    positives: list[CorpusItem],
) -> None:
    dev_s = best_of(args.repeat, args.passes, classify_all, dev)
    salad_s = best_of(args.repeat, args.passes, classify_all, salad)
    # read_all classifies again: the report's own cost is what is left of it
    report_s = best_of(args.repeat, args.passes, read_all, positives)
    classify_pos = best_of(args.repeat, args.passes, classify_all, positives)
    print(
        f"classify: dev {dev_s * 1e6:,.0f} µs/item ({1 / dev_s:,.0f} items/s), "
        f"word salad {salad_s * 1e3:.3f} ms/item; read_report {len(positives)} word-salad "
        f"positives {(report_s - classify_pos) * 1e3:.3f} ms/item"
    )


if __name__ == "__main__":
    main()
