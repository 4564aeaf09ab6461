"""Updates, buttons, commands and a whole PTB Application against the fake."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.fakebot import FakeTelegram
from tests.fakebot.fixtures import plain_http_request

CHAT = 501


async def test_long_poll_returns_as_soon_as_a_message_is_queued(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(fake_bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    update_id = fake_telegram.send_user_message(
        CHAT, "/subscribe Tajikistan", language_code="ru", username="aziz"
    )
    updates = await asyncio.wait_for(poll, timeout=3)
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert [u.update_id for u in updates] == [update_id]
    message = updates[0].message
    assert message is not None and message.text == "/subscribe Tajikistan"
    assert message.from_user is not None and message.from_user.language_code == "ru"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 10)]


async def test_offset_confirms_updates_and_empty_poll_times_out(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    first = fake_telegram.send_user_message(CHAT, "one")
    second = fake_telegram.send_user_message(CHAT, "two")

    both = await fake_bot.get_updates(timeout=0)
    after_confirm = await fake_bot.get_updates(offset=second + 1, timeout=0)

    assert [u.update_id for u in both] == [first, second]
    assert after_confirm == ()
    assert fake_telegram.pending_updates == 0


async def test_allowed_updates_filters_what_is_delivered(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_user_message(CHAT, "text")
    sent = await fake_bot.send_message(
        CHAT,
        "pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    fake_telegram.press_button(CHAT, sent.message_id, text="A")

    updates = await fake_bot.get_updates(timeout=0, allowed_updates=["callback_query"])

    assert [u.callback_query.data for u in updates if u.callback_query] == ["a"]
    assert len(updates) == 1


async def test_button_press_and_answer_are_recorded(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_chat(CHAT)
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Mute Kazakhstan", callback_data="mute:KZ")]]
    )
    sent = await fake_bot.send_message(CHAT, "alert", reply_markup=markup)

    query_id = fake_telegram.press_button(CHAT, sent.message_id, "mute:KZ")
    (update,) = await fake_bot.get_updates(timeout=1)
    await fake_bot.answer_callback_query(query_id, text="Muted")
    with pytest.raises(BadRequest, match="Query is too old"):
        await fake_bot.answer_callback_query(query_id, text="again")

    assert update.callback_query is not None
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id
    assert [(a.query_id, a.text) for a in fake_telegram.answered_callbacks] == [(query_id, "Muted")]
    with pytest.raises(LookupError):
        fake_telegram.press_button(CHAT, sent.message_id, "mute:UZ")  # no such button


async def test_commands_are_stored_per_scope_and_language(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.add_chat(CHAT)
    english = [BotCommand("start", "Subscribe"), BotCommand("help", "What I do")]
    russian = [BotCommand("start", "Подписаться")]
    await fake_bot.set_my_commands(english, scope=BotCommandScopeDefault())
    await fake_bot.set_my_commands(russian, language_code="ru")
    await fake_bot.set_my_commands(
        [BotCommand("stats", "Figures")], scope=BotCommandScopeChat(CHAT)
    )

    read_back = await fake_bot.get_my_commands(language_code="ru")
    await fake_bot.delete_my_commands(scope=BotCommandScopeChat(CHAT))
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await fake_bot.set_my_commands([BotCommand("Bad-Name", "x")])

    assert [c.command for c in read_back] == ["start"]
    assert fake_telegram.commands == {
        ("default", ""): [("start", "Subscribe"), ("help", "What I do")],
        ("default", "ru"): [("start", "Подписаться")],
    }
    assert fake_telegram.commands_for() == ["start", "help"]


async def test_webhook_blocks_polling_until_deleted(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.send_user_message(CHAT, "queued")
    await fake_bot.set_webhook("https://example.org/hook")

    info = await fake_bot.get_webhook_info()
    with pytest.raises(Conflict):
        await fake_bot.get_updates(timeout=0)
    await fake_bot.delete_webhook(drop_pending_updates=True)

    assert (info.url, info.pending_update_count) == ("https://example.org/hook", 1)
    assert await fake_bot.get_updates(timeout=0) == ()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]])
    await update.effective_message.reply_html("<b>Hello</b> &amp; welcome", reply_markup=keyboard)


async def _again(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("ok")
    await query.edit_message_text("<i>Again</i>", parse_mode="HTML")


async def test_a_real_application_polls_and_answers(fake_telegram: FakeTelegram) -> None:
    app = (
        ApplicationBuilder()
        .token(fake_telegram.token)
        .base_url(fake_telegram.base_url)
        .request(plain_http_request())
        .get_updates_request(plain_http_request())
        .build()
    )
    app.add_handler(CommandHandler("start", _echo))
    app.add_handler(CallbackQueryHandler(_again))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        fake_telegram.send_user_message(CHAT, "/start")
        (reply,) = await fake_telegram.wait_for_messages(CHAT, count=1, timeout=5)
        query_id = fake_telegram.press_button(CHAT, reply.message_id, text="Again")
        answer = await fake_telegram.wait_for_callback_answer(query_id)
        await fake_telegram.wait_for_requests("editMessageText")
        await app.updater.stop()
        await app.stop()

    assert reply.text == "Hello & welcome"
    assert answer.text == "ok"
    (edited,) = fake_telegram.messages(CHAT)
    assert (edited.text, edited.buttons) == ("Again", [])


async def test_a_newer_get_updates_ends_the_one_in_progress_with_409(
    fake_bot: Bot, fake_telegram: FakeTelegram
) -> None:
    older = asyncio.ensure_future(fake_bot.get_updates(timeout=5))
    await fake_telegram.wait_for_requests("getUpdates", 1)
    # A second instance of the bot: its own connection, the same token.
    async with Bot(
        fake_telegram.token,
        base_url=fake_telegram.base_url,
        request=plain_http_request(),
        get_updates_request=plain_http_request(),
    ) as other:
        assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await older
        fake_telegram.send_user_message(CHAT, "for whoever polls now")
        newer = await other.get_updates(timeout=1)

    assert [u.message.text for u in newer if u.message] == ["for whoever polls now"]
    assert fake_telegram.conflicts == 1
