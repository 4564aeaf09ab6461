"""The `coopwatch` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.logs import configure_logging, redact

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.console import ConsoleRequest
    from bot.context import BotApplication
    from coopwatch.app import Coopwatch
    from coopwatch.settings import Settings

# Start-up: every command imports only what it uses, inside its function. The bot's own
# modules pull in python-telegram-bot, SQLAlchemy, Alembic, the morphology dictionaries and
# matplotlib; `--help`, `feeds list`, `db upgrade` or `export` need few of them (issue 14).

Command = Callable[["Settings", argparse.Namespace], int]


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# bot.export.FORMATS, spelled out so that `--help` need not import the exporter (a test
# keeps the two equal).
EXPORT_FORMATS = ("jsonl", "csv", "atom")


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Long polling (or webhooks), the feed scheduler and delivery, until SIGINT/SIGTERM."""
    from bot.app import ALLOWED_UPDATES, build_application
    from coopwatch.settings import ConfigError
    from storage.lease import lock_sqlite_file

    if args.webhook:
        settings = settings.model_copy(update={"webhook_url": args.webhook})
        try:
            settings.web_port_in_effect  # noqa: B018 - the old port names in webhook mode
        except ConfigError as exc:
            print(f"coopwatch: configuration error: {exc}", file=sys.stderr)
            return 2
    if settings.console_mode and settings.webhook_url:
        print("coopwatch: webhook mode needs TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return 2
    # SQLite is one instance: a second one on the same file stops here, with a message.
    instance_lock = lock_sqlite_file(settings.database_url)
    try:
        if settings.console_mode:
            return run_console(settings)
        app = build_application(settings)
        if settings.webhook_url:
            code = run_webhook(app, settings)
        else:
            app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=STOP_SIGNALS)
            code = 0
        return code or _deposed_exit(app)
    finally:
        if instance_lock is not None:
            instance_lock.release()


def _deposed_exit(app: BotApplication) -> int:
    """Exit status 3 when the run ended because this instance lost its lease.

    A fresh process starts as a waiting instance with nothing held over from its term (the
    grouper's memory, polls in flight), so the supervisor's restart is the way back.
    """
    from coopwatch.leadership import DEPOSED

    leadership = app.bot_data.leadership
    if leadership is None or leadership.role != DEPOSED:
        return 0
    print(
        f"coopwatch: lost leadership ({leadership.deposed_reason}); exiting so that the "
        "supervisor starts this instance again as a waiting one",
        file=sys.stderr,
    )
    return 3


def run_webhook(app: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> int:
    """Serve Telegram's webhook calls on the web server until SIGINT/SIGTERM."""
    from bot.app import ALLOWED_UPDATES
    from bot.web.server import serve_webhook

    async def main() -> None:
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stopped.set)
        await serve_webhook(app, settings, stopped, allowed_updates=ALLOWED_UPDATES)

    asyncio.run(main())
    return 0


def _webhook_url_argument(value: str) -> str:
    from coopwatch.settings import EXPECTED, check_webhook_url

    try:
        return check_webhook_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; expected {EXPECTED['WEBHOOK_URL']}") from exc


def run_console(settings: Settings) -> int:
    """The same Application with the chat in this terminal."""
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.console import (
        BANNER,
        CONSOLE_LOG,
        CONSOLE_TOKEN,
        CONSOLE_USER_ID,
        ConsoleRequest,
        first_poll_summary,
    )

    # The terminal is the chat: log lines (a failing feed, say) would break up the
    # conversation, so they go to a file in the working directory instead.
    log_file = Path(CONSOLE_LOG).resolve()
    with contextlib.suppress(OSError):
        configure_logging(
            settings.log_level_number,
            secrets=settings.secrets(),  # the database password still has no place in it
            stream=log_file.open("a", encoding="utf-8"),
        )
    print(BANNER + f"Log: {log_file}\n", flush=True)
    request = ConsoleRequest()
    # The person at the terminal runs this instance, so they may use the admin commands.
    app = build_application(
        settings,
        request=request,
        token=CONSOLE_TOKEN,
        admin_ids=settings.admin_ids | {CONSOLE_USER_ID},
        console=True,
    )

    stopping: list[asyncio.Task[None]] = []  # a reference, so the task is not collected

    def at_end_of_input() -> None:
        # Not app.create_task: the input may end before the application has started.
        stopping.append(asyncio.get_running_loop().create_task(_answer_then_stop(app, request)))

    request.on_eof = at_end_of_input
    app.bot_data.first_poll_hook = lambda reports: request.notice(
        first_poll_summary(reports, log_file)
    )
    app.run_polling(allowed_updates=ALLOWED_UPDATES, stop_signals=STOP_SIGNALS)
    print("bye", flush=True)
    return 0


