"""/export [COUNTRY]: the stored events as a CSV document, the columns of `coopwatch export`."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.export import render_export
from bot.i18n import t
from bot.render import country_name
from bot.services import services
from handlers.common import chat_language, reply_html
from news.countries import resolve_country, suggest_country
from storage import archive as archive_store

MAX_ARGUMENT = 100
# The newest events only: a document a subscriber can open, well under Telegram's 50 MB.
MAX_EXPORT_EVENTS = 5000


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the events (of one country, if named) as a CSV document."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await chat_language(update, context)
    query = " ".join(context.args or []).strip()
    code: str | None = None
    if query:
        if len(query) > MAX_ARGUMENT:
            await reply_html(update, t(lang, "argument_too_long"))
            return
        code = resolve_country(query)
        if code is None:
            near = suggest_country(query)
            key, values = (
                ("country_suggest", {"name": country_name(near, lang)})
                if near
                else ("country_unknown", {})
            )
            await reply_html(update, t(lang, key, query=html.escape(query), **values))
            return
    entries = await services(context).db.run(
        archive_store.list_events, country=code, limit=MAX_EXPORT_EVENTS
    )
    if not entries:
        if code is None:
            await reply_html(update, t(lang, "export_empty"))
        else:
            await reply_html(
                update, t(lang, "export_empty_country", country=country_name(code, lang))
            )
        return
    # Rendering thousands of rows is CPU work: off the event loop.
    data = await asyncio.to_thread(render_export, entries, "csv", title="coopwatch events")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    name = f"coopwatch-events-{code.lower() + '-' if code else ''}{stamp}.csv"
    scope = t(lang, "export_scope", country=country_name(code, lang)) if code else ""
    await chat.send_document(
        InputFile(data, filename=name),
        caption=t(
            lang,
            "export_caption_one" if len(entries) == 1 else "export_caption",
            count=len(entries),
            scope=html.escape(scope),
        ),
        parse_mode=ParseMode.HTML,
    )
