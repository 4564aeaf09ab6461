"""Admin figures and the audit log: /stats, /audit."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from telegram import Update

from bot.context import Context
from bot.i18n import t
from handlers.common import admin_only, chat_language, reply_html
from handlers.paging import cut, join_within
from storage import Database, audit, lease

MAX_DETAIL = 300  # UTF-16 units of one audit entry's detail


@admin_only
async def stats(update: Update, context: Context) -> None:
    """Subscribers, events, deliveries and feed health."""
    lang = await chat_language(update, context)
    figures, sent = await context.coopwatch.stats()
    await reply_html(
        update,
        t(
            lang,
            "stats",
            subscribers=figures.subscribers,
            today=figures.events_today,
            week=figures.events_week,
            sent=sent.sent,
            pending=sent.pending,
            failed=sent.failed,
            ok=figures.feeds_ok,
            failing=figures.feeds_failing,
            disabled=figures.feeds_disabled,
        )
        + "\n"
        + await _leader_line(context.coopwatch.db, lang),
    )


async def _leader_line(db: Database, lang: str) -> str:
    """Which instance leads (hostname:pid of the lease holder), for /stats."""
    held = await db.run(lease.current_lease)
    if held is None or held.expires_at <= datetime.now(UTC):
        expired = f"{held.expires_at:%Y-%m-%d %H:%M:%S}" if held else "—"
        return t(lang, "stats_no_leader", expired=expired)
    return t(lang, "stats_leader", leader=html.escape(held.holder), term=held.term)


@admin_only
async def audit_log(update: Update, context: Context) -> None:
    """The last admin actions, newest first."""
    lang = await chat_language(update, context)
    entries = await context.coopwatch.db.run(audit.recent, limit=20)
    if not entries:
        await reply_html(update, t(lang, "audit_empty"))
        return
    lines = []
    for entry in entries:
        who = str(entry.user_id) if entry.user_id is not None else entry.source
        action = cut(entry.action, 32)
        # Details hold URLs, which a feed's redirect or an admin can make as long as they like.
        detail = cut(entry.detail, MAX_DETAIL)
        lines.append(f"{entry.at:%Y-%m-%d %H:%M} UTC · {cut(who, 32)} · <b>{action}</b> {detail}")
    text = join_within(
        lines, head=t(lang, "audit_header"), more=lambda n: t(lang, "list_more", n=n)
    )
    await reply_html(update, text)
