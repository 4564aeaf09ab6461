"""The analysis worker: the same verdicts and readings as in-process, and a failure that costs
only its batch (the pipeline leaves those items to the backlog)."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from coopwatch.pipeline import EventPipeline
from news.analysis import ItemText, SummaryRequest, analyse_items, summarise_report
from news.analysis_pool import AnalysisError, AnalysisPool, ThreadAnalyser
from news.records import FeedItem
from storage import Database, feedrows
from storage import events as event_store
from storage import feeds as feed_store
from storage.feeds import StoredItem
from tests.news.test_parse_pool import wait_gone

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CALL = (
    "Tokayev and Mirziyoyev discussed water and trade by phone",
    "President of Kazakhstan Kassym-Jomart Tokayev held a telephone conversation with "
    "President of Uzbekistan Shavkat Mirziyoyev on Monday. The leaders discussed trade, "
    "which reached $4 billion last year, and water use on the Syr Darya.",
)
VISIT_RU = (
    "Садыр Жапаров прибыл в Душанбе с государственным визитом",
    "Президент Кыргызстана Садыр Жапаров прибыл в Душанбе, где проведёт переговоры с "
    "Президентом Таджикистана Эмомали Рахмоном.",
)
WEATHER = ("Snow expected in Astana", "Forecasters expect heavy snow in Astana on Tuesday.")


def texts() -> list[ItemText]:
    return [
        ItemText(n, title, text, NOW - timedelta(hours=n), None)
        for n, (title, text) in enumerate((CALL, VISIT_RU, WEATHER), start=1)
    ]


async def test_the_worker_reads_items_as_this_process_does() -> None:
    pool = AnalysisPool()
    try:
        found = await pool.analyse(texts())
        summary = await pool.summarise(SummaryRequest(*CALL, "en", ("KZ", "UZ")))
        assert len(pool.pids) == 1
    finally:
        pool.close()
    assert found == analyse_items(texts())
    assert [a.classification.countries for a in found] == [("KZ", "UZ"), ("KG", "TJ"), ()]
    assert [a.report is not None for a in found] == [True, True, False]
    assert summary == summarise_report(SummaryRequest(*CALL, "en", ("KZ", "UZ")))
    assert "Tokayev" in summary


async def test_a_worker_killed_from_outside_is_replaced() -> None:
    pool = AnalysisPool()
    try:
        await pool.analyse(texts()[:1])
        [pid] = pool.pids
        os.kill(pid, signal.SIGKILL)
        assert wait_gone([pid], 2) == []
        found = await pool.analyse(texts())
        assert len(found) == 3 and pool.pids and pid not in pool.pids
    finally:
        pool.close()


async def test_a_batch_over_its_time_limit_is_cut() -> None:
    pool = AnalysisPool(timeout=0.001)
    try:
        with pytest.raises(AnalysisError, match="took longer"):
            await pool.analyse(texts())
    finally:
        pool.close()


def _store_call_and_weather(db: Database) -> list[StoredItem]:
    """A feed's two new items, stored unclassified: a phone call (an event) and the weather."""
    feed = db.call(feed_store.add_feed, url="https://wire.example/rss", title="Wire")
    items = [
        FeedItem(f"g{n}", f"https://wire.example/{n}", title, text, NOW - timedelta(hours=n), None)
        for n, (title, text) in enumerate((CALL, WEATHER), start=1)
    ]
    stored: list[StoredItem] = db.write_now(
        feedrows.store_items, feed_id=feed.id, items=items, now=NOW, max_age=timedelta(days=2)
    )
    return stored


async def test_items_whose_analysis_failed_stay_in_the_backlog(sqlite_db: Database) -> None:
    stored = _store_call_and_weather(sqlite_db)
    broken = AnalysisPool(timeout=0.001)
    try:
        await EventPipeline(db=sqlite_db, analyser=broken, clock=lambda: NOW).on_new_items(stored)
    finally:
        broken.close()
    later = NOW + timedelta(minutes=10)
    assert len(sqlite_db.call(event_store.unclassified_items, before=later)) == 2

    pipeline = EventPipeline(db=sqlite_db, analyser=ThreadAnalyser(), clock=lambda: later)
    result = await pipeline.process_backlog()
    assert (result.classified, result.positives, len(result.created)) == (2, 1, 1)
    assert sqlite_db.call(event_store.unclassified_items, before=later) == []


async def test_items_another_batch_classified_meanwhile_are_grouped_once(
    sqlite_db: Database,
) -> None:
    """Review: a poll's hook that waited past the backlog's grace and the backlog could both
    process the same items; the report was grouped (and joined) twice."""
    stored = _store_call_and_weather(sqlite_db)
    pipeline = EventPipeline(db=sqlite_db, analyser=ThreadAnalyser(), clock=lambda: NOW)
    first = await pipeline.process(stored)
    again = await pipeline.process(stored)  # the other copy of the same batch, later
    assert (first.classified, first.positives, len(first.created)) == (2, 1, 1)
    assert (again.classified, again.positives, again.created, again.joined) == (0, 0, (), ())
    event = first.created[0]
    assert sqlite_db.call(event_store.get_event_by_id, event_id=event.id).source_count == 1
