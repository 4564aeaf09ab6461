"""From a feed item to an event, and the commands that look events up."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from html import escape

import pytest

from coopwatch.settings import Settings
from storage import Database
from storage import events as event_store
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer

ADMIN = 1001
USER = 3003


def rss(items: list[tuple[str, str, datetime]], title: str = "Steppe Wire") -> bytes:
    entries = "".join(
        f"<item><title>{escape(head)}</title><link>https://wire.example/{n}</link>"
        f"<guid>wire-{n}</guid><pubDate>{email.utils.format_datetime(when)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
        for n, (head, body, when) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}'
        f"</title><link>https://wire.example</link>{entries}</channel></rss>"
    ).encode()


@pytest.mark.slow
async def test_item_becomes_event_and_commands_show_it(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    body = rss(
        [
            (
                "Kazakh and Tajik presidents hold talks in Dushanbe",
                "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of "
                "Tajikistan Emomali Rahmon in Dushanbe. The sides signed agreements on trade, "
                "energy and healthcare; trade could reach $1 billion.",
                now,
            ),
            ("Snow expected in Almaty", "Forecasters expect heavy snow in Almaty tonight.", now),
        ]
    )
    url = feed_server.add("/wire", body)
    settings = settings.model_copy(
        update={"admin_ids": frozenset({ADMIN}), "allow_private_feeds": True}
    )
    async with running_bot(settings, fake_telegram) as app:
        fake_telegram.send_user_message(ADMIN, f"/addfeed {url}")
        await fake_telegram.wait_for_messages(ADMIN, 2, timeout=20)
        db: Database = app.bot_data.opened().db
        events, total = await db.run(event_store.latest_events)
        assert total == 1
        [event] = events
        assert event.countries == ("KZ", "TJ") and event.source_count == 1
        assert "Tokayev" in event.summary

        fake_telegram.send_user_message(USER, "/latest")
        [listing] = await fake_telegram.wait_for_messages(USER)
        assert "Kazakhstan" in listing.text and "Tajikistan" in listing.text

        fake_telegram.send_user_message(USER, f"/event {event.key}")
        details = (await fake_telegram.wait_for_messages(USER, 2))[-1]
        assert "Steppe Wire" in details.text and "https://wire.example/0" in (details.html or "")

        fake_telegram.send_user_message(USER, "/country таджикистан")
        by_country = (await fake_telegram.wait_for_messages(USER, 3))[-1]
        assert "Tokayev" in by_country.text or "Kazakhstan" in by_country.text

        fake_telegram.send_user_message(USER, "/country Tajikstan")
        suggestion = (await fake_telegram.wait_for_messages(USER, 4))[-1]
        assert suggestion.text.endswith("Did you mean Tajikistan?")

        fake_telegram.send_user_message(USER, "/country Atlantis")
        unknown = (await fake_telegram.wait_for_messages(USER, 5))[-1]
        assert "two-letter code" in unknown.text

        fake_telegram.send_user_message(USER, "/event NO-SUCH-EVENT")
        missing = (await fake_telegram.wait_for_messages(USER, 6))[-1]
        assert missing.text.startswith("There is no event NO-SUCH-EVENT")

        # The [Details] button of the listing opens the same details.
        listing_message = fake_telegram.messages(USER)[0]
        fake_telegram.press_button(USER, listing_message.message_id, f"ev:{event.key}")
        again = (await fake_telegram.wait_for_messages(USER, 7))[-1]
        assert again.text == details.text
        # Forged or outdated button data is answered harmlessly, with nothing sent.
        for n, forged in enumerate(["ev:<script>", "cc:ZZZ:1", "lt:-1", "x" * 64], start=1):
            press_forged(fake_telegram, USER, listing_message.message_id, forged)
            answers = await fake_telegram.wait_for_requests("answerCallbackQuery", 1 + n)
            assert answers[-1].params.get("text") == "That button is out of date."
        assert len(fake_telegram.messages(USER)) == 7


def press_forged(fake: FakeTelegram, chat_id: int, message_id: int, data: str) -> None:
    """What a modified client could send: a press with data no button of ours carries."""
    with fake.changed:
        message = fake.state.find_message(chat_id, message_id)
        assert message is not None
        query_id = fake.state.new_query_id()
        fake.state.callbacks[query_id] = (chat_id, message_id, False)
        payload = {
            "id": query_id,
            "from": fake.state.user(chat_id).to_json(),
            "message": fake.state.message_json(message),
            "chat_instance": "forged",
            "data": data,
        }
        fake.state.push_update("callback_query", payload)
        fake.changed.notify_all()


@pytest.mark.slow
async def test_subscriber_gets_one_alert_edited_when_a_second_outlet_reports(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:

    when = datetime.now(UTC) - timedelta(hours=1)
    english = rss(
        [
            (
                "Kazakh and Tajik presidents hold talks in Dushanbe",
                "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of "
                "Tajikistan Emomali Rahmon in Dushanbe. The sides signed agreements on trade "
                "and energy.",
                when,
            )
        ]
    )
    russian = rss(
        [
            (
                "Токаев и Рахмон провели переговоры в Душанбе",
                "Президент Казахстана Касым-Жомарт Токаев провёл переговоры с Президентом "
                "Таджикистана Эмомали Рахмоном в Душанбе. Стороны подписали соглашения.",
                when + timedelta(minutes=30),
            )
        ],
        title="Вести Азии",
    )
    first = feed_server.add("/en", english)
    second = feed_server.add("/ru", russian)
    settings = settings.model_copy(
        update={"admin_ids": frozenset({ADMIN}), "allow_private_feeds": True}
    )
    async with running_bot(settings, fake_telegram) as app:
        fake_telegram.send_user_message(USER, "/start")
        await fake_telegram.wait_for_messages(USER)
        fake_telegram.send_user_message(ADMIN, f"/addfeed {first}")
        await fake_telegram.wait_for_messages(ADMIN, 2, timeout=20)
        alert = (await fake_telegram.wait_for_messages(USER, 2, timeout=20))[-1]
        assert alert.text.startswith("🇰🇿🇹🇯 Kazakhstan – Tajikistan")
        assert "Source: Steppe Wire" in alert.text and "more" not in alert.text
        labels = [b.text for row in alert.buttons for b in row]
        assert labels[0] == "Details" and any("Mute" in label for label in labels)

        fake_telegram.send_user_message(ADMIN, f"/addfeed {second}")
        await fake_telegram.wait_for_messages(ADMIN, 4, timeout=20)
        await app.bot_data.sender.edit_grown()
        messages = fake_telegram.messages(USER)
        assert len(messages) == 2  # no second alert for the same event
        edited = messages[-1]
        assert edited.edit_date is not None and "(+1 more)" in edited.text

        # [Mute Kazakhstan] under the alert: that country is no longer followed.
        mute = next(b for row in edited.buttons for b in row if "Mute" in b.text)
        fake_telegram.press_button(USER, edited.message_id, mute.callback_data)
        notice = (await fake_telegram.wait_for_messages(USER, 3))[-1]
        assert "no longer get alerts about" in notice.text


async def test_items_left_unclassified_are_taken_up_by_the_backlog(sqlite_db: Database) -> None:
    """A poll commits its items before they are classified: a crash in between loses none."""
    from coopwatch.pipeline import BACKLOG_GRACE, EventPipeline
    from news.records import FeedItem
    from storage import feedrows
    from storage import feeds as feed_store

    now = datetime.now(UTC)
    feed = sqlite_db.call(feed_store.add_feed, url="https://wire.example/rss", title="Wire")
    item = FeedItem(
        "g1",
        "https://wire.example/1",
        "Uzbek and Kyrgyz presidents talk by phone",
        "President of Uzbekistan Shavkat Mirziyoyev held a telephone conversation with "
        "President of Kyrgyzstan Sadyr Japarov.",
        now - timedelta(hours=1),
        "en",
    )
    sqlite_db.write_now(
        feedrows.store_items, feed_id=feed.id, items=[item], now=now, max_age=timedelta(hours=48)
    )
    later = EventPipeline(db=sqlite_db, clock=lambda: now + BACKLOG_GRACE * 2)
    result = await later.process_backlog()
    assert result.classified == 1 and len(result.created) == 1
    assert result.created[0].countries == ("KG", "UZ") and result.created[0].event_type == "call"
    again = await later.process_backlog()
    assert again.classified == 0  # done once, not again


def test_poll_interval_of_any_size_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from coopwatch.settings import load_settings
    from news.schedule import next_poll

    monkeypatch.setenv("POLL_INTERVAL", "1e12")
    settings = load_settings()
    decision = next_poll(
        datetime.now(UTC),
        "ok",
        interval=settings.poll_interval,
        consecutive_failures=0,
        failing_since=None,
        retry_after=None,
        max_age=None,
        rng=random.Random(1),
    )
    assert decision.next_poll_at.year >= datetime.now(UTC).year


def test_database_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    from coopwatch.settings import ConfigError, load_settings

    monkeypatch.setenv("DATABASE_URL", "mysql://bob:S3cretPass@db/x")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "S3cretPass" not in str(info.value) and "bob:***@db" in str(info.value)


async def test_a_channel_reader_cannot_mute_the_channel(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    from storage import chats

    channel, owner, reader = -1001234567, 501, 502
    fake_telegram.add_chat(channel, "channel", title="CA News", username="canews")
    fake_telegram.set_chat_admins(channel, [owner], creator_id=owner)
    async with running_bot(settings, fake_telegram) as app:
        db: Database = app.bot_data.opened().db
        await db.run(chats.register_chat, chat_id=channel, chat_type="channel", language="en")
        await db.run(chats.set_countries, chat_id=channel, countries={"KZ", "TJ"})
        buttons = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Mute Kazakhstan", callback_data="mute:KZ"),
              InlineKeyboardButton("Details", callback_data="ev:KZ-TJ-1")]]
        )  # fmt: skip
        post = await app.bot.send_message(channel, "An alert", reply_markup=buttons)
        fake_telegram.press_button(channel, post.message_id, "mute:KZ", user_id=reader)
        fake_telegram.press_button(channel, post.message_id, "ev:KZ-TJ-1", user_id=reader)
        answers = await fake_telegram.wait_for_requests("answerCallbackQuery", 2)
        assert "administrators" in (answers[0].params.get("text") or "")
        assert "private chat" in (answers[1].params.get("text") or "")
        info = await db.run(chats.get_chat, chat_id=channel)
        assert info is not None and info.countries == ("KZ", "TJ")
        assert len(fake_telegram.messages(channel)) == 1  # nothing was posted by the presses
