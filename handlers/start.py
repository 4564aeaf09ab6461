"""/start and /help."""

from __future__ import annotations

import html
from typing import Any

from telegram import Update

from bot.context import Context
from bot.i18n import language_of, t
from handlers.common import chat_language, reply_html
from handlers.subscriptions import may_change
from news.records import CENTRAL_ASIA
from storage import chats


async def start(update: Update, context: Context) -> None:
    """Register the chat and subscribe it to the five Central Asian states."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    lang = language_of(user.language_code if user else None)
    db = context.coopwatch.db
    known = await db.run(chats.get_chat, chat_id=chat.id)
    if (known is None or not known.active) and not await may_change(update, context):
        # In a group, only administrators may switch its alerts on (or back on).
        await reply_html(update, t(known.language if known else lang, "group_admins_only"))
        return
    info, created = await db.run(
        chats.register_chat,
        chat_id=chat.id,
        chat_type=chat.type,
        language=lang,
        title=chat.title,
        username=chat.username,
    )
    if created or not info.countries:
        # After /unsubscribe the chat has no rows: /start follows the five states again, as
        # rows, so that /settings and a later /subscribe X see the same list.
        await db.run(chats.set_countries, chat_id=chat.id, countries=CENTRAL_ASIA)
    await reply_html(update, t(info.language, "welcome" if created else "welcome_back"))


async def help_command(update: Update, context: Context) -> None:
    """List the commands (and the admin ones for admins)."""
    lang = await chat_language(update, context)
    user = update.effective_user
    is_admin = context.bot_data.is_admin(user.id if user else None)
    lines = [t(lang, "help_intro"), ""]
    specs = context.bot_data.commands
    lines += [_help_line(spec, lang) for spec in specs if not spec.admin]
    if is_admin and any(spec.admin for spec in specs):
        lines += ["", t(lang, "help_admin")]
        lines += [_help_line(spec, lang) for spec in specs if spec.admin]
    await reply_html(update, "\n".join(lines))


def _help_line(spec: Any, lang: str) -> str:
    usage = t(lang, f"usage_{spec.name}", default="")
    head = f"/{spec.name} {html.escape(usage)}".rstrip()
    return f"{head} — {t(lang, spec.description_key)}"
