"""/export [COUNTRY]: the stored events as a CSV document, the columns of `coopwatch export`."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime

from telegram import InputFile, Update
from telegram.constants import ParseMode

from bot.context import Context
from bot.export import render_export
from bot.i18n import t
from bot.render import country_name
from handlers.common import chat_language, country_argument, reply_html

# The newest events only: a document a subscriber can open, well under Telegram's 50 MB.
MAX_EXPORT_EVENTS = 5000


async def export(update: Update, context: Context) -> None:
    """Send the events (of one country, if named) as a CSV document."""
    chat = update.effective_chat
    if chat is None:
        return
    lang = await chat_language(update, context)
    query = " ".join(context.args or []).strip()
    code: str | None = None
    if query:
        code = await country_argument(update, lang, query)
        if code is None:
            return
    entries = await context.coopwatch.events(country=code, limit=MAX_EXPORT_EVENTS)
    if not entries:
        if code is None:
            await reply_html(update, t(lang, "export_empty"))
        else:
            await reply_html(
                update, t(lang, "export_empty_country", country=country_name(code, lang))
            )
        return
    total = len(entries)
    if total == MAX_EXPORT_EVENTS:  # perhaps cut: say so rather than call it every event
        total = await context.coopwatch.count_events(country=code)
    # Rendering thousands of rows is CPU work: off the event loop.
    data = await asyncio.to_thread(
        render_export, entries, "csv", title="coopwatch events", spreadsheet=True
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    name = f"coopwatch-events-{code.lower() + '-' if code else ''}{stamp}.csv"
    scope = t(lang, "export_scope", country=country_name(code, lang)) if code else ""
    await chat.send_document(
        InputFile(data, filename=name),
        caption=t(
            lang,
            _caption_key(len(entries), total),
            count=len(entries),
            total=total,
            scope=html.escape(scope),
        ),
        parse_mode=ParseMode.HTML,
    )


def _caption_key(count: int, total: int) -> str:
    if total > count:
        return "export_caption_newest"
    return "export_caption_one" if count == 1 else "export_caption"
