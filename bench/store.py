"""The storage side of a poll cycle: CPU time of storing a poll's new items, and of a report
joining an existing event (issue 14).

Usage: python bench/store.py [--feeds N] [--items N] [--joins N] [--rounds N]

On a temporary SQLite file: ``record_success`` for N feeds of N new items each (one
transaction per feed, as the poller does), then ``add_source`` of N reports into one alerted
event (one transaction per join, with a facts merge, a stated span, topics and report
words, as the pipeline calls it) with a few chats following it, then ``create_event`` of N
alerted events (their deliveries queued). Prints the CPU time of the process
(time.process_time) per feed, per join and per event, the best of the rounds. About 30 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from news.records import CENTRAL_ASIA, FeedItem  # noqa: E402
from storage import Database, feedrows  # noqa: E402
from storage import chats as chat_store  # noqa: E402
from storage import events as event_store  # noqa: E402
from storage import feeds as feed_store  # noqa: E402

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
VERDICT = event_store.Verdict(True, "visit", ("KZ", "TJ"), 0.95, '[{"sentence": "x"}]')
TEXT = "President Tokayev arrived in Dushanbe for a two-day state visit. " * 12


def _items(feed: int, count: int) -> list[FeedItem]:
    return [
        FeedItem(
            f"https://feed{feed}.example/item/{n}",
            f"https://feed{feed}.example/item/{n}",
            f"Kazakhstan and Tajikistan sign agreement number {n}",
            TEXT,
            NOW - timedelta(minutes=n),
            "en",
        )
        for n in range(count)
    ]


def _merge(known: dict[str, Any]) -> dict[str, Any]:
    return known | {"place": "Dushanbe", "figures": [{"value": 1.5, "noun": "billion"}]}


def one_round(feeds: int, items: int, joins: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.upgrade()
        for chat_id in range(1, 11):
            db.call(chat_store.register_chat, chat_id=chat_id, chat_type="private", language="en")
            db.call(chat_store.set_countries, chat_id=chat_id, countries=CENTRAL_ASIA)
        ids = [
            db.call(feed_store.add_feed, url=f"https://feed{n}.example/rss", title=f"Feed {n}").id
            for n in range(feeds)
        ]
        batches = [_items(n, items) for n in range(feeds)]
        started = time.process_time()
        stored: list[feed_store.StoredItem] = []
        for feed_id, batch in zip(ids, batches, strict=True):
            stored += db.write_now(
                feedrows.record_success,
                feed_id=feed_id,
                now=NOW,
                next_poll_at=NOW + timedelta(minutes=15),
                items=batch,
                max_age=timedelta(hours=48),
                etag='"abc"',
                last_modified="Sat, 28 Nov 2026 12:00:00 GMT",
                caching_headers=True,
                title="A feed",
                language="en",
                body_fingerprint="f" * 40,
            )
        per_feed = (time.process_time() - started) / feeds
        first = stored[0]
        event = db.call(
            event_store.create_event,
            key="KZ-TJ-2026-11-28-visit",
            event_type="visit",
            countries=("KZ", "TJ"),
            event_date=date(2026, 11, 28),
            place=None,
            summary="Tokayev arrived in Dushanbe.",
            facts={"event_date": "2026-11-28"},
            evidence="Tokayev arrived in Dushanbe.",
            language="en",
            confidence=0.95,
            state="{}",
            item_id=first.id,
            verdict=VERDICT,
            alert=True,
        )
        state = '{"members": [' + ",".join(str(n) for n in range(joins)) + "]}"
        started = time.process_time()
        for joining in stored[1 : joins + 1]:
            db.call(
                event_store.add_source,
                key=event.key,
                item_id=joining.id,
                state=state,
                verdict=VERDICT,
                alert=True,
                span=(date(2026, 11, 28), date(2026, 11, 29)),
                topics=("energy",),
                terms=frozenset({"dushanbe", "visit"}),
                merge_facts=_merge,
                place="Dushanbe",
            )
        per_join = (time.process_time() - started) / joins
        openers = stored[joins + 1 : 2 * joins + 1]
        started = time.process_time()
        for number, opening in enumerate(openers):
            db.call(
                event_store.create_event,
                key=f"KZ-TJ-2026-11-28-visit-{number}",
                event_type="visit",
                countries=("KZ", "TJ"),
                event_date=date(2026, 11, 28),
                place="Dushanbe",
                summary="Tokayev arrived in Dushanbe.",
                facts={"event_date": "2026-11-28", "place": "Dushanbe"},
                evidence="Tokayev arrived in Dushanbe.",
                language="en",
                confidence=0.95,
                state=state,
                item_id=opening.id,
                verdict=VERDICT,
                alert=True,
                topics=("energy",),
                terms=frozenset({"dushanbe", "visit"}),
            )
        per_event = (time.process_time() - started) / len(openers)
        db.close()
    return per_feed, per_join, per_event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--joins", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = [one_round(args.feeds, args.items, args.joins) for _ in range(args.rounds)]
    feed_ms, join_ms, event_ms = (min(figures) * 1000 for figures in zip(*results, strict=True))
    print(f"record_success: {feed_ms:.2f} ms CPU per feed of {args.items} new items")
    print(f"add_source:     {join_ms:.2f} ms CPU per join into one alerted event")
    print(f"create_event:   {event_ms:.2f} ms CPU per alerted event queued for 10 chats")


if __name__ == "__main__":
    main()
