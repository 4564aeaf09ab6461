"""What handlers, jobs and the web server share, typed with python-telegram-bot's ContextTypes.

As in python-telegram-bot's `examples/contexttypesbot.py`: `bot_data` is a `BotData` instance
instead of a dict of string keys, and handlers take a `Context` whose `coopwatch` is the
application object (coopwatch/app.py), so mypy checks every use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

if TYPE_CHECKING:
    from bot.app import BotCommandSpec
    from bot.delivery import DeliverySender
    from bot.web.server import WebServer
    from coopwatch.app import Coopwatch
    from coopwatch.leadership import Leadership
    from coopwatch.polling import PollReport
    from handlers.guard import CommandRateLimit


@dataclass
class BotData:
    """The running bot's shared state (PTB creates it empty; build_application fills it)."""

    # Opened in post_init, closed in post_shutdown.
    coopwatch: Coopwatch | None = None
    # Who may run the admin commands (ADMIN_IDS; in console mode the person at the terminal).
    admin_ids: frozenset[int] = frozenset()
    # The commands in menu order, for /help.
    commands: Sequence[BotCommandSpec] = ()
    rate_limit: CommandRateLimit | None = None
    sender: DeliverySender | None = None
    web: WebServer | None = None
    # When a poll_due() run last completed (aware UTC); /health reads it.
    last_poll_ok_at: datetime | None = None
    # Given the reports of the first poll run that polled any feed, then dropped (console
    # mode prints a one-line summary with it).
    first_poll_hook: Callable[[Sequence[PollReport]], None] | None = None
    # Whether this instance leads (coopwatch/leadership.py); made in post_init.
    leadership: Leadership | None = None
    # How to end this run when the lease is lost; None: Application.stop_running
    # (run_polling); serve_webhook sets its own.
    stop_run: Callable[[], None] | None = None

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admin_ids

    def opened(self) -> Coopwatch:
        """The application; an error before post_init opened it or after shutdown closed it."""
        if self.coopwatch is None:
            raise RuntimeError("coopwatch is not open (before post_init or after shutdown)")
        return self.coopwatch


class Context(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler and job gets."""

    @property
    def coopwatch(self) -> Coopwatch:
        return self.bot_data.opened()


CONTEXT_TYPES = ContextTypes(context=Context, bot_data=BotData)

# The bot's own type parameter is the rate limiter's (bot/web/metrics.py); the JobQueue's is
# PTB's default: neither is read through this alias.
BotApplication = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, Any]
