"""Fan-out benchmark: one event to 10,000 subscribed chats through the fake Bot API.

Usage: python bench/fanout.py [--chats N] [--database URL]

The fake server enforces Telegram's limits (30 messages/s overall, 1/s per private chat) and
answers 429 beyond them. The sender runs exactly as in `coopwatch run`: our own pacing plus
bot.fairness.ChatRateLimiter with the arguments bot/app.py gives it. Prints the time
to enqueue (the event's transaction, with its 10,000 outbox rows), the sustained messages/s,
the 429s received and the messages lost or duplicated.
Goal: enqueue < 2 s; >= 27 msg/s; zero lost; a handful of 429s at most. About 6 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram.ext import ExtBot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.delivery import DeliverySender  # noqa: E402
from bot.fairness import ChatRateLimiter  # noqa: E402
from news.records import CENTRAL_ASIA  # noqa: E402
from storage import Database, deliveries  # noqa: E402
from storage.events import Verdict, create_event  # noqa: E402
from storage.models import Chat, Subscription  # noqa: E402
from tests.fakebot.server import FakeTelegram  # noqa: E402


def seed_chats(db: Database, count: int) -> None:
    """``count`` private chats, each following the five states (bulk: setup, not measured)."""
    with db.session() as session:
        session.execute(
            insert(Chat),
            [
                {"id": i, "type": "private", "language": "en" if i % 3 else "ru"}
                for i in range(1, count + 1)
            ],
        )
        session.execute(
            insert(Subscription),
            [
                {"chat_id": i, "country": c}
                for i in range(1, count + 1)
                for c in sorted(CENTRAL_ASIA)
            ],
        )


VERDICT = Verdict(True, "visit", ("KZ", "TJ"), 0.95, "[]")


def enqueue(db: Database) -> tuple[int, float]:
    """Create the event with its deliveries in one transaction; (rows, seconds)."""
    started = time.perf_counter()
    event = db.call(
        create_event,
        key="BENCH1",
        event_type="visit",
        countries=("KZ", "TJ"),
        event_date=date(2026, 11, 28),
        place="Dushanbe",
        summary="Tokayev began a two-day state visit to Dushanbe and held talks with Rahmon.",
        facts={},
        evidence=None,
        language="en",
        confidence=0.95,
        state="{}",
        item_id=0,
        verdict=VERDICT,
        alert=True,
    )
    elapsed = time.perf_counter() - started
    stats = db.call(deliveries.delivery_stats)
    assert event.id is not None
    return stats.pending, elapsed


def make_bot(fake: FakeTelegram) -> ExtBot[int]:
    """The bot as bot/app.py builds it: its rate limiter, a connection pool for concurrency."""
    return ExtBot(
        fake.token,
        base_url=fake.base_url,
        request=HTTPXRequest(connection_pool_size=32),
        rate_limiter=ChatRateLimiter(
            overall_max_rate=30,
            overall_time_period=1,
            group_max_rate=20,
            group_time_period=60,
            max_retries=3,
        ),
    )


async def send_all(db: Database, fake: FakeTelegram, total: int) -> float:
    """Drain the outbox; print progress; returns the seconds from first to last send."""
    bot = make_bot(fake)
    async with bot:
        sender = DeliverySender(bot, db)
        started = time.perf_counter()
        task = asyncio.create_task(sender.drain())
        while not task.done():
            await asyncio.wait({task}, timeout=10)
            sent = sum(1 for _ in fake.calls("sendMessage"))
            rate = sent / (time.perf_counter() - started)
            print(f"  {sent:>6}/{total} requests, {rate:5.1f}/s, 429s {fake.throttled_count}")
        await task
        return time.perf_counter() - started


def report(db: Database, fake: FakeTelegram, total: int, enqueued: int, seconds: float) -> None:
    by_chat = fake.messages_by_chat()
    delivered = sum(len(messages) for messages in by_chat.values())
    lost = sum(1 for chat_id in range(1, total + 1) if not by_chat.get(chat_id))
    duplicated = sum(1 for messages in by_chat.values() if len(messages) > 1)
    stats = db.call(deliveries.delivery_stats)
    print(f"deliveries queued:  {enqueued}")
    print(f"messages delivered: {delivered} in {seconds:.1f} s")
    print(f"sustained rate:     {delivered / seconds:.1f} msg/s (limit 30/s)")
    print(f"429s received:      {fake.throttled_count}")
    print(f"messages lost:      {lost}")
    print(f"duplicates:         {duplicated}")
    print(f"outbox:             sent {stats.sent}, pending {stats.pending}, failed {stats.failed}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(args.database or f"sqlite:///{tmp}/fanout.db")
        db.upgrade()
        seed_chats(db, args.chats)
        fake = FakeTelegram().start()
        try:
            for chat_id in range(1, args.chats + 1):
                fake.add_chat(chat_id, "private")
            enqueued, enqueue_seconds = enqueue(db)
            print(f"time to enqueue:    {enqueue_seconds * 1000:.0f} ms for {enqueued} chats")
            seconds = asyncio.run(send_all(db, fake, args.chats))
            report(db, fake, args.chats, enqueued, seconds)
        finally:
            fake.stop()
            db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
