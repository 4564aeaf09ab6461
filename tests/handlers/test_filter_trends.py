"""/filter and /trends through the fake Bot API, with events from the real pipeline."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from coopwatch.settings import Settings
from news.topics import find_topics, report_terms
from storage import Database
from storage import events as event_store
from storage.models import Delivery
from tests.bot.harness import running_bot
from tests.bot.test_event_flow import rss
from tests.fakebot.server import FakeTelegram
from tests.fakebot.state import PNG_SIGNATURE
from tests.feedserver import FeedServer
from tests.seed import VERDICT

ADMIN = 1001
USER = 3003
OTHER_USER = 3004

ENERGY_TALKS = (
    "Kazakh and Tajik presidents hold talks in Dushanbe",
    "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of Tajikistan "
    "Emomali Rahmon in Dushanbe. The sides signed agreements on hydropower and gas supplies.",
)
PHONE_CALL = (
    "Uzbek and Kyrgyz presidents talk by phone",
    "President of Uzbekistan Shavkat Mirziyoyev held a telephone conversation with President "
    "of Kyrgyzstan Sadyr Japarov. The leaders congratulated each other on the holidays.",
)


@pytest.mark.slow
async def test_filter_set_show_off_and_a_filtered_event_is_listed_not_pushed(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    when = datetime.now(UTC) - timedelta(hours=1)
    url = feed_server.add("/wire", rss([(*ENERGY_TALKS, when), (*PHONE_CALL, when)]))
    settings = settings.model_copy(
        update={"admin_ids": frozenset({ADMIN}), "allow_private_feeds": True}
    )
    async with running_bot(settings, fake_telegram) as app:
        for chat in (USER, OTHER_USER):
            fake_telegram.send_user_message(chat, "/start")
            await fake_telegram.wait_for_messages(chat)

        fake_telegram.send_user_message(USER, "/filter")
        shown = (await fake_telegram.wait_for_messages(USER, 2))[-1]
        assert shown.text.startswith("No filter") and "/filter WORD" in shown.text

        # A Russian, inflected topic name: it stands for the topic's words in any language.
        fake_telegram.send_user_message(USER, "/filter энергетику")
        done = (await fake_telegram.wait_for_messages(USER, 3))[-1]
        assert done.text.startswith("Filter set: энергетику (topic)")

        fake_telegram.send_user_message(USER, "/filter")
        shown = (await fake_telegram.wait_for_messages(USER, 4))[-1]
        assert shown.text.startswith("Your filter: энергетику (topic)")

        fake_telegram.send_user_message(ADMIN, f"/addfeed {url}")
        await fake_telegram.wait_for_messages(ADMIN, 2, timeout=20)
        db: Database = app.bot_data.opened().db
        found, total = await db.run(event_store.latest_events)
        assert total == 2
        by_type = {event.event_type: event for event in found}
        assert by_type["meeting"].topics == ("energy",) and by_type["call"].topics == ()

        # The other user has no filter and gets both alerts; ours gets the energy one only.
        await fake_telegram.wait_for_messages(OTHER_USER, 3, timeout=20)
        alert = (await fake_telegram.wait_for_messages(USER, 5, timeout=20))[-1]
        assert "Kazakhstan – Tajikistan" in alert.text and "Topics: energy" in alert.text
        with db.session() as session:
            queued = session.exec(select(Delivery.event_id).where(Delivery.chat_id == USER)).all()
        assert queued == [by_type["meeting"].id]

        # Held back, not lost: /latest and /country still list it.
        fake_telegram.send_user_message(USER, "/latest")
        listing = (await fake_telegram.wait_for_messages(USER, 6))[-1]
        assert "Uzbekistan" in listing.text and "Kazakhstan" in listing.text
        fake_telegram.send_user_message(USER, "/country Kyrgyzstan")
        by_country = (await fake_telegram.wait_for_messages(USER, 7))[-1]
        assert "Kyrgyzstan – Uzbekistan" in by_country.text

        fake_telegram.send_user_message(USER, "/filter " + " ".join(f"w{n}" for n in range(11)))
        refused = (await fake_telegram.wait_for_messages(USER, 8))[-1]
        assert (
            refused.text.startswith("That filter is too long") and "Usage: /filter" in refused.text
        )
        fake_telegram.send_user_message(USER, "/filter " + "x" * 300)
        refused = (await fake_telegram.wait_for_messages(USER, 9))[-1]
        assert refused.text.startswith("That filter is too long")

        fake_telegram.send_user_message(USER, "/filter off")
        cleared = (await fake_telegram.wait_for_messages(USER, 10))[-1]
        assert cleared.text.startswith("Filter cleared")
        fake_telegram.send_user_message(USER, "/filter")
        shown = (await fake_telegram.wait_for_messages(USER, 11))[-1]
        assert shown.text.startswith("No filter")

        commands = fake_telegram.commands_for("default", "")
        assert "filter" in commands and "trends" in commands
        assert "filter" in fake_telegram.commands_for("default", "ru")


def _add_events(db: Database, pairs: list[tuple[date, tuple[str, ...]]]) -> None:
    for n, (day, countries) in enumerate(pairs):
        report = f"Talks number {n} on trade"
        db.call(
            event_store.create_event,
            key=f"TR{n:03d}",
            event_type="meeting",
            countries=countries,
            event_date=day,
            place=None,
            summary=report,
            facts={},
            evidence=report,
            language="en",
            confidence=0.9,
            state="{}",
            item_id=0,
            verdict=VERDICT,
            alert=False,
            topics=find_topics(report),
            terms=report_terms(report),
        )


def _photo(fake: FakeTelegram, chat_id: int) -> tuple[bytes, str]:
    message = fake.messages(chat_id)[-1]
    assert message.photo is not None, f"expected a photo, got text {message.text!r}"
    return message.photo.content, message.text


async def test_trends_sends_a_png_chart_with_a_caption(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    today = datetime.now(UTC).date()
    partners = ("UZ", "CN", "RU", "TJ", "TR", "KG", "AF")
    pairs = [
        (today - timedelta(days=20 * n), ("KZ", partners[n % len(partners)])) for n in range(15)
    ]
    pairs.append((today - timedelta(days=800), ("KZ", "UZ")))  # too old for the chart
    async with running_bot(settings, fake_telegram) as app:
        db: Database = app.bot_data.opened().db
        _add_events(db, pairs)

        fake_telegram.send_user_message(USER, "/trends Kazakhstan")
        await fake_telegram.wait_for_requests("sendPhoto", 1, timeout=20)
        png, caption = _photo(fake_telegram, USER)
        assert png.startswith(PNG_SIGNATURE)
        image = Image.open(io.BytesIO(png))
        image.load()
        assert image.format == "PNG" and image.width >= 600
        assert caption.startswith("Kazakhstan: events in 12 months (") and "): 15;" in caption
        assert "other" in caption and len(caption) <= 1024 and "\n" not in caption

        fake_telegram.send_user_message(USER, "/lang ru")
        await fake_telegram.wait_for_messages(USER, 2)
        fake_telegram.send_user_message(USER, "/trends")
        await fake_telegram.wait_for_requests("sendPhoto", 2, timeout=20)
        png, caption = _photo(fake_telegram, USER)
        assert png.startswith(PNG_SIGNATURE)
        assert caption.startswith("События за 12 месяцев") and "Казахстан 15" in caption

        fake_telegram.send_user_message(USER, "/trends Туркменистан")
        reply = (await fake_telegram.wait_for_messages(USER, 4))[-1]
        assert reply.photo is None
        assert reply.text == "За последние 12 месяцев событий с участием страны «Туркменистан» нет."

        fake_telegram.send_user_message(USER, "/trends Atlantis")
        unknown = (await fake_telegram.wait_for_messages(USER, 5))[-1]
        assert unknown.photo is None and "Atlantis" in unknown.text


async def test_in_a_group_only_administrators_change_the_filter(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    group, owner, member = -1009876543, 601, 602
    fake_telegram.add_chat(group, "supergroup", title="Analysts")
    fake_telegram.set_chat_admins(group, [owner], creator_id=owner)
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(group, "/start", user_id=owner)
        await fake_telegram.wait_for_messages(group)
        fake_telegram.send_user_message(group, "/filter gas", user_id=member)
        refused = (await fake_telegram.wait_for_messages(group, 2))[-1]
        assert "administrators" in refused.text
        fake_telegram.send_user_message(group, "/filter", user_id=member)
        shown = (await fake_telegram.wait_for_messages(group, 3))[-1]
        assert shown.text.startswith("No filter")  # anyone may look
        fake_telegram.send_user_message(group, "/filter gas нефть", user_id=owner)
        done = (await fake_telegram.wait_for_messages(group, 4))[-1]
        assert done.text.startswith("Filter set: gas, нефть")
