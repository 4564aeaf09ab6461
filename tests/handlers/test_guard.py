"""Hostile input over the Telegram surface: floods, overlong and odd commands, non-admins."""

from __future__ import annotations

import asyncio
import time

import pytest

from coopwatch.settings import Settings
from handlers.guard import CommandRateLimit, odd_text
from tests.bot.harness import running_bot
from tests.fakebot.limits import Rate, RateLimits
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


@pytest.mark.slow
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
    assert messages[-1].text.startswith("You're sending messages very fast")


@pytest.mark.slow
async def test_plain_message_flood_counts_and_never_delays_another_user(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    """Telegram's own limits stay on: about one message a second in a private chat."""
    other = USER + 1
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(other, "/help")  # the bot is up and has met B
        await fake_telegram.wait_for_messages(other, 1, timeout=10)
        for n in range(40):
            fake_telegram.send_user_message(USER, f"hello {n}")
        await fake_telegram.wait_for_messages(USER, 3, timeout=10)  # A's flood is being answered
        asked = time.monotonic()
        fake_telegram.send_user_message(other, "/help")
        await fake_telegram.wait_for_messages(other, 2, timeout=10)
        waited = time.monotonic() - asked
        # A gets 15 answers and one notice, paced by Telegram's per-chat limit, never 40.
        replies = await fake_telegram.wait_for_messages(USER, 16, timeout=40)
    assert waited < 2.0, f"B waited {waited:.1f} s behind A's flood"
    texts = [m.text for m in replies]
    assert len(texts) == 16
    assert sum("very fast" in text for text in texts) == 1


async def test_button_presses_and_group_chatter_count_too(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_limits(RateLimits.off())
    group = -100555
    async with running_bot(settings, fake_telegram):
        for n in range(15):  # chatter in a group: counted, never answered
            fake_telegram.send_user_message(group, f"chatter {n}", user_id=USER)
        fake_telegram.send_user_message(USER, "/help")
        [notice] = await fake_telegram.wait_for_messages(USER, 1)
        fake_telegram.send_user_message(group, "more chatter", user_id=USER)
        fake_telegram.send_user_message(USER, "/help")
        fake_telegram.send_user_message(USER + 1, "/help")  # answered after the two above
        await fake_telegram.wait_for_messages(USER + 1, 1)
    assert notice.text.startswith("You're sending messages very fast")
    assert len(fake_telegram.messages(USER)) == 1  # one notice, then silence
    assert fake_telegram.messages(group) == []


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


async def test_an_anonymous_admin_flood_does_not_silence_other_groups(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    """Review 3, finding 3: every anonymous admin shares one "from" (GroupAnonymousBot)."""
    fake_telegram.set_limits(RateLimits.off())
    flooded, other = -1001111111111, -1002222222222
    async with running_bot(settings, fake_telegram):
        for _ in range(20):
            fake_telegram.send_message_as_chat(flooded, "/help")
        replies = await fake_telegram.wait_for_messages(flooded, 16, timeout=20)
        fake_telegram.send_message_as_chat(other, "/help")
        [answer] = await fake_telegram.wait_for_messages(other, 1, timeout=10)
    assert sum("very fast" in m.text for m in replies) == 1  # the flooder is still limited
    assert answer.text.startswith(replies[0].text[:20])


async def test_posts_on_behalf_of_a_channel_count_per_channel(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    """All of them come "from" Channel_Bot; the limit is the channel's, not everybody's."""
    fake_telegram.set_limits(RateLimits.off())
    group = -1003333333333
    loud, quiet = -1004444444444, -1005555555555
    async with running_bot(settings, fake_telegram):
        for _ in range(20):
            fake_telegram.send_message_as_chat(group, "/help", sender_chat_id=loud)
        await fake_telegram.wait_for_messages(group, 16, timeout=20)
        fake_telegram.send_message_as_chat(group, "/help", sender_chat_id=quiet)
        replies = await fake_telegram.wait_for_messages(group, 17, timeout=10)
    assert sum("very fast" in m.text for m in replies) == 1


@pytest.mark.slow
async def test_a_button_flood_does_not_hold_back_another_users_answer(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    """A 429 on one user's answerCallbackQuery must not pause every user's button answers."""
    slow = Rate(1, 4.0, burst=3)  # a 429 says: retry after up to 4 s
    fake_telegram.set_limits(
        RateLimits(
            global_rate=None,
            private_rate=slow,
            group_rate=None,
            methods=frozenset({"answerCallbackQuery"}),
        )
    )
    other = USER + 1
    async with running_bot(settings, fake_telegram):
        for chat in (USER, other):
            fake_telegram.send_user_message(chat, "/settings")
            await fake_telegram.wait_for_messages(chat, 1, timeout=10)
        flooder = fake_telegram.last_message(USER)
        for _ in range(5):
            fake_telegram.press_button(USER, flooder.message_id, "set:m:digest")
        await fake_telegram.wait_for_requests("answerCallbackQuery", 4, timeout=10)
        await asyncio.sleep(0.3)  # the flooder's fourth answer was refused with 429
        asked = time.monotonic()
        query = fake_telegram.press_button(
            other, fake_telegram.last_message(other).message_id, "set:m:digest"
        )
        await fake_telegram.wait_for_callback_answer(query, timeout=15)
        waited = time.monotonic() - asked
    assert any(t.method == "answerCallbackQuery" for t in fake_telegram.throttled)
    assert waited < 2.0, f"the other user's button waited {waited:.1f} s"
