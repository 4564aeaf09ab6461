"""/trends [COUNTRY]: a chart of events per month over the last 12 months, with a caption."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot.charts import country_trends, last_months, month_end, render_chart, states_trends
from bot.i18n import t
from bot.render import country_name
from bot.services import services
from handlers.common import chat_language, reply_html
from news.countries import resolve_country, suggest_country
from storage import events as event_store

MAX_ARGUMENT = 100


async def _country(update: Update, lang: str, query: str) -> str | None:
    """The country the user named, or None after telling them what went wrong."""
    if len(query) > MAX_ARGUMENT:
        await reply_html(update, t(lang, "argument_too_long"))
        return None
    code = resolve_country(query)
    if code is not None:
        return code
    near = suggest_country(query)
    if near is not None:
        text = t(lang, "country_suggest", query=html.escape(query), name=country_name(near, lang))
    else:
        text = t(lang, "country_unknown", query=html.escape(query))
    await reply_html(update, text)
    return None


async def trends(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A PNG chart of events per month by partner country (no country: the five states)."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await chat_language(update, context)
    query = " ".join(context.args or []).strip()
    code = await _country(update, lang, query) if query else None
    if query and code is None:
        return
    months = last_months(datetime.now(UTC).date())
    found = await services(context).db.run(
        event_store.event_dates, since=months[0], until=month_end(months[-1]), country=code
    )
    chosen = country_trends(found, code, months) if code else states_trends(found, months)
    if chosen.total == 0:
        if code:
            none = t(lang, "trends_none", country=html.escape(country_name(code, lang)))
        else:
            none = t(lang, "trends_none_all")
        await reply_html(update, none)
        return
    await chat.send_chat_action(ChatAction.UPLOAD_PHOTO)
    # matplotlib blocks for a few hundred milliseconds: off the event loop, so other chats'
    # commands and the sender keep going meanwhile.
    chart = await asyncio.to_thread(render_chart, chosen, lang)
    await chat.send_photo(photo=chart.png, caption=chart.caption)
