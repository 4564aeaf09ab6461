"""The pipeline's work on a report runs beside the event loop, which keeps answering users."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from coopwatch.pipeline import EventPipeline
from news.records import FeedItem
from storage import Database, feedrows
from storage import feeds as feed_store

# The loop must never stall this long while a report is turned into an event; a handler
# waiting behind it would answer late. Generous: the machine running the tests is shared.
MAX_STALL = 0.25


async def _longest_stall(work: asyncio.Task[object]) -> float:
    longest, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    await work
    return longest


async def test_a_report_full_of_sums_does_not_stall_the_event_loop(sqlite_db: Database) -> None:
    now = datetime.now(UTC)
    feed = sqlite_db.call(feed_store.add_feed, url="https://wire.example/rss", title="Wire")
    lead = (
        "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of Tajikistan "
        "Emomali Rahmon in Dushanbe. "
    )
    sums = " ".join(f"${n}m" for n in range(1, 4000))  # hostile or garbled feed text
    item = FeedItem(
        "g1",
        "https://wire.example/1",
        "Tokayev held talks with Rahmon in Dushanbe",
        (lead + sums)[:20_000],
        now - timedelta(hours=1),
        "en",
    )
    stored = sqlite_db.write_now(
        feedrows.store_items, feed_id=feed.id, items=[item], now=now, max_age=timedelta(hours=48)
    )
    pipeline = EventPipeline(db=sqlite_db, clock=lambda: now)

    work = asyncio.ensure_future(pipeline.process(stored))
    stall = await _longest_stall(work)

    assert stall < MAX_STALL, f"the event loop stalled {stall:.2f} s"
    result = work.result()
    assert len(result.created) == 1
    event = result.created[0]
    assert len(event.facts["figures"]) <= 20  # a sum per figure: the alert shows a few
