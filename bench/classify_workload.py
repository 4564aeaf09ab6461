"""A fixed, small classifier workload for A/B comparisons, in CPU time or under callgrind.

Run: .venv/bin/python bench/classify_workload.py [--passes N] [--repeat R]

300 labelled items (dev.jsonl, then dev2.jsonl) and 100 generated word-salad feed items
(bench/feedserver_process.py: long run-on sentences of country and event words) are
classified once to warm the caches (lemmas, phrase starts) and the word-salad positives'
reports read once; then, each in a thread of its own, measured: classifying the labelled
items, classifying the word-salad items, and reading the positives' reports as the analysis
worker does (news.analysis.read_report, the verdicts given). Under
``valgrind --tool=callgrind --separate-threads=yes`` the files ``-02``, ``-03`` and ``-04``
count the three alone.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify_corpus import CorpusItem, labelled, word_salad

from news.analysis import ItemText, read_report
from news.candidates import is_event
from news.classify import classify_item
from news.records import Classification


def classify_all(items: list[CorpusItem]) -> list[Classification]:
    return [
        classify_item(i.title, i.text, published=i.published, language=i.language) for i in items
    ]


def read_all(reports: list[tuple[CorpusItem, Classification]]) -> None:
    for n, (i, result) in enumerate(reports):
        read_report(ItemText(n, i.title, i.text, i.published, i.language), result)


def best_of(args: argparse.Namespace, work: Callable[[], object], count: int) -> float:
    """The least CPU seconds per item over ``--repeat`` runs of ``--passes`` passes."""
    best = float("inf")
    for _ in range(args.repeat):
        cpu = time.process_time()
        for _ in range(args.passes):
            work()
        best = min(best, (time.process_time() - cpu) / (args.passes * count))
    return best


def in_thread(work: Callable[[], None], finished: threading.Event) -> None:
    """Run ``work`` in a new thread, which then lives on until ``finished``: a thread that
    ended would leave its number to the next one, and callgrind counts per number."""
    done = threading.Event()

    def run() -> None:
        work()
        done.set()
        finished.wait()

    threading.Thread(target=run, daemon=True).start()
    done.wait()


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
    reports = [(i, r) for i, r in zip(salad, classify_all(salad), strict=True) if is_event(r)]
    read_all(reports)
    seconds: dict[str, float] = {}

    def measure(name: str, work: Callable[[], object], count: int) -> Callable[[], None]:
        return lambda: seconds.__setitem__(name, best_of(args, work, count))

    finished = threading.Event()
    in_thread(measure("dev", lambda: classify_all(dev), len(dev)), finished)
    in_thread(measure("salad", lambda: classify_all(salad), len(salad)), finished)
    in_thread(measure("report", lambda: read_all(reports), len(reports)), finished)
    finished.set()
    print(
        f"classify: dev {seconds['dev'] * 1e6:,.0f} µs/item ({1 / seconds['dev']:,.0f} items/s), "
        f"word salad {seconds['salad'] * 1e3:.3f} ms/item; "
        f"read_report of {len(reports)} word-salad positives {seconds['report'] * 1e3:.3f} ms/item"
    )


if __name__ == "__main__":
    main()
