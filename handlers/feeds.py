"""Admin commands for feeds: /addfeed, /removefeed, /feeds, /pollnow."""

from __future__ import annotations

import html
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot.context import Context
from bot.i18n import count_of, t
from coopwatch.app import FeedRefused
from handlers.common import actor_of, admin_only, chat_language, reply_html
from handlers.paging import cut, fitting
from storage.feeds import FeedInfo

FEEDS_PER_PAGE = 10
# UTF-16 units of a feed's title and last error in /feeds: a page of three worst-case feeds
# still fits Telegram's 4,096, and a usual page shows ten.
MAX_TITLE = 200
MAX_ERROR = 600


@admin_only
async def addfeed(update: Update, context: Context) -> None:
    """Fetch and parse a URL; add it as a feed, or say why not."""
    lang = await chat_language(update, context)
    args = context.args or []
    if not args:
        await reply_html(update, html.escape(t(lang, "addfeed_usage")))
        return
    url, title = args[0], " ".join(args[1:]).strip() or None
    await reply_html(update, t(lang, "addfeed_checking", url=cut(url, 200)))
    try:
        added = await context.coopwatch.add_feed(
            url, title=title[:300] if title else None, actor=actor_of(update)
        )
    except FeedRefused as exc:
        await reply_html(update, t(lang, "addfeed_refused", reason=cut(str(exc), MAX_ERROR)))
        return
    await reply_html(
        update,
        t(
            lang,
            "addfeed_done",
            id=added.feed.id,
            title=cut(added.feed.title, MAX_TITLE),
            count=added.item_count,
            items=count_of(lang, "items", added.item_count),
        ),
    )


@admin_only
async def removefeed(update: Update, context: Context) -> None:
    """Remove a feed by id."""
    lang = await chat_language(update, context)
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit() or len(args[0]) > 12:
        await reply_html(update, t(lang, "removefeed_usage"))
        return
    feed_id = int(args[0])
    removed = await context.coopwatch.remove_feed(feed_id, actor=actor_of(update))
    if removed is None:
        await reply_html(update, t(lang, "removefeed_unknown", id=feed_id))
        return
    await reply_html(
        update, t(lang, "removefeed_done", id=feed_id, title=cut(removed.title, MAX_TITLE))
    )


@admin_only
async def feeds(update: Update, context: Context) -> None:
    """List feeds with their health, paged."""
    lang = await chat_language(update, context)
    text, markup = await _feeds_page(context, lang, 0)
    if update.effective_chat is not None:
        await update.effective_chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )


async def feeds_page_button(update: Update, context: Context) -> None:
    """The [More] button of /feeds (callback data "feeds:FIRST", the position of the next feed)."""
    query = update.callback_query
    if query is None:
        return
    lang = await chat_language(update, context)
    if not context.bot_data.is_admin(query.from_user.id):
        await query.answer(t(lang, "admin_only"), show_alert=True)
        return
    data = (query.data or "").split(":", 1)
    if len(data) != 2 or not data[1].isdigit() or len(data[1]) > 6:
        await query.answer(t(lang, "stale_button"))
        return
    await query.answer()
    text, markup = await _feeds_page(context, lang, int(data[1]))
    if query.message is not None:
        await query.message.chat.send_message(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )


async def _feeds_page(
    context: Context, lang: str, first: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Feeds from position `first`, as many as fit in one message (at most ten).

    Pages are cut by size, not by count: a hostile feed's title or error text must not push
    a page over Telegram's limit, which would hide every feed id on it from the admin.
    """
    all_feeds = await context.coopwatch.list_feeds()
    if not all_feeds:
        return t(lang, "feeds_empty"), None
    first = min(max(first, 0), len(all_feeds) - 1)
    lines = [_feed_line(feed, lang) for feed in all_feeds[first : first + FEEDS_PER_PAGE]]

    def count(status: str) -> int:
        return sum(1 for feed in all_feeds if feed.status == status)

    def header(last: int) -> str:
        return t(
            lang,
            "feeds_header",
            total=len(all_feeds),
            first=first + 1,
            last=last,
            ok=count("ok"),
            failing=count("failing"),
            disabled=count("disabled"),
        )

    shown = max(1, fitting(lines, head=header(len(all_feeds)), sep="\n\n"))
    after = first + shown
    markup = None
    if after < len(all_feeds):
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(t(lang, "more"), callback_data=f"feeds:{after}")]]
        )
    return "\n\n".join([header(after), *lines[:shown]]), markup


def _when(moment: datetime | None, lang: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else t(lang, "never")


def _feed_line(feed: FeedInfo, lang: str) -> str:
    """One feed, never longer than a tenth of a message plus its error's 600 units."""
    if feed.status == "failing":
        status = t(lang, "feed_failing", since=_when(feed.failing_since, lang))
    else:
        status = t(lang, f"feed_{feed.status}")
    line = t(
        lang,
        "feed_line",
        id=feed.id,
        title=cut(feed.title or feed.url, MAX_TITLE),
        status=status,
        items=feed.item_count,
        success=_when(feed.last_success_at, lang),
    )
    if feed.last_error:
        line += "\n" + t(lang, "feed_error", error=cut(feed.last_error, MAX_ERROR))
    return line


@admin_only
async def pollnow(update: Update, context: Context) -> None:
    """Make every feed due and poll them now."""
    lang = await chat_language(update, context)
    reports = await context.coopwatch.poll_all(actor=actor_of(update))
    await reply_html(
        update,
        t(
            lang,
            "pollnow_done",
            feeds=len(reports),
            ok=sum(r.outcome == "ok" for r in reports),
            not_modified=sum(r.outcome == "not_modified" for r in reports),
            failed=sum(r.outcome == "error" for r in reports),
            new=sum(r.new_count for r in reports),
            feeds_polled=count_of(lang, "feeds", len(reports)),
            new_items=count_of(lang, "new_items", sum(r.new_count for r in reports)),
        ),
    )
