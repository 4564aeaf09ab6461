"""/filter through the real pipeline: an event held back, then released by a later report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from coopwatch.pipeline import EventPipeline
from news.records import FeedItem
from storage import Database, chats, feedrows
from storage import feeds as feed_store
from storage.models import Delivery
from tests.seed import add_chat


@pytest.mark.slow
async def test_a_filter_word_in_the_held_back_first_report_releases_the_event(
    sqlite_db: Database,
) -> None:
    now = datetime.now(UTC)
    held = now - timedelta(hours=60)  # older than MAX_ITEM_AGE when first seen: not pushed
    add_chat(sqlite_db, 1)
    add_chat(sqlite_db, 2)
    sqlite_db.call(chats.set_filter, chat_id=2, words=("samarkand",))
    feed = sqlite_db.call(feed_store.add_feed, url="https://wire.example/rss", title="Wire")
    day = f"{held.day} {held:%B}"
    first = FeedItem(
        "a",
        "https://wire.example/a",
        "Tajik and Uzbek foreign ministers hold talks in Samarkand",
        f"On {day} Foreign Minister of Tajikistan Sirojiddin Muhriddin held talks with Foreign "
        "Minister of Uzbekistan Bakhtiyor Saidov in Samarkand.",
        held,
        "en",
    )
    second = FeedItem(
        "b",
        "https://wire.example/b",
        "Tajik and Uzbek foreign ministers held talks",
        f"On {day} Foreign Minister of Tajikistan Sirojiddin Muhriddin held talks with Foreign "
        "Minister of Uzbekistan Bakhtiyor Saidov. They discussed border crossings.",
        now - timedelta(hours=1),
        "en",
    )
    pipeline = EventPipeline(db=sqlite_db, clock=lambda: now)
    for item in (first, second):
        stored = sqlite_db.write_now(
            feedrows.store_items,
            feed_id=feed.id,
            items=[item],
            now=now,
            max_age=timedelta(hours=48),
        )
        await pipeline.process(stored)

    with sqlite_db.session() as session:
        queued = session.exec(select(Delivery.event_id, Delivery.chat_id)).all()
    assert len({event for event, _ in queued}) == 1  # one event, released by the second report
    assert sorted(chat for _, chat in queued) == [1, 2]
