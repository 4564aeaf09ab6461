"""Small pieces every handler uses: the chat's language, replying, a country argument."""

from __future__ import annotations

import functools
import html
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ParseMode

from bot.context import Context
from bot.i18n import language_of, t
from bot.render import MAX_MESSAGE, country_name, utf16_len
from coopwatch.app import Actor
from news.countries import look_up_country
from storage import chats

log = logging.getLogger(__name__)
_TAG = re.compile(r"<[^>]*>")


async def chat_language(update: Update, context: Context) -> str:
    """The language stored for the chat, else the user's Telegram language."""
    chat = update.effective_chat
    if chat is not None:
        info = await context.coopwatch.db.run(chats.get_chat, chat_id=chat.id)
        if info is not None:
            return info.language
    user = update.effective_user
    return language_of(user.language_code if user else None)


async def reply_html(update: Update, text: str) -> None:
    """Answer in the chat the update came from, in Telegram HTML."""
    if update.effective_chat is None:
        return
    if utf16_len(text) > MAX_MESSAGE:
        # Every lister bounds its reply; should one still overflow, the user gets the text
        # cut rather than an error (an HTML cut could leave a tag open, so it goes plain).
        log.warning("reply of %d characters cut to Telegram's limit", len(text))
        plain = html.unescape(_TAG.sub("", text))
        await update.effective_chat.send_message(
            cut_plain(plain, MAX_MESSAGE), disable_web_page_preview=True
        )
        return
    await update.effective_chat.send_message(
        text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
    )


def cut_plain(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, at a line end when one is near, with "…"."""
    if utf16_len(text) <= limit:
        return text
    units = text.encode("utf-16-le", "surrogatepass")[: (limit - 1) * 2]
    head = units.decode("utf-16-le", "ignore")  # a pair cut in half is dropped
    if "\n" in head[len(head) // 2 :]:
        head = head.rsplit("\n", 1)[0]
    return head.rstrip() + "…"


async def country_argument(update: Update, lang: str, query: str) -> str | None:
    """The ISO code of the country the user typed (/country, /trends, /export), or None
    after telling them what went wrong: too long, a near miss ("Did you mean …?"), unknown."""
    found = look_up_country(query)
    if found.too_long:
        await reply_html(update, t(lang, "argument_too_long"))
        return None
    if found.code is not None:
        return found.code
    near = found.suggestion
    if near is not None:
        text = t(lang, "country_suggest", query=html.escape(query), name=country_name(near, lang))
    else:
        text = t(lang, "country_unknown", query=html.escape(query))
    await reply_html(update, text)
    return None


Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def actor_of(update: Update) -> Actor:
    """Who sent the update, for the audit log of an admin action."""
    user = update.effective_user
    return Actor(user_id=user.id if user else None)


def admin_only(handler: Handler) -> Handler:
    """Refuse, politely and without side effects, anyone not in ADMIN_IDS."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        user = update.effective_user
        if not context.bot_data.is_admin(user.id if user else None):
            await reply_html(update, t(await chat_language(update, context), "admin_only"))
            return
        await handler(update, context)

    return guarded
