"""The composition root: build the Application; open and close the application object."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.context import CONTEXT_TYPES, BotApplication, Context
from bot.delivery import schedule_delivery_jobs
from bot.fairness import ChatOrderedProcessor
from bot.i18n import LANGUAGES, t
from bot.jobs import schedule_jobs, tell_admins_feed_disabled
from bot.web.metrics import FloodCountingRateLimiter
from bot.web.server import start_web_server, stop_web_server, webhook_path
from coopwatch.app import open_coopwatch
from coopwatch.leadership import Leadership
from coopwatch.settings import Settings
from handlers import admin, events, export, fallback, feeds, guard, start, subscriptions
from handlers.errors import error_handler
from handlers.filter import filter_command
from handlers.trends import trends as trends_command
from storage.feeds import FeedInfo
from storage.lease import LeaseStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BotCommandSpec:
    """A command: its handler, its menu text (locale key) and whether only admins may use it."""

    name: str
    callback: HandlerCallback
    description_key: str
    admin: bool = False
    # False for commands that wait on the network (/addfeed, /pollnow): other users'
    # updates are handled meanwhile.
    block: bool = True


HandlerCallback = Callable[[Update, Context], Coroutine[Any, Any, None]]

# The order here is the order of the menu and of /help.
COMMANDS: tuple[BotCommandSpec, ...] = (
    BotCommandSpec("start", start.start, "cmd_start"),
    BotCommandSpec("help", start.help_command, "cmd_help"),
    BotCommandSpec("subscribe", subscriptions.subscribe, "cmd_subscribe"),
    BotCommandSpec("unsubscribe", subscriptions.unsubscribe, "cmd_unsubscribe"),
    BotCommandSpec("settings", subscriptions.settings, "cmd_settings"),
    BotCommandSpec("lang", subscriptions.lang, "cmd_lang"),
    BotCommandSpec("latest", events.latest, "cmd_latest"),
    BotCommandSpec("country", events.country, "cmd_country"),
    BotCommandSpec("event", events.event, "cmd_event"),
    BotCommandSpec("trends", trends_command, "cmd_trends"),
    BotCommandSpec("filter", filter_command, "cmd_filter"),
    BotCommandSpec("export", export.export, "cmd_export"),
    BotCommandSpec("addfeed", feeds.addfeed, "cmd_addfeed", admin=True, block=False),
    BotCommandSpec("removefeed", feeds.removefeed, "cmd_removefeed", admin=True),
    BotCommandSpec("feeds", feeds.feeds, "cmd_feeds", admin=True),
    BotCommandSpec("pollnow", feeds.pollnow, "cmd_pollnow", admin=True, block=False),
    BotCommandSpec("addchannel", subscriptions.addchannel, "cmd_addchannel", admin=True),
    BotCommandSpec("stats", admin.stats, "cmd_stats", admin=True),
    BotCommandSpec("audit", admin.audit_log, "cmd_audit", admin=True),
)


def register_handlers(app: BotApplication, *, in_order: bool = False) -> None:
    """``in_order``: every command finishes before the next starts (console mode)."""
    app.bot_data.commands = COMMANDS
    # Group -1 runs before every handler; it stops floods and malformed commands.
    app.add_handler(TypeHandler(Update, guard.guard), group=-1)
    for spec in COMMANDS:
        block = spec.block or in_order
        app.add_handler(CommandHandler(spec.name, spec.callback, block=block))
    app.add_handler(CallbackQueryHandler(feeds.feeds_page_button, pattern=r"^feeds:"))
    app.add_handler(CallbackQueryHandler(events.event_button, pattern=r"^(ev|cc|lt):"))
    app.add_handler(CallbackQueryHandler(subscriptions.settings_button, pattern=r"^set:"))
    app.add_handler(CallbackQueryHandler(subscriptions.mute_button, pattern=r"^mute:"))
    # Last: any other button press (old keyboards, forged data).
    app.add_handler(CallbackQueryHandler(fallback.stale_button))
    # Same group, added last: only reached when no command above matched.
    app.add_handler(MessageHandler(filters.COMMAND, fallback.unknown_command))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, fallback.plain_message
        )
    )
    app.add_error_handler(error_handler)


async def publish_commands(app: BotApplication) -> None:
    """setMyCommands for the default language and for each language we speak."""
    for lang in LANGUAGES:
        commands = [
            BotCommand(spec.name, t(lang, spec.description_key))
            for spec in COMMANDS
            if not spec.admin
        ]
        await app.bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if lang == "en" else lang,
        )


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    token: str | None = None,
    admin_ids: frozenset[int] | None = None,
    parse_in_processes: bool = True,
    console: bool = False,
) -> BotApplication:
    """The Application with every handler and job; the application object opens in post_init.

    ``console``: the chat is this terminal (bot/console.py). Its one user is the person who
    runs the instance, often feeding a script through a pipe: no flood limit for them, and
    commands answered in the order they were typed (`/addfeed A`, `/addfeed B`, `/pollnow`).
    """
    # A limit no one reaches: the console has a single user, the operator (review 4).
    rate_limit = (
        guard.CommandRateLimit(max_actions=sys.maxsize) if console else (guard.CommandRateLimit())
    )

    async def post_init(app: BotApplication) -> None:
        async def on_feed_disabled(feed: FeedInfo) -> None:
            await tell_admins_feed_disabled(app, feed)

        coopwatch = await open_coopwatch(
            settings, parse_in_processes=parse_in_processes, on_feed_disabled=on_feed_disabled
        )
        app.bot_data.coopwatch = coopwatch
        leadership = Leadership(
            LeaseStore(coopwatch.db.url),
            single=coopwatch.db.backend == "sqlite",
            on_deposed=lambda reason: end_run(app),
        )
        app.bot_data.leadership = leadership
        web_port = settings.web_port_in_effect
        if web_port is not None:
            webhook = (
                (webhook_path(settings), settings.webhook_secret) if settings.webhook_url else None
            )
            # Before the wait below, so a waiting instance answers /health and /metrics; its
            # webhook route answers 503 until the Application starts, that is, until it leads.
            await start_web_server(app, host=settings.web_listen, port=web_port, webhook=webhook)
        # Only the leader goes on (run_polling/serve_webhook start getUpdates or setWebhook
        # after post_init, the JobQueue after that); a waiting instance stays here.
        await leadership.acquire()
        leadership.start_heartbeat()
        seeded = await coopwatch.seed_default_feeds()
        if seeded:
            log.info("added %d default feeds to the empty database", seeded)
        await publish_commands(app)
        schedule_jobs(app)
        schedule_delivery_jobs(app)
        log.info("coopwatch started as @%s (database: %s)", app.bot.username, coopwatch.db.backend)

    async def post_stop(app: BotApplication) -> None:
        if app.bot_data.coopwatch is not None:
            await app.bot_data.coopwatch.cancel_polls()
        if app.bot_data.sender is not None:
            await app.bot_data.sender.finish()
        if app.bot_data.leadership is not None:
            # After the last send: the next leader may start at once.
            await app.bot_data.leadership.close()

    async def post_shutdown(app: BotApplication) -> None:
        await stop_web_server(app)  # first: it reads the application closed below
        if app.bot_data.leadership is not None:
            await app.bot_data.leadership.close()  # a stop while waiting never reached post_stop
        coopwatch, app.bot_data.coopwatch = app.bot_data.coopwatch, None
        if coopwatch is not None:
            await coopwatch.aclose()
        log.info("coopwatch stopped")

    builder = (
        ApplicationBuilder()
        .token(token or settings.telegram_bot_token or "")
        .base_url(settings.telegram_base_url)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .context_types(CONTEXT_TYPES)
        # Telegram's limits: ~30 messages/s overall, 20/min per group; a 429 is waited out
        # (retry_after) for its chat only and the same request resent, a few times, before it
        # surfaces.
        .rate_limiter(
            FloodCountingRateLimiter(
                overall_max_rate=30,
                overall_time_period=1,
                group_max_rate=20,
                group_time_period=60,
                max_retries=3,
            )
        )
        # Chats are served concurrently, each chat's updates in order (bot/fairness.py).
        .concurrent_updates(ChatOrderedProcessor(rate_limit))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    app.bot_data.rate_limit = rate_limit
    app.bot_data.admin_ids = settings.admin_ids if admin_ids is None else admin_ids
    register_handlers(app, in_order=console)
    return app


_ENDING: set[asyncio.Task[None]] = set()  # references, so the tasks are not collected


def end_run(app: BotApplication) -> None:
    """Stop the run of ``app`` (this instance lost its lease), however far it has started."""
    stop = app.bot_data.stop_run
    if stop is not None:  # serve_webhook's own stop
        stop()
        return

    # stop_running() only works once Application.start() has returned: `app.running` turns
    # true as start() begins, and a stop during it (run_polling's run_until_complete) aborts
    # the start or is lost, and the deposed instance ran on. So stop once it has started.
    async def stop_once_started() -> None:
        await until_started(app)
        app.stop_running()

    task = asyncio.get_running_loop().create_task(stop_once_started())
    _ENDING.add(task)
    task.add_done_callback(_ENDING.discard)


async def until_started(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Return once ``app.start()`` has returned and the loop runs for ever (run_polling).

    start() makes the update fetcher last and awaits nothing after it; the short sleep puts
    us past the end of run_until_complete. PTB has no event for "started", hence the polling.
    """
    fetcher = f"Application:{app.bot.id}:update_fetcher"
    while not any(task.get_name() == fetcher for task in asyncio.all_tasks()):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)


ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]
