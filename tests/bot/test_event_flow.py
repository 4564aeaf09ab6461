"""From a feed item to an event, and the commands that look events up."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from html import escape

from bot.settings import Settings
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
        db: Database = app.bot_data["services"].db
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


async def test_subscriber_gets_one_alert_edited_when_a_second_outlet_reports(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    from bot.delivery import DELIVERY_KEY

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
        await app.bot_data[DELIVERY_KEY].edit_grown()
        messages = fake_telegram.messages(USER)
        assert len(messages) == 2  # no second alert for the same event
        edited = messages[-1]
        assert edited.edit_date is not None and "(+1 more)" in edited.text

        # [Mute Kazakhstan] under the alert: that country is no longer followed.
        mute = next(b for row in edited.buttons for b in row if "Mute" in b.text)
        fake_telegram.press_button(USER, edited.message_id, mute.callback_data)
        notice = (await fake_telegram.wait_for_messages(USER, 3))[-1]
        assert "no longer get alerts about" in notice.text
