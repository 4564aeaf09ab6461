"""/event, /country, /latest and their buttons (ev:KEY, cc:CC:PAGE, lt:PAGE)."""

from __future__ import annotations

import html
import re

from telegram import Update
from telegram.constants import ParseMode

from bot.context import Context
from bot.eventviews import event_view
from bot.i18n import t
from bot.render import (
    PAGE_SIZE,
    Rendered,
    keyboard,
    render_event_details,
    render_event_list,
)
from handlers.common import chat_language, country_argument
from storage import chats

_KEY = re.compile(r"^#?[A-Za-z0-9-]{1,40}$")


async def _send(update: Update, rendered: Rendered) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_message(
        rendered.text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(rendered),
        disable_web_page_preview=True,
    )


async def _say(update: Update, text: str) -> None:
    if update.effective_chat is not None:
        await update.effective_chat.send_message(text, parse_mode=ParseMode.HTML)


async def _subscribed(update: Update, context: Context) -> tuple[str, ...]:
    chat = update.effective_chat
    if chat is None:
        return ()
    info = await context.coopwatch.db.run(chats.get_chat, chat_id=chat.id)
    return info.countries if info else ()


async def _show_event(update: Update, context: Context, key: str) -> None:
    lang = await chat_language(update, context)
    if not _KEY.match(key):
        await _say(update, t(lang, "event_usage"))
        return
    found = await context.coopwatch.find_events(key)
    if not found:
        await _say(update, t(lang, "event_unknown", key=html.escape(key)))
        return
    if len(found) > 1:  # "KZ-TJ-2021-05-19" names every event of that pair and day
        await _send(update, render_event_list([event_view(e, lang) for e in found], lang=lang))
        return
    subscribed = await _subscribed(update, context)
    await _send(
        update, render_event_details(event_view(found[0], lang), lang=lang, subscribed=subscribed)
    )


async def event(update: Update, context: Context) -> None:
    """Details of one event with every source."""
    args = context.args or []
    if len(args) != 1:
        await _say(update, t(await chat_language(update, context), "event_usage"))
        return
    await _show_event(update, context, args[0])


async def _show_country(update: Update, context: Context, code: str, page: int) -> None:
    lang = await chat_language(update, context)
    found, total = await context.coopwatch.country_events(
        code, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    views = [event_view(e, lang) for e in found]
    has_more = (page + 1) * PAGE_SIZE < total
    await _send(
        update, render_event_list(views, lang=lang, country=code, page=page, has_more=has_more)
    )


async def country(update: Update, context: Context) -> None:
    """Recent events involving a country, newest first, five per page."""
    lang = await chat_language(update, context)
    query = " ".join(context.args or []).strip()
    if not query:
        await _say(update, t(lang, "country_usage"))
        return
    code = await country_argument(update, lang, query)
    if code is None:
        return
    await _show_country(update, context, code, 0)


async def _show_latest(update: Update, context: Context, page: int) -> None:
    lang = await chat_language(update, context)
    found, total = await context.coopwatch.latest_events(offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    has_more = (page + 1) * PAGE_SIZE < total
    views = [event_view(e, lang) for e in found]
    await _send(update, render_event_list(views, lang=lang, page=page, has_more=has_more))


async def latest(update: Update, context: Context) -> None:
    """The newest events overall."""
    await _show_latest(update, context, 0)


_BUTTON = re.compile(
    r"^(?:ev:(?P<key>[A-Za-z0-9-]{1,40})|cc:(?P<cc>[A-Z]{2}):(?P<cp>\d{1,4})|lt:(?P<lp>\d{1,4}))$"
)


async def event_button(update: Update, context: Context) -> None:
    """[Details], [<country> events] and [More]; old or forged data is answered harmlessly."""
    query = update.callback_query
    if query is None:
        return
    found = _BUTTON.match(query.data or "")
    if found is None:
        await query.answer(t(await chat_language(update, context), "stale_button"))
        return
    chat = update.effective_chat
    if chat is not None and chat.type == chat.CHANNEL:
        # A reader's press must not post into the channel: point them to a private chat.
        await query.answer(
            t(await chat_language(update, context), "channel_button", bot=context.bot.username),
            show_alert=True,
        )
        return
    await query.answer()
    if found["key"]:
        await _show_event(update, context, found["key"])
    elif found["cc"]:
        await _show_country(update, context, found["cc"], int(found["cp"]))
    else:
        await _show_latest(update, context, int(found["lp"]))
