"""A country typed after /country, /trends or /export is read, refused or corrected alike."""

from __future__ import annotations

from coopwatch.settings import Settings
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram

USER = 3005


async def test_country_trends_and_export_answer_a_near_miss_and_a_long_argument_alike(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with running_bot(settings, fake_telegram):
        replies = 0
        for command in ("/country", "/trends", "/export"):
            fake_telegram.send_user_message(USER, f"{command} Uzbekistn")
            replies += 1
            near = (await fake_telegram.wait_for_messages(USER, replies))[-1]
            assert near.text.endswith("Did you mean Uzbekistan?"), command

            fake_telegram.send_user_message(USER, f"{command} {'x' * 101}")
            replies += 1
            long = (await fake_telegram.wait_for_messages(USER, replies))[-1]
            assert "too long" in long.text, command