async def _answer_then_stop(
    app: Application[Any, Any, Any, Any, Any, Any], request: ConsoleRequest
) -> None:
    """At the end of piped input: answer every line read, then stop."""
    from bot.app import until_started

    await request.drained()
    # stop_running() stops the loop's run_forever(); called while Application.start() is
    # still being awaited (run_until_complete) it would abort the start or be lost.
    await until_started(app)
    await app.update_queue.join()
    # Handlers that run non-blocking (slow admin commands) are tasks PTB names this way.
    prefix = f"Application:{app.bot.id}:process_"
    pending = [task for task in asyncio.all_tasks() if task.get_name().startswith(prefix)]
    await asyncio.gather(*pending, return_exceptions=True)
    app.stop_running()


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    """Apply database migrations (opening the application applies them)."""

    async def work(app: Coopwatch) -> int:
        print(f"database at revision {app.db.current_revision()}")
        return 0

    return _with_coopwatch(settings, work)


def _open_input(path: str | None) -> TextIO:
    if path in (None, "-"):
        return sys.stdin
    return open(path, encoding="utf-8", errors="replace")


def _stream(path: str | None, process: Callable[[Iterable[str], TextIO], int]) -> int:
    source = _open_input(path)
    try:
        process(source, sys.stdout)
    finally:
        if source is not sys.stdin:
            source.close()
    return 0


def cmd_classify(settings: Settings, args: argparse.Namespace) -> int:
    """JSON Lines in, one verdict per line out (the format in the README's command table)."""
    from news.classify import classify_stream

    return _stream(args.path, classify_stream)


