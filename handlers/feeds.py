"""Admin commands for feeds: /addfeed, /removefeed, /feeds, /pollnow."""

from __future__ import annotations

import html
import math
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.feedadmin import FeedRefused, add_feed_checked
from bot.i18n import count_of, t
from bot.services import services
from handlers.admin import record_admin_action
from handlers.common import admin_only, chat_language, reply_html
from storage import feeds as feed_store
from storage.feeds import FeedInfo

FEEDS_PER_PAGE = 10


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch and parse a URL; add it as a feed, or say why not."""
    lang = await chat_language(update, context)
    args = context.args or []
    if not args:
        await reply_html(update, html.escape(t(lang, "addfeed_usage")))
        return
    url, title = args[0], " ".join(args[1:]).strip() or None
    svc = services(context)
    await reply_html(update, t(lang, "addfeed_checking", url=html.escape(url[:200])))
    try:
        added = await add_feed_checked(
            db=svc.db,
            fetcher=svc.fetcher,
            url=url,
            title=title[:300] if title else None,
            allow_private=svc.settings.allow_private_feeds,
            interval=svc.settings.poll_interval,
            max_item_age=timedelta(hours=svc.settings.max_item_age),
        )
    except FeedRefused as exc:
        await reply_html(update, t(lang, "addfeed_refused", reason=html.escape(str(exc))))
        return
    await record_admin_action(update, context, "addfeed", f"{added.feed.id} {added.feed.url}")
    if added.new_items and svc.poller.on_new_items is not None:
        await svc.poller.on_new_items(added.new_items)
    await reply_html(
        update,
        t(
            lang,
            "addfeed_done",
            id=added.feed.id,
            title=html.escape(added.feed.title),
            count=added.item_count,
            items=count_of(lang, "items", added.item_count),
        ),
    )


@admin_only
async def removefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Remove a feed by id."""
    lang = await chat_language(update, context)
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 12:
        await reply_html(update, t(lang, "removefeed_usage"))
        return
    feed_id = int(args[0])
    removed = await services(context).db.run(feed_store.remove_feed, feed_id=feed_id)
    if removed is None:
        await reply_html(update, t(lang, "removefeed_unknown", id=feed_id))
        return
    await record_admin_action(update, context, "removefeed", f"{feed_id} {removed.url}")
    await reply_html(
        update, t(lang, "removefeed_done", id=feed_id, title=html.escape(removed.title))
    )


@admin_only
async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List feeds with their health, paged."""
    lang = await chat_language(update, context)
    text, markup = await _feeds_page(context, lang, 0)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )


async def feeds_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The [More] button of /feeds (callback data "feeds:PAGE")."""
    query = update.callback_query
    if query is None:
        return
    svc = services(context)
    lang = await chat_language(update, context)
    if not svc.is_admin(query.from_user.id):
        await query.answer(t(lang, "admin_only"), show_alert=True)
        return
    try:
        page = int((query.data or "").split(":", 1)[1])
    except (IndexError, ValueError):
        await query.answer(t(lang, "stale_button"))
        return
    await query.answer()
    text, markup = await _feeds_page(context, lang, page)
    if query.message is not None:
        await query.message.chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )


async def _feeds_page(
    context: ContextTypes.DEFAULT_TYPE, lang: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    all_feeds = await services(context).db.run(feed_store.list_feeds)
    if not all_feeds:
        return t(lang, "feeds_empty"), None
    pages = max(1, math.ceil(len(all_feeds) / FEEDS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = all_feeds[page * FEEDS_PER_PAGE : (page + 1) * FEEDS_PER_PAGE]

    def count(status: str) -> int:
        return sum(1 for feed in all_feeds if feed.status == status)

    header = t(
        lang,
        "feeds_header",
        total=len(all_feeds),
        page=page + 1,
        pages=pages,
        ok=count("ok"),
        failing=count("failing"),
        disabled=count("disabled"),
    )
    lines = [header]
    lines += [_feed_line(feed, lang) for feed in shown]
    markup = None
    if page + 1 < pages:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(lang, "more"), callback_data=f"feeds:{page + 1}")]]
        )
    return "\n\n".join(lines), markup


def _when(moment: datetime | None, lang: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else t(lang, "never")


def _feed_line(feed: FeedInfo, lang: str) -> str:
    if feed.status == "failing":
        status = t(lang, "feed_failing", since=_when(feed.failing_since, lang))
    else:
        status = t(lang, f"feed_{feed.status}")
    line = t(
        lang,
        "feed_line",
        id=feed.id,
        title=html.escape(feed.title or feed.url),
        status=status,
        items=feed.item_count,
        success=_when(feed.last_success_at, lang),
    )
    if feed.last_error:
        line += "\n" + t(lang, "feed_error", error=html.escape(feed.last_error[:300]))
    return line


@admin_only
async def pollnow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make every feed due and poll them now."""
    lang = await chat_language(update, context)
    svc = services(context)
    await svc.db.run(feed_store.schedule_all_now, now=svc.poller.clock())
    await record_admin_action(update, context, "pollnow", "")
    reports = await svc.poller.poll_due(join_in_flight=True)
    await reply_html(
        update,
        t(
            lang,
            "pollnow_done",
            feeds=len(reports),
            ok=sum(r.outcome == "ok" for r in reports),
            not_modified=sum(r.outcome == "not_modified" for r in reports),
            failed=sum(r.outcome == "error" for r in reports),
            new=sum(len(r.new_items) for r in reports),
            feeds_polled=count_of(lang, "feeds", len(reports)),
            new_items=count_of(lang, "new_items", sum(len(r.new_items) for r in reports)),
        ),
    )
