"""The `coopwatch` command line."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable, Sequence

from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import ALLOWED_UPDATES, build_application
from bot.console import BANNER, CONSOLE_TOKEN, CONSOLE_USER_ID, ConsoleRequest
from bot.logs import configure_logging
from bot.settings import ConfigError, Settings, load_settings
from storage import Database, StorageError

Command = Callable[[Settings, argparse.Namespace], int]


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling, the feed scheduler and delivery, until SIGINT/SIGTERM."""
    if settings.console_mode:
        return run_console(settings)
    app = build_application(settings)
    app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=(signal.SIGINT, signal.SIGTERM))
    return 0


def run_console(settings: Settings) -> int:
    """The same Application with the chat in this terminal."""
    print(BANNER, flush=True)
    request = ConsoleRequest()
    # The person at the terminal runs this instance, so they may use the admin commands.
    app = build_application(
        settings,
        request=request,
        token=CONSOLE_TOKEN,
        admin_ids=settings.admin_ids | {CONSOLE_USER_ID},
    )
    request.on_eof = app.stop_running
    app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=(signal.SIGINT, signal.SIGTERM))
    print("bye", flush=True)
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply database migrations."""
    db = Database(settings.database_url)
    try:
        db.upgrade()
        print(f"database at revision {db.current_revision()}")
    finally:
        db.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coopwatch",
        description="Alerts on bilateral cooperation events of Central Asian states.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot (console mode without TELEGRAM_BOT_TOKEN)")
    run.set_defaults(func=cmd_run)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"coopwatch: configuration error: {exc}", file=sys.stderr)
        return 2
    secrets = [settings.telegram_bot_token or ""]
    configure_logging(settings.log_level_number, secrets=secrets)
    func: Command = args.func
    try:
        return func(settings, args)
    except StorageError as exc:
        print(f"coopwatch: database error: {exc}", file=sys.stderr)
        return 1
    except InvalidToken:
        print(
            "coopwatch: Telegram refused TELEGRAM_BOT_TOKEN; check the token from @BotFather.",
            file=sys.stderr,
        )
        return 1
    except NetworkError as exc:
        print(
            f"coopwatch: cannot reach the Bot API ({exc}); check TELEGRAM_BASE_URL "
            "and the network.",
            file=sys.stderr,
        )
        return 1
    except TelegramError as exc:
        print(f"coopwatch: Telegram error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
