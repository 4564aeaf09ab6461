"""Review 4, finding 3: a report that joins an event adds what it knows, whichever outlet was
polled first — through the real pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coopwatch.pipeline import EventPipeline
from news.facts import MERGED_TERMS, Facts, Figure, merge_facts
from news.records import FeedItem
from storage import Database, feedrows
from storage import events as event_store
from storage import feeds as feed_store

# A short Russian wire first: "визит", no place, no sectors; then the full English report.
RU_FIRST = FeedItem(
    "ru",
    "https://wire.example/ru",
    "Токаев прибыл с визитом в Таджикистан",
    "Президент Казахстана Касым-Жомарт Токаев прибыл с визитом в Таджикистан, где проведёт "
    "переговоры с Президентом Таджикистана Эмомали Рахмоном.",
    datetime(2021, 5, 19, 8, tzinfo=UTC),
    "ru",
)
EN_SECOND = FeedItem(
    "en",
    "https://times.example/en",
    "Tokayev pays state visit to Tajikistan",
    "DUSHANBE – President of Kazakhstan Kassym-Jomart Tokayev began his state visit to "
    "Tajikistan on May 19 and held talks with President of Tajikistan Emomali Rahmon in "
    "Dushanbe. The sides signed agreements on healthcare, aerospace and trade. Trade turnover "
    "between the two countries reached $800 million last year.",
    datetime(2021, 5, 19, 12, tzinfo=UTC),
    "en",
)


async def _process(db: Database, items: list[FeedItem]) -> event_store.EventInfo:
    now = datetime(2021, 5, 19, 13, tzinfo=UTC)
    feed = db.call(feed_store.add_feed, url="https://wire.example/rss", title="Wire")
    pipeline = EventPipeline(db=db, clock=lambda: now)
    for item in items:
        stored = db.write_now(
            feedrows.store_items,
            feed_id=feed.id,
            items=[item],
            now=now,
            max_age=timedelta(hours=48),
        )
        await pipeline.process(stored)
    events, total = db.call(event_store.latest_events)
    assert total == 1, events
    return events[0]


async def test_a_joining_report_fills_in_kind_place_sectors_and_figures(
    sqlite_db: Database,
) -> None:
    event = await _process(sqlite_db, [RU_FIRST, EN_SECOND])
    assert event.source_count == 2
    facts = Facts.from_dict(event.facts)
    assert facts.visit_kind == "state"  # the more specific kind wins over a plain "визит"
    assert event.place is not None and facts.place is not None
    assert {"healthcare", "aerospace"} <= set(facts.sectors)
    assert [f.measure for f in facts.figures] == ["trade"]


async def test_the_order_of_the_reports_does_not_change_the_details(
    sqlite_db: Database,
) -> None:
    event = await _process(sqlite_db, [EN_SECOND, RU_FIRST])
    facts = Facts.from_dict(event.facts)
    assert facts.visit_kind == "state"
    assert event.place == "Dushanbe"
    assert {"healthcare", "aerospace"} <= set(facts.sectors)


def test_merging_is_bounded_and_keeps_one_figure_per_noun() -> None:
    trade = Figure("$800 million", "trade", "result", "last year", 8e8, "USD")
    kept = Facts(visit_kind="working", sectors=("trade",), figures=(trade,))
    joining = Facts(
        visit_kind="official",
        place="Dushanbe",
        place_country="TJ",
        sectors=tuple(f"sector {n}" for n in range(30)),
        figures=(
            Figure("800 млн долларов", "trade", "result", None, 8e8, "USD"),
            Figure("$500 million", "investment", "target", None, 5e8, "USD"),
        ),
    )
    merged = merge_facts(kept, joining)
    assert merged.visit_kind == "official" and merged.place == "Dushanbe"
    assert len(merged.sectors) == MERGED_TERMS and merged.sectors[0] == "trade"
    assert [f.measure for f in merged.figures] == ["trade", "investment"]
    assert merge_facts(Facts(visit_kind="state"), Facts()).visit_kind == "state"
