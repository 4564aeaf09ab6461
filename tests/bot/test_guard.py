"""Hostile input over the Telegram surface: floods, overlong and odd commands, non-admins."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from handlers.guard import CommandRateLimit, odd_text
from tests.bot.harness import running_bot
from tests.fakebot.limits import RateLimits
from tests.fakebot.server import FakeTelegram

USER = 5005


def test_rate_limit_notifies_once_then_drops_until_the_window_clears() -> None:
    now = [0.0]
    limiter = CommandRateLimit(max_actions=3, window=10, clock=lambda: now[0])
    assert [limiter.check(1) for _ in range(6)] == ["ok", "ok", "ok", "notify", "drop", "drop"]
    assert limiter.check(2) == "ok"  # other users are not affected
    now[0] = 11
    assert limiter.check(1) == "ok"


@pytest.mark.parametrize(
    ("text", "odd"),
    [
        ("/country Tajikistan", False),
        ("/country Таджикистан", False),
        ("/country 🇹🇯", False),
        ("/country Taji\u202ekistan", True),
        ("/country \x00\x01", True),
        ("/country \ue000", True),
    ],
)
def test_odd_text(text: str, odd: bool) -> None:
    assert odd_text(text) is odd


async def test_flood_gets_one_notice(settings: Settings, fake_telegram: FakeTelegram) -> None:
    fake_telegram.set_limits(RateLimits.off())
    async with running_bot(settings, fake_telegram):
        for _ in range(40):
            fake_telegram.send_user_message(USER, "/help")
        messages = await fake_telegram.wait_for_messages(USER, 16, timeout=20)
        await fake_telegram.wait_for_requests("getUpdates", 4)
    texts = [m.text for m in fake_telegram.messages(USER)]
    assert len(texts) == 16
    assert sum("very fast" in text for text in texts) == 1
    assert messages[-1].text.startswith("You're sending commands very fast")


async def test_overlong_and_odd_commands_are_refused(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/country " + "A" * 3000)
        [reply] = await fake_telegram.wait_for_messages(USER)
        assert reply.text.startswith("That message is too long")
        fake_telegram.send_user_message(USER, "/country Taji\u202ekistan")
        second = (await fake_telegram.wait_for_messages(USER, 2))[-1]
        assert "invisible or control characters" in second.text
        fake_telegram.send_user_message(USER, "/event " + "x" * 200)
        third = (await fake_telegram.wait_for_messages(USER, 3))[-1]
        assert third.text.startswith("Usage: /event ID")


@pytest.mark.parametrize(
    "command",
    [
        "/country",
        "/country 12345",
        "/country <script>alert(1)</script>",
        "/country &amp; & < >",
        "/event",
        "/event ../../etc/passwd",
        "/event a b c",
        "/latest extra words",
        "/start now",
        "/help me",
        "/addfeed http://169.254.169.254/",
        "/removefeed -1",
        "/removefeed 99999999999999999999999",
        "/feeds 1",
        "/pollnow please",
        "/subscribe",
        "/subscribe Atlantis Narnia",
        "/subscribe " + "Kazakhstan " * 40,
        "/unsubscribe <b>",
        "/settings tz Mars/Olympus",
        "/settings hour 99",
        "/settings hour -1",
        "/lang xx",
        "/lang",
        "/addchannel",
        "/addchannel not-a-channel",
        "/stats now",
        "/audit 1",
    ],
)
async def test_fuzzed_arguments_get_an_answer_and_no_error(
    settings: Settings, fake_telegram: FakeTelegram, command: str
) -> None:
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, command)
        [reply] = await fake_telegram.wait_for_messages(USER)
    assert reply.text and "Something went wrong" not in reply.text
