"""Retention on SQLite and PostgreSQL: old items and finished deliveries go, events stay."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.jobs import RETENTION_JOB
from coopwatch.retention import prune_old_rows
from coopwatch.settings import Settings
from storage import Database, chats
from storage.models import Delivery, Event, Feed, Item
from storage.retention import prune_deliveries, prune_items
from storage.types import utcnow
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.seed import add_event

OLD = utcnow() - timedelta(days=120)
RECENT = utcnow() - timedelta(days=10)


def _feed(db: Database) -> int:
    with db.session() as session:
        feed = Feed(url="https://example.org/rss", title="Kabar")
        session.add(feed)
        session.flush()
        assert feed.id is not None
        return feed.id


def _item(db: Database, feed_id: int, key: str, *, when: datetime, **fields: Any) -> int:
    with db.session() as session:
        item = Item(
            feed_id=feed_id, key=key, title=key, published_at=when, first_seen_at=when, **fields
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def _keys(db: Database) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(Item.key)))


def _delivery(db: Database, event_id: int, chat_id: int, status: str, when: datetime) -> None:
    db.call(chats.register_chat, chat_id=chat_id, chat_type="private", language="en")
    with db.session() as session:
        session.add(
            Delivery(
                event_id=event_id,
                chat_id=chat_id,
                status=status,
                created_at=when,
                next_attempt_at=when,
                sent_at=when if status in ("sent", "digested") else None,
            )
        )


def _statuses(db: Database) -> list[tuple[int, str]]:
    with db.session() as session:
        rows = session.exec(
            select(Delivery.chat_id, Delivery.status).order_by(col(Delivery.chat_id))
        )
        return [(chat_id, status) for chat_id, status in rows]


def test_old_items_go_and_event_sources_and_the_backlog_stay(db: Database) -> None:
    feed_id = _feed(db)
    event = add_event(db, alert=False)
    _item(db, feed_id, "old-negative", when=OLD, label=False)
    _item(db, feed_id, "old-source", when=OLD, label=True, event_id=event.id)
    _item(db, feed_id, "old-unclassified", when=OLD)
    _item(db, feed_id, "recent-negative", when=RECENT, label=False)
    before = utcnow() - timedelta(days=90)
    assert db.call(prune_items, before=before) == 1
    assert db.call(prune_items, before=before) == 0
    assert _keys(db) == {"old-source", "old-unclassified", "recent-negative"}
    with db.session() as session:
        assert session.get(Event, event.id) is not None


def test_finished_deliveries_go_and_waiting_ones_stay(db: Database) -> None:
    event = add_event(db, alert=False)
    assert event.id is not None
    for chat_id, status, when in [
        (1, "sent", OLD),
        (2, "failed", OLD),
        (3, "digested", OLD),
        (4, "pending", OLD),
        (5, "digest", OLD),
        (6, "sent", RECENT),
    ]:
        _delivery(db, event.id, chat_id, status, when)
    assert db.call(prune_deliveries, before=utcnow() - timedelta(days=90)) == 3
    assert _statuses(db) == [(4, "pending"), (5, "digest"), (6, "sent")]


async def test_prune_runs_in_batches_until_nothing_is_left(db: Database) -> None:
    feed_id = _feed(db)
    with db.session() as session:
        session.add_all(
            Item(feed_id=feed_id, key=f"k{n}", published_at=OLD, first_seen_at=OLD, label=False)
            for n in range(2500)  # more than one batch
        )
    _item(db, feed_id, "recent", when=RECENT, label=False)
    pruned = await prune_old_rows(db, days=90, now=utcnow())
    assert pruned.items == 2500 and pruned.deliveries == 0
    assert _keys(db) == {"recent"}


async def test_the_bot_schedules_retention_and_its_run_prunes(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    settings = settings.model_copy(update={"retention_days": 30.0})
    async with running_bot(settings, fake_telegram) as app:
        db: Database = app.bot_data.opened().db
        feed_id = _feed(db)
        _item(db, feed_id, "ten-days", when=RECENT, label=False)
        _item(db, feed_id, "four-months", when=OLD, label=False)
        assert app.job_queue is not None
        [job] = app.job_queue.get_jobs_by_name(RETENTION_JOB)
        assert job.trigger.interval == timedelta(hours=6)  # type: ignore[attr-defined]
        await job.run(app)
        assert _keys(db) == {"ten-days"}
