"""/filter in the outbox: the cost of enqueueing one event when many chats have a filter.

Usage: python bench/filter_enqueue.py [--chats N] [--filtered SHARE] [--database URL]

Seeds N private chats following the five states; SHARE of them have a /filter of three
words (a few distinct filters, as real users pick from a small vocabulary, plus unique
ones). Prints, for one event, the time of the event's transaction (create_event with its
outbox rows) with no filters and with filters, and how many chats were queued; and the
cost of the pipeline's topic detection per report. Goal: filters add well under a second
to a 10,000-chat fan-out once the words are in the lemma cache. About half a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from news.records import CENTRAL_ASIA  # noqa: E402
from news.topics import find_topics, report_terms  # noqa: E402
from storage import Database  # noqa: E402
from storage.events import Verdict, create_event  # noqa: E402
from storage.models import Chat, Subscription  # noqa: E402

VERDICT = Verdict(True, "meeting", ("KZ", "TJ"), 0.95, "[]")
REPORT = (
    "Kazakh and Tajik presidents hold talks in Dushanbe",
    "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of Tajikistan "
    "Emomali Rahmon. The sides signed agreements on hydropower, gas supplies and a railway.",
)
COMMON_FILTERS = ("energy water", "хлопок зерно cotton", "border security", "railway транзит")


def seed(db: Database, count: int, filtered: float) -> None:
    every = int(1 / filtered) if filtered > 0 else 0
    rows = []
    for i in range(1, count + 1):
        words = None
        if every and i % every == 0:
            # Half share a common filter, half are unique (the cache does not help them).
            unique = (i // every) % 2 == 0
            words = f"word{i} слово{i} uranium" if unique else COMMON_FILTERS[(i // every // 2) % 4]
        rows.append({"id": i, "type": "private", "language": "en", "filter_words": words})
    with db.session() as session:
        session.execute(insert(Chat), rows)
        session.execute(
            insert(Subscription),
            [{"chat_id": i, "country": c} for i in range(1, count + 1) for c in CENTRAL_ASIA],
        )


def enqueue_once(db: Database, key: str) -> tuple[float, int]:
    topics, terms = find_topics(*REPORT), report_terms(*REPORT)
    started = time.perf_counter()
    event = db.call(
        create_event,
        key=key,
        event_type="meeting",
        countries=("KZ", "TJ"),
        event_date=date(2026, 11, 20),
        place=None,
        summary=REPORT[1],
        facts={},
        evidence=None,
        language="en",
        confidence=0.95,
        state="{}",
        item_id=0,
        verdict=VERDICT,
        alert=True,
        topics=topics,
        terms=terms,
    )
    elapsed = time.perf_counter() - started
    with db.engine.connect() as conn:
        queued = conn.exec_driver_sql(
            f"SELECT count(*) FROM delivery WHERE event_id = {event.id}"
        ).scalar_one()
    return elapsed, int(queued)


def topic_rate() -> float:
    data = ROOT.parent / "shared" / "data" / "dev2.jsonl"
    if not data.exists():
        data = ROOT / "bench" / "data" / "dev2.jsonl"
    rows = [json.loads(line) for line in data.open(encoding="utf-8")] if data.exists() else []
    texts = [(r["title"], r["text"]) for r in rows] or [REPORT] * 300
    for title, text in texts:  # warm the lemma caches, as the classifier already has
        find_topics(title, text)
    started = time.perf_counter()
    for title, text in texts * 5:
        find_topics(title, text)
        report_terms(title, text)
    return len(texts) * 5 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--filtered", type=float, default=0.5)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for share in (0.0, args.filtered):
            url = args.database or f"sqlite:///{tmp}/filter-{share}.db"
            db = Database(url)
            db.upgrade()
            seed(db, args.chats, share)
            # The first event parses every filter (pymorphy3 on each distinct word); later
            # ones find the words in the lemma cache.
            first, queued = enqueue_once(db, f"B{share}")
            second, _ = enqueue_once(db, f"C{share}")
            print(
                f"chats={args.chats} filtered={share:.0%}: enqueue {first:.3f} s "
                f"(first event), {second:.3f} s (next), {queued} deliveries queued"
            )
            db.close()
            if args.database:
                break  # one shared database: seeding twice would collide
    print(f"topics + filter terms: {topic_rate():,.0f} reports/s (warm caches, one process)")


if __name__ == "__main__":
    main()
