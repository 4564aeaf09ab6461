"""Flood limits, refusals and injected faults, as PTB's exceptions the bot must handle."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from tests.fakebot import FakeTelegram, Rate, RateLimits
from tests.fakebot.fixtures import plain_http_request

USER = 42
GROUP = -4001


def seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture(autouse=True)
def _chats(fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # PTB 22's future retry_after type, no warning
    fake_telegram.add_chat(USER, "private")
    fake_telegram.add_chat(GROUP, "group", title="Analysts")


async def test_private_flood_raises_retry_after_and_sends_nothing(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_limits(RateLimits(private_rate=Rate(1, 30.0)))

    await fake_bot.send_message(USER, "first")
    with pytest.raises(RetryAfter) as error:
        await fake_bot.send_message(USER, "second")

    assert seconds(error.value.retry_after) == 30
    assert [m.text for m in fake_telegram.messages(USER)] == ["first"]
    assert fake_telegram.throttled_count == 1
    assert fake_telegram.throttled[0].scope == "private"


async def test_default_limits_tolerate_a_short_burst_in_private_chats(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_limits(RateLimits(), clock=lambda: 0.0)  # no refill on a slow machine

    for n in range(5):
        await fake_bot.send_message(USER, f"burst {n}")
    with pytest.raises(RetryAfter):
        await fake_bot.send_message(USER, "one too many")

    assert len(fake_telegram.messages(USER)) == 5


async def test_group_limit_is_twenty_a_minute(fake_bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.set_limits(RateLimits(), clock=lambda: 0.0)

    for n in range(20):
        await fake_bot.send_message(GROUP, f"alert {n}")
    with pytest.raises(RetryAfter) as error:
        await fake_bot.send_message(GROUP, "alert 21")

    assert seconds(error.value.retry_after) == 3
    assert fake_telegram.throttled[-1].scope == "group"


async def test_limits_can_be_switched_off(fake_bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.set_limits(RateLimits.off())

    for n in range(12):
        await fake_bot.send_message(USER, f"n{n}")

    assert len(fake_telegram.messages(USER)) == 12
    assert fake_telegram.throttled_count == 0


async def test_blocked_kicked_and_missing_chats(fake_bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.block_chat(USER)
    fake_telegram.kick_bot(GROUP)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await fake_bot.send_message(USER, "hi")
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await fake_bot.send_message(GROUP, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await fake_bot.send_message(987654, "never talked to the bot")
    fake_telegram.send_user_message(USER, "/start")  # writing again unblocks
    await fake_bot.send_message(USER, "welcome back")

    assert [m.text for m in fake_telegram.messages(USER)] == ["welcome back"]


async def test_migrated_group_raises_chat_migrated_with_the_new_id(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.migrate_chat(GROUP, -1009876543210)

    with pytest.raises(ChatMigrated) as error:
        await fake_bot.send_message(GROUP, "hi")
    sent = await fake_bot.send_message(error.value.new_chat_id, "hi again")

    assert error.value.new_chat_id == -1009876543210
    assert sent.chat.type == "supergroup"


async def test_injected_failures_hit_the_next_calls_only(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", status=502, count=2)
    fake_telegram.fail_next("getChat", status=429, retry_after=7)

    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await fake_bot.send_message(USER, "lost")
    with pytest.raises(RetryAfter) as error:
        await fake_bot.get_chat(USER)
    await fake_bot.send_message(USER, "delivered")

    assert seconds(error.value.retry_after) == 7
    assert [m.text for m in fake_telegram.messages(USER)] == ["delivered"]
    assert [r.method for r in fake_telegram.calls("sendMessage")] == ["sendMessage"] * 3


async def test_dropped_connection_is_a_network_error(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail_next("sendMessage", disconnect=True)

    with pytest.raises(NetworkError):
        await fake_bot.send_message(USER, "x")

    assert fake_telegram.messages(USER) == []


async def test_slow_answer_times_out_yet_the_message_is_sent(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_delay(2.0, "sendMessage")

    with pytest.raises(TimedOut):
        await fake_bot.send_message(USER, "slow", read_timeout=0.2)

    # Like the real server: a timeout says nothing about delivery, so retries can duplicate.
    assert [m.text for m in fake_telegram.messages(USER)] == ["slow"]


async def test_unknown_method_and_wrong_token(fake_bot: Bot, fake_telegram: FakeTelegram) -> None:
    with pytest.raises(EndPointNotFound):
        await fake_bot.do_api_request("sendTelepathy")

    request = plain_http_request()
    await request.initialize()
    stranger = Bot("1:wrong", base_url=fake_telegram.base_url, request=request)
    try:
        with pytest.raises(InvalidToken):
            await stranger.get_me()
    finally:
        await request.shutdown()


async def test_group_admins_members_and_leaving(fake_bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.set_chat_admins(GROUP, [7, 8], creator_id=7)
    fake_telegram.send_user_message(GROUP, "hello", user_id=9, first_name="Dana")

    admins = await fake_bot.get_chat_administrators(GROUP)
    member = await fake_bot.get_chat_member(GROUP, 9)
    chat = await fake_bot.get_chat(GROUP)
    assert await fake_bot.send_chat_action(GROUP, "typing")
    assert await fake_bot.leave_chat(GROUP)
    with pytest.raises(Forbidden, match="not a member"):
        await fake_bot.send_message(GROUP, "after leaving")

    assert [(a.user.id, a.status) for a in admins] == [(7, "creator"), (8, "administrator")]
    assert (member.status, member.user.first_name) == ("member", "Dana")
    assert (chat.type, chat.title) == ("group", "Analysts")
    assert fake_telegram.chat_actions(GROUP) == ["typing"]
