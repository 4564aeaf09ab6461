"""/trends [COUNTRY]: a chart of events per month over the last 12 months, with a caption."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from telegram import Update
from telegram.constants import ChatAction

from bot.charts import country_trends, last_months, render_chart, states_trends
from bot.context import Context
from bot.i18n import t
from bot.render import country_name
from handlers.common import chat_language, country_argument, reply_html
from news.facts import month_end


async def trends(update: Update, context: Context) -> None:
    """A PNG chart of events per month by partner country (no country: the five states)."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await chat_language(update, context)
    query = " ".join(context.args or []).strip()
    code = await country_argument(update, lang, query) if query else None
    if query and code is None:
        return
    months = last_months(datetime.now(UTC).date())
    found = await context.coopwatch.event_days(
        since=months[0], until=month_end(months[-1]), country=code
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
