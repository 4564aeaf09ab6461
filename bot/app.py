"""The composition root: build the Application, open and close shared services."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.i18n import LANGUAGES, t
from bot.services import SERVICES_KEY, Services
from bot.settings import Settings
from handlers import fallback, start
from handlers.errors import error_handler
from storage import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BotCommandSpec:
    """A command: its handler, its menu text (locale key) and whether only admins may use it."""

    name: str
    callback: HandlerCallback
    description_key: str
    admin: bool = False


HandlerCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

# The order here is the order of the menu and of /help.
COMMANDS: tuple[BotCommandSpec, ...] = (
    BotCommandSpec("start", start.start, "cmd_start"),
    BotCommandSpec("help", start.help_command, "cmd_help"),
)


def register_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.bot_data["commands"] = COMMANDS
    for spec in COMMANDS:
        app.add_handler(CommandHandler(spec.name, spec.callback))
    # Same group, added last: only reached when no command above matched.
    app.add_handler(MessageHandler(filters.COMMAND, fallback.unknown_command))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, fallback.plain_message
        )
    )
    app.add_error_handler(error_handler)


async def publish_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
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
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Application with every handler and job; services open in post_init."""

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        db = Database(settings.database_url)
        await asyncio.to_thread(db.upgrade)
        app.bot_data[SERVICES_KEY] = Services(
            settings=settings,
            db=db,
            admin_ids=settings.admin_ids if admin_ids is None else admin_ids,
        )
        await publish_commands(app)
        log.info("coopwatch started as @%s (database: %s)", app.bot.username, db.backend)

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        services: Services | None = app.bot_data.pop(SERVICES_KEY, None)
        if services is not None:
            services.db.close()
        log.info("coopwatch stopped")

    builder = (
        ApplicationBuilder()
        .token(token or settings.telegram_bot_token or "")
        .base_url(settings.telegram_base_url)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    register_handlers(app)
    return app


ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
    Update.CHANNEL_POST,
]
