"""Answers for what no other handler takes: unknown commands and plain messages."""

from __future__ import annotations

from telegram import Update

from bot.context import Context
from bot.i18n import t
from handlers.common import chat_language, reply_html


async def unknown_command(update: Update, context: Context) -> None:
    """Point a mistyped command to /help."""
    await reply_html(update, t(await chat_language(update, context), "unknown_command"))


async def plain_message(update: Update, context: Context) -> None:
    """A private message that is not a command gets the help hint."""
    await reply_html(update, t(await chat_language(update, context), "plain_hint"))


async def stale_button(update: Update, context: Context) -> None:
    """A button press no handler recognised: an old keyboard or forged data."""
    query = update.callback_query
    if query is not None:
        await query.answer(t(await chat_language(update, context), "stale_button"))