def cmd_group(settings: Settings, args: argparse.Namespace) -> int:
    """JSON Lines in, one event key per line out (the format in the README's command table)."""
    from news.group_stream import group_stream

    return _stream(args.path, group_stream)


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Precision, recall, F1 … of the classifier on a labelled file."""
    from news.evaluate import EvaluationError, evaluate_file

    paths = [Path(p) for p in args.path]
    grouping = Path(args.grouping) if args.grouping else None
    for path in [*paths, *([grouping] if grouping else [])]:
        if not path.is_file():
            print(f"coopwatch: no such file: {path}", file=sys.stderr)
            return 2
    try:
        evaluate_file(paths, sys.stdout, grouping=grouping)
    except EvaluationError as exc:
        print(f"coopwatch: {exc}", file=sys.stderr)
        return 2
    return 0


def _with_coopwatch(
    settings: Settings, work: Callable[[Coopwatch], Awaitable[int]], *, seed: bool = False
) -> int:
    """Open the application (the one composition root, coopwatch.app), run `work`, close it.

    ``seed``: the commands that poll add the default feeds to an empty database first, as
    `coopwatch run` does.
    """
    from coopwatch.app import open_coopwatch

    async def main() -> int:
        app = await open_coopwatch(settings)
        try:
            if seed:
                await app.seed_default_feeds()
            return await work(app)
        finally:
            await app.aclose()

    return asyncio.run(main())


def cmd_feeds(settings: Settings, args: argparse.Namespace) -> int:
    """coopwatch feeds list | add URL [--title T] | remove ID | import OPML | export."""

    async def work(app: Coopwatch) -> int:
        from coopwatch.app import CLI

        action = args.feeds_command
        if action == "list":
            for feed in await app.list_feeds():
                error = f"  last error: {feed.last_error}" if feed.last_error else ""
                print(
                    f"{feed.id}\t{feed.status}\t{feed.item_count} items\t"
                    f"{feed.title}\t{feed.url}{error}"
                )
            return 0
        if action == "add":
            return await _add(app, args.url, args.title)
        if action == "remove":
            removed = await app.remove_feed(args.id, actor=CLI)
            if removed is None:
                print(f"coopwatch: no feed with id {args.id}", file=sys.stderr)
                return 1
            print(f"removed feed {args.id}: {removed.title}")
            return 0
        if action == "import":
            return await _import(app, args.path)
        sys.stdout.buffer.write(await app.export_opml())
        return 0

    return _with_coopwatch(settings, work)


# The items of a feed added from the command line wait unclassified; the running bot's
# backlog job classifies and groups them (one grouping state, the bot's, so no second event
# for the same report).


async def _add(app: Coopwatch, url: str, title: str | None) -> int:
    """Fetch, check and add one feed; 1 when it could not be added."""
    from coopwatch.app import CLI, FeedRefused

    try:
        added = await app.add_feed(url, title=title, actor=CLI, classify=False)
    except FeedRefused as exc:
        print(f"coopwatch: cannot add {url}: {exc}", file=sys.stderr)
        return 1
    print(f"added feed {added.feed.id}: {added.feed.title} ({added.item_count} items)")
    return 0


async def _import(app: Coopwatch, path: str) -> int:
    from coopwatch.app import CLI
    from news.errors import OpmlError

    try:
        data = await asyncio.to_thread(Path(path).read_bytes)
        results = await app.import_opml(data, actor=CLI, classify=False)
    except (OSError, OpmlError) as exc:
        print(f"coopwatch: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    for result in results:
        if result.added is not None:
            feed = result.added.feed
            print(f"added feed {feed.id}: {feed.title} ({result.added.item_count} items)")
        else:
            print(f"coopwatch: cannot add {result.url}: {result.refused}", file=sys.stderr)
    failures = sum(result.added is None for result in results)
    print(f"imported {len(results) - failures} of {len(results)} feeds")
    return 1 if failures and failures == len(results) else 0


def cmd_scan(settings: Settings, args: argparse.Namespace) -> int:
    """One dry pass over every enabled feed, printing the events found; nothing is sent."""

    async def work(app: Coopwatch) -> int:
        return await app.scan(sys.stdout)

    return _with_coopwatch(settings, work, seed=True)


def cmd_poll(settings: Settings, args: argparse.Namespace) -> int:
    """One real poll cycle (due feeds, or every enabled feed); alerts go to the outbox."""

    async def work(app: Coopwatch) -> int:
        summary = await app.poll_cycle(every_feed=args.all)
        print(summary.line(), flush=True)
        return 1 if summary.all_failed else 0

    return _with_coopwatch(settings, work, seed=True)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """The stored events, newest first, as JSON Lines, CSV or Atom on standard output."""
    from bot.export import render_export

    country = None
    if args.country:
        from bot.render import country_name
        from news.countries import look_up_country

        found = look_up_country(args.country)
        country = found.code
        if country is None:
            near = found.suggestion
            hint = (
                f"; did you mean {country_name(near, 'en')} ({near})?"
                if near
                else "; use a name or an ISO code, e.g. TJ"
            )
            print(f"coopwatch: unknown country {args.country!r}{hint}", file=sys.stderr)
            return 2

    async def work(app: Coopwatch) -> int:
        entries = await app.events(country=country, since=args.since)
        title = "coopwatch events" + (f" — {country}" if country else "")
        sys.stdout.buffer.write(render_export(entries, args.format, title=title, country=country))
        sys.stdout.flush()
        return 0

    return _with_coopwatch(settings, work)


def _day_argument(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {value!r}") from exc


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Check configuration, database, Bot API and every feed; exit 1 when something failed."""
    from bot.doctor import run_doctor

    return run_doctor(settings, sys.stdout, quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coopwatch",
        description="Alerts on bilateral cooperation events of Central Asian states.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="run the bot (console mode without TELEGRAM_BOT_TOKEN)")
    run.add_argument(
        "--webhook",
        metavar="URL",
        type=_webhook_url_argument,
        default=None,
        help="receive updates by webhook at this public https URL (default: WEBHOOK_URL, "
        "else long polling)",
    )
    run.set_defaults(func=cmd_run)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    for name, func, text in (
        ("classify", cmd_classify, "classify JSON Lines items (stdin or PATH)"),
        ("group", cmd_group, "group JSON Lines items into events (stdin or PATH)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("path", nargs="?", default="-", metavar="PATH|-")
        command.set_defaults(func=func)
    evaluate = sub.add_parser("eval", help="measure the classifier on labelled JSON Lines files")
    evaluate.add_argument("path", nargs="+", metavar="PATH")
    evaluate.add_argument(
        "--grouping", metavar="CLUSTERS", default=None, help="also score `group` on CLUSTERS"
    )
    evaluate.set_defaults(func=cmd_eval)

    feeds = sub.add_parser("feeds", help="list, add, remove, import or export feeds")
    feeds.set_defaults(func=cmd_feeds)
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    feeds_sub.add_parser("list", help="every feed with its health")
    add = feeds_sub.add_parser("add", help="fetch, check and add a feed")
    add.add_argument("url", metavar="URL")
    add.add_argument("--title", default=None)
    remove = feeds_sub.add_parser("remove", help="remove a feed and its items")
    remove.add_argument("id", type=int, metavar="ID")
    imp = feeds_sub.add_parser("import", help="add the feeds of an OPML file")
    imp.add_argument("path", metavar="OPML")
    feeds_sub.add_parser("export", help="print every feed as OPML 2.0")

    sub.add_parser("scan", help="poll every feed once and print the events").set_defaults(
        func=cmd_scan
    )
    poll = sub.add_parser(
        "poll", help="one poll cycle of the due feeds, alerts queued for the running bot"
    )
    poll.add_argument("--all", action="store_true", help="poll every enabled feed, due or not")
    poll.set_defaults(func=cmd_poll)
    export = sub.add_parser("export", help="print the stored events, newest first")
    export.add_argument("--format", choices=EXPORT_FORMATS, default="jsonl")
    export.add_argument("--country", default=None, help="only events involving this country")
    export.add_argument(
        "--since",
        type=_day_argument,
        default=None,
        metavar="YYYY-MM-DD",
        help="only events dated on or after this day",
    )
    export.set_defaults(func=cmd_export)
    doctor = sub.add_parser("doctor", help="check configuration, database, Bot API and feeds")
    doctor.add_argument(
        "--quick", action="store_true", help="configuration and database only (no network)"
    )
    doctor.set_defaults(func=cmd_doctor)
    return parser


def _explain(exc: Exception) -> str | None:
    """The one-line message for an error the user can act on, or None (let it surface).

    Looked up by module so that a command which never imported telegram, starlette or
    SQLAlchemy does not import them just to name their exceptions.
    """
    storage_db = sys.modules.get("storage.db")
    if storage_db is not None and isinstance(exc, storage_db.StorageError):
        # Storage errors say what they are about ("database error: disk I/O error", "the
        # database is full …", "another coopwatch instance … is running on …").
        return str(exc)
    web = sys.modules.get("bot.web.server")
    if web is not None and isinstance(exc, web.WebError):
        return str(exc)
    errors = sys.modules.get("telegram.error")
    if errors is None:
        return None
    if isinstance(exc, errors.InvalidToken):
        return "Telegram refused TELEGRAM_BOT_TOKEN; check the token from @BotFather."
    if isinstance(exc, errors.NetworkError):
        return f"cannot reach the Bot API ({exc}); check TELEGRAM_BASE_URL and the network."
    if isinstance(exc, errors.TelegramError):
        return f"Telegram error: {exc}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from coopwatch.settings import ConfigError, load_settings, unknown_env_keys

    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"coopwatch: configuration error: {exc}", file=sys.stderr)
        return 2
    for warning in unknown_env_keys():
        print(f"coopwatch: warning: {warning}", file=sys.stderr)
    configure_logging(settings.log_level_number, secrets=settings.secrets())
    for warning in settings.deprecations():
        logging.getLogger("coopwatch.settings").warning("%s", warning)
    func: Command = args.func
    try:
        return func(settings, args)
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        message = _explain(exc)
        if message is None:
            raise
        _error(settings, message)
        return 1


def _error(settings: Settings, message: str) -> None:
    """One line on stderr; an error's own words may quote a URL with the token or password."""
    print(f"coopwatch: {redact(message, settings.secrets())}", file=sys.stderr)
