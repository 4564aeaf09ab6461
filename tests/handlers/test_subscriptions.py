"""/subscribe, /unsubscribe, /settings, /lang and /addchannel through the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.ext import Application, BaseHandler, CallbackQueryHandler, CommandHandler

from coopwatch.settings import Settings
from handlers import subscriptions
from storage import Database, chats, deliveries
from storage.chats import ChatInfo
from storage.types import utcnow
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.seed import add_event

USER, GROUP, ADMIN, MEMBER, OPERATOR = 4242, -1001234567890, 77, 88, 7
App = Application[Any, Any, Any, Any, Any, Any]


def _ensure_registered(app: App) -> None:
    """Add the handlers unless bot/app.py already registers them (ahead of the fallback)."""
    if any(getattr(spec, "name", "") == "subscribe" for spec in app.bot_data.commands):
        return
    handlers: list[BaseHandler[Any, Any, Any]] = [
        CommandHandler("subscribe", subscriptions.subscribe),
        CommandHandler("unsubscribe", subscriptions.unsubscribe),
        CommandHandler("settings", subscriptions.settings),
        CommandHandler("lang", subscriptions.lang),
        CommandHandler("addchannel", subscriptions.addchannel),
        CallbackQueryHandler(subscriptions.settings_button, pattern=r"^set:"),
    ]
    app.handlers.setdefault(0, [])[0:0] = handlers


@pytest.fixture
async def bot_app(settings: Settings, fake_telegram: FakeTelegram) -> AsyncIterator[App]:
    settings = settings.model_copy(update={"admin_ids": frozenset({OPERATOR})})
    async with running_bot(settings, fake_telegram) as app:
        _ensure_registered(app)
        yield app


def _db(app: App) -> Database:
    db: Database = app.bot_data.opened().db
    return db


def _chat(app: App, chat_id: int) -> ChatInfo:
    info = _db(app).call(chats.get_chat, chat_id=chat_id)
    assert info is not None
    return info


async def _say(fake: FakeTelegram, chat_id: int, text: str, n: int, **kwargs: Any) -> str:
    fake.send_user_message(chat_id, text, **kwargs)
    return (await fake.wait_for_messages(chat_id, n))[n - 1].text


async def test_subscribe_by_name_demonym_code_and_russian_name(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    reply = await _say(fake_telegram, USER, "/subscribe China, tajik KG", 1)
    assert "China" in reply and "Tajikistan" in reply and "Kyrgyzstan" in reply
    assert _chat(bot_app, USER).countries == ("CN", "KG", "KZ", "TJ", "TM", "UZ")
    reply = await _say(fake_telegram, USER, "/unsubscribe Казахстан Туркменистан Uzbek", 2)
    assert "Kazakhstan" not in reply
    assert _chat(bot_app, USER).countries == ("CN", "KG", "TJ")


async def test_a_near_miss_gets_a_suggestion_and_changes_nothing(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    reply = await _say(fake_telegram, USER, "/subscribe Tajikstan", 1)
    assert "Did you mean Tajikistan?" in reply
    reply = await _say(fake_telegram, USER, "/subscribe Atlantis", 2)
    assert "Atlantis" in reply and "TJ" in reply  # says how to write a country
    assert _chat(bot_app, USER).countries == ("KG", "KZ", "TJ", "TM", "UZ")
    reply = await _say(fake_telegram, 5151, "/subscribe Таджикистн", 1, language_code="ru")
    assert "Может быть, Таджикистан?" in reply


async def test_unsubscribe_without_argument_stops_every_alert(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    await _say(fake_telegram, USER, "/subscribe", 1)
    reply = await _say(fake_telegram, USER, "/unsubscribe", 2)
    assert "no alerts" in reply
    assert not _chat(bot_app, USER).active
    add_event(_db(bot_app))
    assert _db(bot_app).call(deliveries.due_deliveries, now=utcnow(), limit=10) == []
    reply = await _say(fake_telegram, USER, "/subscribe", 3)
    assert "Kazakhstan" in reply and _chat(bot_app, USER).active


async def test_settings_buttons_toggle_types_and_mode(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    await _say(fake_telegram, USER, "/settings", 1)
    message = fake_telegram.last_message(USER)
    # The same words as the alerts (bot/locales: event_type_* and their plurals type_*).
    assert "visits, talks, phone calls, agreements" in message.text
    assert all(len(b.callback_data or "") <= 64 for row in message.buttons for b in row)

    query = fake_telegram.press_button(USER, message.message_id, "set:t:call")
    await fake_telegram.wait_for_callback_answer(query)
    assert _chat(bot_app, USER).event_types == ("visit", "meeting", "agreement")
    query = fake_telegram.press_button(USER, message.message_id, "set:m:digest")
    await fake_telegram.wait_for_callback_answer(query)
    info = _chat(bot_app, USER)
    assert info.mode == "digest"
    edited = fake_telegram.last_message(USER)
    assert "daily digest" in edited.text and "calls" not in edited.text.split("Mode")[0]
    query = fake_telegram.press_button(USER, edited.message_id, "set:h:+1")
    await fake_telegram.wait_for_callback_answer(query)
    assert _chat(bot_app, USER).digest_hour == info.digest_hour + 1


async def test_settings_commands_set_hour_and_time_zone(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    reply = await _say(fake_telegram, USER, "/settings tz Europe/Moscow", 1)
    assert "Europe/Moscow" in reply
    reply = await _say(fake_telegram, USER, "/settings tz Mars/Olympus", 2)
    assert "Mars/Olympus" in reply and "Asia/Almaty" in reply
    await _say(fake_telegram, USER, "/settings hour 18", 3)
    info = _chat(bot_app, USER)
    assert (info.digest_hour, info.timezone) == (18, "Europe/Moscow")


async def test_forged_or_old_button_data_is_answered_harmlessly(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    await _say(fake_telegram, USER, "/settings", 1)
    message = fake_telegram.last_message(USER)
    for forged in ("set:t:sport", "set:m", "set:h:+100", "set:x:y:z"):
        with fake_telegram.changed:
            query_id = fake_telegram.state.new_query_id()
            fake_telegram.state.callbacks[query_id] = (USER, message.message_id, False)
            payload = {
                "id": query_id,
                "from": fake_telegram.state.user(USER).to_json(),
                "message": fake_telegram.state.message_json(message),
                "chat_instance": "1",
                "data": forged,
            }
        fake_telegram.inject_update("callback_query", payload)
        answer = await fake_telegram.wait_for_callback_answer(query_id)
        assert answer.text == "That button is out of date."
    info = _chat(bot_app, USER)
    assert info.event_types == ("visit", "meeting", "call", "agreement")
    assert info.mode == "instant" and info.digest_hour == 9


async def test_a_group_member_who_is_not_admin_cannot_change_settings(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_chat(GROUP, "supergroup", title="Analysts")
    fake_telegram.set_chat_admins(GROUP, [ADMIN], creator_id=ADMIN)

    reply = await _say(fake_telegram, GROUP, "/subscribe China", 1, user_id=MEMBER)
    assert "Only the administrators" in reply
    assert _db(bot_app).call(chats.get_chat, chat_id=GROUP) is None  # nothing changed
    await _say(fake_telegram, GROUP, "/settings", 2, user_id=MEMBER)  # anyone may look
    settings_message = fake_telegram.last_message(GROUP)
    assert _db(bot_app).call(chats.get_chat, chat_id=GROUP) is None  # looking sets nothing up
    query = fake_telegram.press_button(
        GROUP, settings_message.message_id, "set:m:digest", user_id=MEMBER
    )
    answer = await fake_telegram.wait_for_callback_answer(query)
    assert answer.text is not None and "Only the administrators" in answer.text
    assert _db(bot_app).call(chats.get_chat, chat_id=GROUP) is None

    reply = await _say(fake_telegram, GROUP, "/subscribe China", 3, user_id=ADMIN)
    assert "China" in reply and "CN" in _chat(bot_app, GROUP).countries


async def test_lang_switches_the_chat_to_russian(bot_app: App, fake_telegram: FakeTelegram) -> None:
    reply = await _say(fake_telegram, USER, "/lang ru", 1)
    assert "по-русски" in reply
    assert _chat(bot_app, USER).language == "ru"
    reply = await _say(fake_telegram, USER, "/subscribe Китай", 2)
    assert "Вы следите за" in reply and "Китай" in reply
    reply = await _say(fake_telegram, USER, "/lang fr", 3)
    assert "/lang en" in reply


async def test_addchannel_checks_that_the_bot_administers_the_channel(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_chat(-1007, "channel", title="CA Diplomacy", username="cadiplo")
    fake_telegram.add_chat(-1008, "channel", title="Elsewhere", username="elsewhere")
    fake_telegram.set_chat_admins(-1007, [fake_telegram.bot_id])

    reply = await _say(fake_telegram, USER, "/addchannel @cadiplo", 1)
    assert "only the operators" in reply  # not in ADMIN_IDS
    reply = await _say(fake_telegram, OPERATOR, "/addchannel @elsewhere", 1)
    assert "Make me an administrator" in reply
    reply = await _say(fake_telegram, OPERATOR, "/addchannel @nosuchchannel", 2)
    assert "can't find" in reply
    reply = await _say(fake_telegram, OPERATOR, "/addchannel @cadiplo", 3)
    assert "CA Diplomacy" in reply
    channel = _chat(bot_app, -1007)
    assert channel.type == "channel" and channel.countries == ("KG", "KZ", "TJ", "TM", "UZ")
    assert _db(bot_app).call(chats.get_chat, chat_id=-1008) is None


async def test_in_a_new_group_only_administrators_switch_alerts_on_or_change_anything(
    bot_app: App, fake_telegram: FakeTelegram
) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    group = -1009876543210
    fake_telegram.add_chat(group, "supergroup", title="Traders")
    fake_telegram.set_chat_admins(group, [ADMIN], creator_id=ADMIN)
    attempts = ["/start", "/subscribe China", "/unsubscribe", "/lang ru", "/settings hour 18"]
    for n, command in enumerate(attempts, start=1):
        reply = await _say(fake_telegram, group, command, n, user_id=MEMBER)
        assert "Only the administrators" in reply, command
    assert _db(bot_app).call(chats.get_chat, chat_id=group) is None  # alerts never switched on

    await _say(fake_telegram, group, "/start", len(attempts) + 1, user_id=ADMIN)
    before = _chat(bot_app, group)
    assert before.active
    alert = await bot_app.bot.send_message(
        group,
        "An alert",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Mute", callback_data="mute:KZ")]]
        ),
    )
    settings_message = await _say(
        fake_telegram, group, "/settings", len(attempts) + 3, user_id=MEMBER
    )
    assert "Settings" in settings_message or "settings" in settings_message
    shown = fake_telegram.last_message(group)
    for data in ("set:m:digest", "set:t:visit", "set:l:ru"):
        query = fake_telegram.press_button(group, shown.message_id, data, user_id=MEMBER)
        answer = await fake_telegram.wait_for_callback_answer(query)
        assert answer.text is not None and "Only the administrators" in answer.text
    query = fake_telegram.press_button(group, alert.message_id, "mute:KZ", user_id=MEMBER)
    answer = await fake_telegram.wait_for_callback_answer(query)
    assert answer.text is not None and "administrators" in answer.text
    assert _chat(bot_app, group) == before  # nothing changed

    await _say(fake_telegram, group, "/unsubscribe", len(attempts) + 4, user_id=ADMIN)
    reply = await _say(fake_telegram, group, "/start", len(attempts) + 5, user_id=MEMBER)
    assert "Only the administrators" in reply  # nor back on after an /unsubscribe
    assert not _chat(bot_app, group).active
