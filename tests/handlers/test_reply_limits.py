"""Replies that list things stay within Telegram's limits whatever feeds and users put in them.

The fake Bot API refuses what Telegram refuses (4,096 characters of text, 200 for a callback
answer, 64 bytes of callback data), so a reply that passes here passes there.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from telegram.ext import Application

from bot.render import MAX_MESSAGE, utf16_len
from coopwatch.settings import Settings
from handlers.common import cut_plain
from handlers.paging import cut
from news.countries import resolve_country
from news.data import countries
from storage import Database, audit, chats, feedrows
from storage import feeds as feed_store
from storage.types import utcnow
from tests.bot.harness import running_bot
from tests.fakebot.limits import RateLimits
from tests.fakebot.server import FakeTelegram
from tests.fakebot.state import StoredMessage
from tests.seed import add_event

ADMIN = 7001
App = Application[Any, Any, Any, Any, Any, Any]
HOSTILE = "<b>&amp;</b> 🇰🇿 " * 400  # markup to escape, astral characters that count twice


def _db(app: App) -> Database:
    db: Database = app.bot_data.opened().db
    return db


def _admin(settings: Settings) -> Settings:
    return settings.model_copy(update={"admin_ids": frozenset({ADMIN})})


async def _ask(fake: FakeTelegram, chat_id: int, text: str) -> StoredMessage:
    before = len(fake.messages(chat_id))
    fake.send_user_message(chat_id, text)
    return (await fake.wait_for_messages(chat_id, before + 1, timeout=10))[before]


def _no_error(message: StoredMessage) -> None:
    assert "Something went wrong" not in message.text


async def test_feeds_with_hostile_titles_and_errors_are_paged_and_show_every_id(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_limits(RateLimits.off())
    async with running_bot(_admin(settings), fake_telegram) as app:
        db, now = _db(app), utcnow()
        ids = []
        for n in range(23):
            feed = db.call(
                feed_store.add_feed, url=f"https://example.org/{n}.xml", title=HOSTILE[:5000]
            )
            db.write_now(
                feedrows.record_poll,
                feed_id=feed.id,
                now=now,
                next_poll_at=now + timedelta(hours=1),
                consecutive_failures=3,
                failing_since=now,
                error=("HTTP 500: " + HOSTILE)[:1000],
            )
            ids.append(feed.id)
        page = await _ask(fake_telegram, ADMIN, "/feeds")
        seen: list[int] = []
        for _ in range(len(ids)):
            _no_error(page)
            seen += [int(n) for n in re.findall(r"^(\d+)\. ", page.text, flags=re.MULTILINE)]
            more = [b for row in page.buttons for b in row if b.callback_data]
            if not more:
                break
            count = len(fake_telegram.messages(ADMIN))
            fake_telegram.press_button(ADMIN, page.message_id, data=more[0].callback_data)
            page = (await fake_telegram.wait_for_messages(ADMIN, count + 1))[count]
    assert seen == ids  # every feed id, once, in order, however long its title and error


async def test_audit_with_long_urls_fits_one_message(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with running_bot(_admin(settings), fake_telegram) as app:
        for n in range(20):
            url = f"https://example.org/{n}/" + "very-long-path/" * 200
            _db(app).call(audit.record, action="addfeed", detail=f"{n} {url}", user_id=ADMIN)
        reply = await _ask(fake_telegram, ADMIN, "/audit")
    _no_error(reply)
    assert reply.text.startswith("Recent admin actions")
    assert "addfeed 19 https://example.org/19/very-long-path" in reply.text


async def test_subscribe_with_250_unknown_words_answers_once_and_changes_nothing(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    words = " ".join(chr(0x4E00 + n) for n in range(250))  # 250 words in 499 characters
    async with running_bot(settings, fake_telegram) as app:
        reply = await _ask(fake_telegram, 7002, f"/subscribe {words}")
        subscribed = _db(app).call(chats.get_chat, chat_id=7002)
    _no_error(reply)
    assert "\u4e00" in reply.text and "more" in reply.text
    assert subscribed is not None and "CN" not in subscribed.countries


async def test_settings_and_subscribe_of_a_chat_following_every_country(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_limits(RateLimits.off())
    async with running_bot(settings, fake_telegram) as app:
        await _ask(fake_telegram, 7003, "/start")
        _db(app).call(chats.set_countries, chat_id=7003, countries=_all_codes())
        shown = await _ask(fake_telegram, 7003, "/settings")
        subscribed = await _ask(fake_telegram, 7003, "/subscribe China")
    _no_error(shown)
    _no_error(subscribed)
    assert "more" in shown.text and "more" in subscribed.text


def _all_codes() -> list[str]:
    codes = list(countries())
    return [code for code in codes if resolve_country(code) == code]


async def test_country_and_latest_with_huge_feed_text(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.set_limits(RateLimits.off())
    async with running_bot(settings, fake_telegram) as app:
        for _ in range(7):
            add_event(_db(app), summary=HOSTILE * 3)
        country = await _ask(fake_telegram, 7004, "/country Tajikistan")
        latest = await _ask(fake_telegram, 7004, "/latest")
        stats = await _ask(fake_telegram, 7004, "/stats")
    for reply in (country, latest, stats):
        _no_error(reply)
    assert country.text.startswith("Latest events: Tajikistan")
    assert latest.text.startswith("Latest events")


def test_cuts_count_utf16_units_and_never_split_a_pair() -> None:
    assert utf16_len(cut("🇰🇿" * 100, 10)) <= 10
    assert utf16_len(cut(HOSTILE, 300)) <= 300 * 5  # escaping may lengthen the HTML only
    assert cut("<b>&</b>", 100) == "&lt;b&gt;&amp;&lt;/b&gt;"
    plain = cut_plain("line\n" * 2000 + "😀" * 3000, MAX_MESSAGE)
    assert utf16_len(plain) <= MAX_MESSAGE and plain.endswith("…")
    assert "\ud83d" not in plain
