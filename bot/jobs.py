"""Scheduled jobs, run by python-telegram-bot's JobQueue (APScheduler 3)."""

from __future__ import annotations

import html
import logging

from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.context import BotApplication, BotData, Context
from bot.i18n import t
from bot.render import clean
from coopwatch.app import Coopwatch
from storage import chats
from storage.feeds import FeedInfo

log = logging.getLogger(__name__)

# The poll job only looks for due feeds; each feed's own next-poll time sets the pace.
POLL_TICK_SECONDS = 5.0
BACKLOG_TICK_SECONDS = 60.0
RETENTION_JOB = "prune-old-rows"
RETENTION_TICK_SECONDS = 6 * 3600.0  # a day's growth is small; four looks a day keep it flat
RETENTION_FIRST_SECONDS = 300.0  # not in the busy first minutes after a start


async def poll_feeds(context: Context) -> None:
    """Poll the feeds that are due (in the background, so the tick returns at once)."""
    coopwatch = context.coopwatch
    # Not application.create_task: the application waits for those at stop, and a slow feed
    # would hold up a SIGTERM; the poller cancels its own tasks instead (post_stop).
    coopwatch.poller.start_task(_poll_and_record(coopwatch, context.bot_data))


async def _poll_and_record(coopwatch: Coopwatch, bot_data: BotData) -> None:
    reports = await coopwatch.poll_due()
    hook = bot_data.first_poll_hook
    if reports and hook is not None:
        bot_data.first_poll_hook = None
        hook(reports)
    # Only a completed run counts: a scheduler stuck on the database stops advancing this.
    bot_data.last_poll_ok_at = coopwatch.poller.clock()


async def classify_backlog(context: Context) -> None:
    """Classify items a failed or interrupted pipeline left behind (and the CLI's)."""
    try:
        await context.coopwatch.process_backlog()
    except Exception:
        log.exception("classifying the backlog failed; it is tried again in a minute")


async def retention_job(context: Context) -> None:
    """Delete old items and finished deliveries; RETENTION_DAYS=0 keeps everything."""
    try:
        pruned = await context.coopwatch.prune()
    except Exception:
        log.exception("pruning old rows failed; it is tried again at the next run")
        return
    if pruned is not None and (pruned.items or pruned.deliveries):
        log.info(
            "pruned old rows",
            extra={
                "items": pruned.items,
                "deliveries": pruned.deliveries,
                "days": context.coopwatch.settings.retention_days,
            },
        )


def schedule_jobs(app: BotApplication) -> None:
    assert app.job_queue is not None, "python-telegram-bot[job-queue] is a dependency"
    app.job_queue.run_repeating(
        classify_backlog,
        interval=BACKLOG_TICK_SECONDS,
        first=3.0,
        name="classify-backlog",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    app.job_queue.run_repeating(
        retention_job,
        interval=RETENTION_TICK_SECONDS,
        first=RETENTION_FIRST_SECONDS,
        name=RETENTION_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )
    app.job_queue.run_repeating(
        poll_feeds,
        interval=POLL_TICK_SECONDS,
        first=1.0,
        name="poll-feeds",
        job_kwargs={"max_instances": 1, "coalesce": True},
    )


async def tell_admins_feed_disabled(app: BotApplication, feed: FeedInfo) -> None:
    """Tell every admin, in a private chat and in their language, that a feed was disabled."""
    db = app.bot_data.opened().db
    for admin_id in sorted(app.bot_data.admin_ids):
        chat = await db.run(chats.get_chat, chat_id=admin_id)
        text = t(
            chat.language if chat else "en",
            "feed_disabled_notice",
            id=feed.id,
            # A feed's own words, cut: the notice must fit one message whatever they say.
            title=html.escape(clean(feed.title or feed.url, 200), quote=False),
            error=html.escape(clean(feed.last_error, 300), quote=False),
        )
        try:
            await app.bot.send_message(admin_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            # An admin who never opened a chat with the bot cannot be messaged.
            log.warning(
                "could not tell admin %s that feed %s was disabled: %s", admin_id, feed.id, exc
            )
