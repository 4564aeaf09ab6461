"""Small pieces every handler uses: the chat's language and replying."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.i18n import language_of, t
from bot.services import services
from storage import chats


async def chat_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The language stored for the chat, else the user's Telegram language."""
    chat = update.effective_chat
    if chat is not None:
        info = await services(context).db.run(chats.get_chat, chat_id=chat.id)
        if info is not None:
            return info.language
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def reply_html(update: Update, text: str) -> None:
    """Answer in the chat the update came from, in Telegram HTML."""
    if update.effective_chat is None:
        return
    await update.effective_chat.send_message(
        text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
    )


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def admin_only(handler: Handler) -> Handler:
    """Refuse, politely and without side effects, anyone not in ADMIN_IDS."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if not services(context).is_admin(user.id if user else None):
            await reply_html(update, t(await chat_language(update, context), "admin_only"))
            return
        await handler(update, context)

    return guarded
