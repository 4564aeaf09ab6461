"""The sender against the fake Bot API: fan-out, dead and migrated chats, 429s, errors, edits."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from telegram import Bot

from bot.delivery import DeliverySender, digest_slot
from storage import Database, chats, deliveries
from storage.models import Delivery
from storage.types import utcnow
from tests.fakebot import Rate, RateLimits
from tests.fakebot.server import FakeTelegram
from tests.seed import add_chat, add_event, add_event_with_source, add_report


def _chats(db: Database, fake: FakeTelegram, ids: range | list[int], **kwargs: object) -> None:
    for chat_id in ids:
        fake.add_chat(chat_id)
        add_chat(db, chat_id, **kwargs)  # type: ignore[arg-type]


def _statuses(db: Database) -> dict[int, str]:
    with db.session() as session:
        return {row.chat_id: row.status for row in session.exec(select(Delivery)).all()}


def _retry_now(db: Database) -> None:
    """Skip the back-off: every pending row is due again."""
    with db.session() as session:
        for row in session.exec(select(Delivery).where(Delivery.status == "pending")).all():
            row.next_attempt_at = utcnow() - timedelta(seconds=1)


async def test_fan_out_sends_each_chat_one_alert_and_records_its_id(
    db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(db, fake_telegram, range(1, 13))
    event = add_event_with_source(db)

    sent = await DeliverySender(fake_bot, db).drain()

    assert sent == 12
    for chat_id in range(1, 13):
        [message] = fake_telegram.messages(chat_id)
        assert "Tajikistan" in message.text and "Dushanbe" in message.text
        assert message.buttons  # [Details] [Tajikistan events] [Mute …]
    with db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert {row.status for row in rows} == {"sent"}
    assert all(row.message_id == fake_telegram.messages(row.chat_id)[0].message_id for row in rows)
    assert all(row.event_id == event.id and row.sent_source_count == 1 for row in rows)
    assert await DeliverySender(fake_bot, db).drain() == 0  # nothing sent twice


@pytest.mark.slow
async def test_a_chat_that_blocks_the_bot_mid_fan_out_is_deactivated(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(sqlite_db, fake_telegram, range(1, 11))
    fake_telegram.block_chat(5)
    fake_telegram.kick_bot(-7)
    _chats(sqlite_db, fake_telegram, [-7])
    fake_telegram.kick_bot(-7)
    add_event(sqlite_db)
    add_event(sqlite_db)  # a second alert already queued for the blocked chat

    await DeliverySender(fake_bot, sqlite_db).drain()

    assert all(len(fake_telegram.messages(c)) == 2 for c in range(1, 11) if c != 5)
    for gone in (5, -7):
        info = sqlite_db.call(chats.get_chat, chat_id=gone)
        assert info is not None and not info.active
    assert sqlite_db.call(deliveries.delivery_stats).failed == 4
    add_event(sqlite_db)
    assert 5 not in [
        d.chat_id for d in sqlite_db.call(deliveries.due_deliveries, now=utcnow(), limit=50)
    ]


@pytest.mark.slow
async def test_a_429_storm_waits_and_resends_without_duplicates(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    # Telegram allows this bot only 6 messages a second, far below what the sender assumes.
    fake_telegram.set_limits(RateLimits(global_rate=Rate(6, 1.0)))
    _chats(sqlite_db, fake_telegram, range(1, 19))
    add_event(sqlite_db)

    sent = await DeliverySender(fake_bot, sqlite_db).drain()

    assert fake_telegram.throttled_count > 0
    assert sent == 18
    assert all(len(fake_telegram.messages(c)) == 1 for c in range(1, 19))


@pytest.mark.slow
async def test_network_errors_and_5xx_retry_with_backoff(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(sqlite_db, fake_telegram, [1, 2])
    add_event(sqlite_db)
    fake_telegram.fail_next("sendMessage", 502)
    fake_telegram.fail_next("sendMessage", disconnect=True)
    sender = DeliverySender(fake_bot, sqlite_db)

    assert await sender.drain() == 0
    with sqlite_db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
    assert all(r.next_attempt_at > utcnow() + timedelta(seconds=3) for r in rows)
    assert all(r.last_error for r in rows)

    _retry_now(sqlite_db)
    assert await sender.drain() == 2
    assert len(fake_telegram.messages(1)) == len(fake_telegram.messages(2)) == 1


async def test_a_refused_message_is_logged_with_its_payload_and_not_retried(
    sqlite_db: Database,
    fake_telegram: FakeTelegram,
    fake_bot: Bot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _chats(sqlite_db, fake_telegram, [1, 2])
    add_event(sqlite_db)
    fake_telegram.fail_next("sendMessage", 400, description="Bad Request: can't parse entities")

    with caplog.at_level(logging.ERROR, logger="bot.delivery"):
        await DeliverySender(fake_bot, sqlite_db).drain()

    assert sorted(_statuses(sqlite_db).values()) == ["failed", "sent"]
    [record] = [r for r in caplog.records if "refused" in r.getMessage()]
    assert (
        "can't parse entities" in record.getMessage().lower() and "Dushanbe" in record.getMessage()
    )
    _retry_now(sqlite_db)
    assert await DeliverySender(fake_bot, sqlite_db).drain() == 0


async def test_a_migrated_group_gets_the_alert_in_its_supergroup(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(sqlite_db, fake_telegram, [-5], countries=["TJ"])
    fake_telegram.migrate_chat(-5, -1005)
    add_event(sqlite_db)

    assert await DeliverySender(fake_bot, sqlite_db).drain() == 1

    assert fake_telegram.messages(-5) == []
    assert len(fake_telegram.messages(-1005)) == 1
    moved = sqlite_db.call(chats.get_chat, chat_id=-1005)
    assert moved is not None and moved.active and moved.countries == ("TJ",)
    assert _statuses(sqlite_db) == {-1005: "sent"}


@pytest.mark.slow
async def test_a_new_source_edits_the_sent_alerts_instead_of_alerting_again(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(sqlite_db, fake_telegram, [1, 2, 3])
    event = add_event_with_source(sqlite_db)
    sender = DeliverySender(fake_bot, sqlite_db)
    await sender.drain()
    await fake_bot.delete_message(3, fake_telegram.messages(3)[0].message_id)

    add_report(sqlite_db, event)
    assert await sender.drain() == 0  # nobody is alerted again
    edited = await sender.edit_grown()

    assert edited == 2  # chat 3 deleted the message: harmless, and not retried
    for chat_id in (1, 2):
        [message] = fake_telegram.messages(chat_id)
        assert "+1 more" in message.text and message.buttons
    assert sqlite_db.call(deliveries.deliveries_to_edit, limit=10) == []
    assert await sender.edit_grown() == 0


@pytest.mark.slow
async def test_an_edit_that_changes_nothing_is_harmless(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(sqlite_db, fake_telegram, [1])
    event = add_event(sqlite_db)  # no source link: a new count does not change the text
    sender = DeliverySender(fake_bot, sqlite_db)
    await sender.drain()
    add_report(sqlite_db, event)
    add_report(sqlite_db, event)

    assert await sender.edit_grown() in (0, 1)
    assert sqlite_db.call(deliveries.deliveries_to_edit, limit=10) == []
    assert len(fake_telegram.messages(1)) == 1


async def test_the_digest_goes_out_once_at_the_chosen_hour_in_the_chats_zone(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    _chats(sqlite_db, fake_telegram, [1], mode="digest")
    sqlite_db.call(chats.set_digest_hour, chat_id=1, hour=9)
    sqlite_db.call(chats.set_timezone, chat_id=1, timezone="Europe/Moscow")  # UTC+3
    for _ in range(12):
        add_event(sqlite_db)
    sender = DeliverySender(fake_bot, sqlite_db)
    assert await sender.drain() == 0  # nothing instant for a digest chat
    today = utcnow().date()
    before = datetime(today.year, today.month, today.day, 5, 59, tzinfo=UTC) + timedelta(days=1)

    assert await sender.send_digests(before) == 0  # 08:59 in Moscow tomorrow
    assert await sender.send_digests(before + timedelta(minutes=2)) == 1

    parts = fake_telegram.messages(1)
    assert len(parts) >= 2  # twelve events do not fit one page
    assert all(len(p.text) <= 4096 for p in parts)
    assert sqlite_db.call(deliveries.delivery_stats).sent == 12
    assert await sender.send_digests(before + timedelta(minutes=30)) == 0


def test_the_digest_hour_is_read_in_the_chats_time_zone() -> None:
    now = datetime(2026, 11, 29, 4, 30, tzinfo=UTC)  # 09:30 in Almaty (UTC+5)
    assert digest_slot(now, 9, "Asia/Almaty") == datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
    assert digest_slot(now, 10, "Asia/Almaty") is None
    assert digest_slot(now, 9, "Not/AZone") == datetime(2026, 11, 29, 4, 0, tzinfo=UTC)


@pytest.mark.slow
async def test_an_api_outage_delays_but_loses_nothing(
    sqlite_db: Database, fake_telegram: FakeTelegram, fake_bot: Bot
) -> None:
    """The Bot API answers 500 (and drops connections) for a while, then recovers."""
    _chats(sqlite_db, fake_telegram, range(1, 11))
    add_event(sqlite_db)
    fake_telegram.fail_next("sendMessage", 500, count=25)
    fake_telegram.fail_next("sendMessage", disconnect=True, count=5)
    sender = DeliverySender(fake_bot, sqlite_db)
    rounds = 0
    while len([c for c in range(1, 11) if fake_telegram.messages(c)]) < 10:
        rounds += 1
        assert rounds <= 8, "sending did not resume after the outage"
        await sender.drain()
        _retry_now(sqlite_db)  # the back-off (5 s, 10 s, 20 s …) has passed
    assert all(len(fake_telegram.messages(c)) == 1 for c in range(1, 11))
    with sqlite_db.session() as session:
        rows = session.exec(select(Delivery)).all()
    assert {r.status for r in rows} == {"sent"} and max(r.attempts for r in rows) >= 2


async def test_a_chat_waiting_for_its_gap_does_not_hold_up_other_chats() -> None:
    import time

    from bot.delivery import Pace

    pace = Pace(rate=100, burst=10)
    await pace.wait(1)
    started = time.monotonic()
    second_to_one = asyncio.create_task(pace.wait(1))  # must wait about a second
    await asyncio.sleep(0.01)
    await pace.wait(2)  # another chat goes at once
    assert time.monotonic() - started < 0.3
    await second_to_one
    assert time.monotonic() - started >= 0.9
