"""`coopwatch doctor`: check configuration, database, Bot API and feeds, in plain words.

Each check gives one `Finding`; the report prints one line per finding and the exit status is
1 when any of them failed. Nothing here changes the instance: the database is only read (a
missing SQLite file is reported, not created) and feeds are fetched but not stored.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from bot.i18n import plural_form
from bot.logs import redact
from coopwatch.app import default_feeds
from coopwatch.settings import Settings
from storage import Database, StorageError

# python-telegram-bot, the HTTP client and feedparser are imported by the checks that use
# them: `doctor --quick` (the container's health check, every minute) checks configuration
# and database only (issue 14).
if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from news.fetch import FeedFetcher, FetchResult
    from storage.feeds import FeedInfo

Status = Literal["ok", "warn", "fail", "skip"]

# ✓/✗ where the terminal can show them; "ok"/"FAIL" where it cannot (a C locale, a log file).
MARKS: dict[Status, tuple[str, str]] = {
    "ok": ("✓", "ok"),
    "warn": ("!", "WARN"),
    "fail": ("✗", "FAIL"),
    "skip": ("–", "skip"),
}

# What an operator can do about each kind of fetch failure (news.fetch.ErrorKind).
FEED_ADVICE = {
    "dns": "check the address; the site may have changed its domain",
    "connect": "the site refuses connections or is down; try again later",
    "timeout": "the site is too slow; try again later, remove the feed if it lasts",
    "tls": "the site's HTTPS certificate is broken; tell the site or use another feed",
    "http_status": "the site answers with an error; find the feed's new address if it moved",
    "too_large": "the feed is too large to read; use a smaller feed of the same site",
    "unsafe_url": "the address is refused for safety",
    "redirect_loop": "the site redirects in a circle; find the feed's real address",
    "too_many_redirects": "the site redirects too often; use the final address instead",
}


# Fetch errors where no site answered at all: every feed failing this way means no network.
NO_NETWORK = frozenset({"dns", "connect", "timeout"})


@dataclass(frozen=True, slots=True)
class Finding:
    """The outcome of one check: what was checked, how it went, what to do, in plain words."""

    check: str
    status: Status
    detail: str
    cause: str | None = None  # a failed fetch's error kind ("dns", "timeout", ...)

    @property
    def failed(self) -> bool:
        return self.status == "fail"


@dataclass(frozen=True, slots=True)
class DoctorLimits:
    """Time bounds, so a dead server makes the doctor slow by seconds, never hang it."""

    database: float = 10.0
    bot_api: float = 10.0
    feed: float = 30.0


@dataclass(frozen=True, slots=True)
class FeedTarget:
    """A feed to check: how the report names it, and its URL."""

    label: str
    url: str


def check_configuration(settings: Settings, *, workdir: Path | None = None) -> list[Finding]:
    """The settings loaded (else main() stops earlier); token and admins said plainly."""
    where = workdir or Path.cwd()
    env_file = where / ".env"
    source = f".env in {where}" if env_file.is_file() else f"the environment (no .env in {where})"
    findings = [Finding("configuration", "ok", f"settings loaded from {source}")]
    if settings.console_mode:
        findings.append(
            Finding(
                "token",
                "ok",
                "TELEGRAM_BOT_TOKEN is not set: `coopwatch run` starts console mode (the chat in "
                "this terminal); set it to the token from @BotFather to run a real bot",
            )
        )
    else:
        findings.append(Finding("token", "ok", "TELEGRAM_BOT_TOKEN is set"))
    if settings.admin_ids:
        ids = ", ".join(str(i) for i in sorted(settings.admin_ids))
        findings.append(Finding("admins", "ok", f"admin commands allowed for {ids}"))
    elif settings.console_mode:
        # bot/cli.py run_console: the person at the terminal runs the instance.
        findings.append(
            Finding(
                "admins",
                "ok",
                "console mode: you, at the terminal, are an admin (/addfeed, /feeds, /pollnow); "
                "before connecting a real bot set ADMIN_IDS to your Telegram user id",
            )
        )
    else:
        findings.append(
            Finding(
                "admins",
                "warn",
                "ADMIN_IDS is empty: nobody can use /addfeed, /removefeed, /feeds or /pollnow; "
                "set it to your Telegram user id",
            )
        )
    return findings


def _with_connect_timeout(url: str, seconds: float) -> str:
    # libpq waits for the OS TCP timeout (minutes) on a silent host; bound it.
    if not url.startswith("postgresql") or "connect_timeout=" in url:
        return url
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}connect_timeout={max(1, round(seconds))}"


def _sqlite_path(db: Database) -> Path | None:
    name = db.engine.url.database
    if db.backend != "sqlite" or not name or name == ":memory:":
        return None
    return Path(name).resolve()


def check_database(
    settings: Settings, *, time_limit: float = 10.0
) -> tuple[Finding, Database | None]:
    """Connect and compare the schema revision with the code's; the Database when usable."""
    db = Database(_with_connect_timeout(settings.database_url, time_limit))
    path = _sqlite_path(db)
    if path is not None and not path.exists():
        db.close()
        return _missing_sqlite(path), None
    try:
        db.ping()
    except StorageError as exc:
        db.close()
        return (
            Finding(
                "database",
                "fail",
                f"cannot connect ({_first_line(exc)}); check DATABASE_URL and that the "
                "database server is running and reachable",
            ),
            None,
        )
    return _revision_finding(db), db


def _missing_sqlite(path: Path) -> Finding:
    folder = path.parent
    if not folder.is_dir():
        return Finding(
            "database",
            "fail",
            f"the folder {folder} of the SQLite file does not exist; create it or fix DATABASE_URL",
        )
    if not os.access(folder, os.W_OK):
        return Finding(
            "database",
            "fail",
            f"cannot create {path}: the folder {folder} is not writable by this user",
        )
    return Finding(
        "database",
        "warn",
        f"no database yet at {path}; `coopwatch run` or `coopwatch db upgrade` creates it",
    )


def _revision_finding(db: Database) -> Finding:
    where = f"{db.backend} at {_describe(db)}"
    current, head = db.current_revision(), db.head_revision()
    if current is None:
        return Finding(
            "database",
            "warn",
            f"{where} reachable but empty; `coopwatch db upgrade` (or the next start) creates "
            "the tables",
        )
    if current != head:
        return Finding(
            "database",
            "fail",
            f"{where} is at schema revision {current}, this coopwatch expects {head}: run "
            "`coopwatch db upgrade` (a revision this code does not know means the database "
            "was migrated by a newer coopwatch)",
        )
    return Finding("database", "ok", f"{where}, schema up to date (revision {current})")


def _describe(db: Database) -> str:
    path = _sqlite_path(db)
    if path is not None:
        return str(path)
    url = db.engine.url
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


async def check_bot_api(
    settings: Settings, *, time_limit: float = 10.0, request: BaseRequest | None = None
) -> Finding:
    """getMe through python-telegram-bot with the configured base URL, within `time_limit`."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
    from telegram.request import HTTPXRequest

    token = settings.telegram_bot_token
    if token is None:
        return Finding("Bot API", "skip", "not checked in console mode (no token)")
    where = settings.telegram_base_url
    request = request or HTTPXRequest(
        connect_timeout=time_limit,
        read_timeout=time_limit,
        write_timeout=time_limit,
        pool_timeout=time_limit,
    )
    bot = Bot(token, base_url=where, request=request, get_updates_request=request)
    await request.initialize()
    try:
        # Not Bot.initialize(): its InvalidToken message repeats the token.
        async with asyncio.timeout(time_limit):
            me = await bot.get_me()
    except InvalidToken:
        return Finding(
            "Bot API",
            "fail",
            f"{where} refused TELEGRAM_BOT_TOKEN (unauthorized); copy the token again from "
            "@BotFather (/token)",
        )
    except (TimedOut, TimeoutError):
        return Finding(
            "Bot API",
            "fail",
            f"no answer from {where} within {time_limit:g} s; check the network, a firewall or "
            "TELEGRAM_BASE_URL",
        )
    except NetworkError as exc:
        return Finding(
            "Bot API",
            "fail",
            f"cannot reach {where} ({_redact(exc, token)}); check TELEGRAM_BASE_URL and the "
            "network",
        )
    except TelegramError as exc:
        return Finding("Bot API", "fail", f"{where} answered with an error: {_redact(exc, token)}")
    finally:
        await request.shutdown()
    return Finding("Bot API", "ok", f"reachable at {where}; the token belongs to @{me.username}")


async def check_feed(fetcher: FeedFetcher, feed: FeedTarget, *, time_limit: float) -> Finding:
    """Fetch and parse one feed, as /addfeed does; nothing is stored."""
    from news.reading import read_feed

    try:
        async with asyncio.timeout(time_limit):
            read = await read_feed(fetcher, feed.url)
    except TimeoutError:
        return Finding(
            feed.label,
            "fail",
            f"{feed.url}: no complete answer within {time_limit:g} s",
            cause="timeout",
        )
    result = read.result
    if result.outcome != "ok":
        problem = _fetch_problem(feed.url, result)
        return Finding(feed.label, "fail", problem, cause=result.error_kind)
    if read.parsed is None:
        return Finding(
            feed.label,
            "fail",
            f"{feed.url}: not a usable feed ({read.parse_error}); find the site's RSS or Atom "
            "address",
        )
    moved = f"; it moved to {result.moved_to}" if result.moved_to else ""
    return Finding(feed.label, "ok", f"{feed.url}: {len(read.parsed.items)} items{moved}")


def _fetch_problem(url: str, result: FetchResult) -> str:
    reason = result.message or result.error_kind or "no answer"
    advice = FEED_ADVICE.get(result.error_kind or "", "try again later")
    return f"{url}: {reason}; {advice}"


async def check_feeds(
    feeds: Sequence[FeedTarget], *, allow_private: bool, time_limit: float = 30.0
) -> list[Finding]:
    """Every feed at once (the fetcher's own per-host and global limits apply), in order."""
    if not feeds:
        return []
    from news.fetch import FeedFetcher

    async with FeedFetcher(allow_private=allow_private, total_timeout=time_limit) as fetcher:
        findings = list(
            await asyncio.gather(*(check_feed(fetcher, f, time_limit=time_limit) for f in feeds))
        )
    if len(findings) >= 2 and all(f.cause in NO_NETWORK for f in findings):
        # Not one site answered at all: the network is down, and blaming each feed ("the
        # site may have changed its domain") would send the user after the wrong thing.
        example = findings[0].detail.split("; ")[0]
        note = (
            f"no network: none of the {len(findings)} feeds could be reached (e.g. {example}); "
            "check this machine's internet access, DNS and firewall, then run the doctor again"
        )
        return [Finding("network", "fail", note)]
    if len(findings) >= 3 and all(f.failed for f in findings):
        # Sites fail one at a time; all of them at once points at this machine's network.
        note = (
            f"none of the {len(findings)} feeds could be read: check this machine's internet "
            "access, DNS and firewall first"
        )
        findings.insert(0, Finding("network", "fail", note))
    return findings


def feeds_to_check(
    stored: Sequence[FeedInfo], settings: Settings
) -> tuple[list[FeedTarget], list[Finding]]:
    """The feeds the bot will poll (enabled ones, or the defaults it seeds an empty database
    with), and notes about the rest."""
    if not stored and settings.default_feeds:
        defaults = [FeedTarget(f"default feed {title}", url) for url, title, _ in default_feeds()]
        note = f"no feeds stored yet; checking the {len(defaults)} default feeds added at start"
        return defaults, [Finding("feeds", "ok", note)]
    if not stored:
        return [], [
            Finding("feeds", "warn", "no feeds: add one with /addfeed or `coopwatch feeds add`")
        ]
    enabled = [FeedTarget(f"feed {f.id} {f.title}", f.url) for f in stored if f.enabled]
    disabled = len(stored) - len(enabled)
    if not disabled:
        return enabled, []
    note = f"{_count(disabled, 'disabled feed')} not checked; `coopwatch feeds list` says why"
    return enabled, [Finding("feeds", "warn", note)]


async def diagnose(
    settings: Settings, limits: DoctorLimits, *, quick: bool = False
) -> list[Finding]:
    """Every check, in report order; the Bot API and the feeds are skipped when `quick`."""
    findings = check_configuration(settings)
    db_finding, db = await asyncio.to_thread(check_database, settings, time_limit=limits.database)
    findings.append(db_finding)
    try:
        if quick:
            return findings
        from storage import feeds as feed_store

        stored: list[FeedInfo] | None = None
        if db is not None:
            stored = await db.run(feed_store.list_feeds)
        elif not db_finding.failed:
            stored = []  # no database yet: the bot starts from an empty one
        # The Bot API and the feeds are independent: wait for the slowest, not for the sum.
        bot_api, feed_findings = await asyncio.gather(
            check_bot_api(settings, time_limit=limits.bot_api),
            _check_feeds_of(stored, settings, limits.feed),
        )
        return [*findings, bot_api, *feed_findings]
    finally:
        if db is not None:
            db.close()


async def _check_feeds_of(
    stored: list[FeedInfo] | None, settings: Settings, time_limit: float
) -> list[Finding]:
    if stored is None:
        return [Finding("feeds", "skip", "not checked: the database is not usable")]
    feeds, notes = feeds_to_check(stored, settings)
    checked = await check_feeds(
        feeds, allow_private=settings.allow_private_feeds, time_limit=time_limit
    )
    return notes + checked


def write_report(findings: Sequence[Finding], out: TextIO, *, secrets: Sequence[str] = ()) -> None:
    """One line per finding, then a summary line; `secrets` never printed."""
    fancy = _can_print(out, "✓✗–")
    for finding in findings:
        mark = MARKS[finding.status][0 if fancy else 1]
        # A driver's or a server's error text may quote what it was given.
        out.write(redact(f"{mark} {finding.check}: {finding.detail}", secrets) + "\n")
    failed = sum(f.failed for f in findings)
    if failed:
        mark = "✗" if fancy else "FAIL"
        out.write(f"{_count(failed, 'problem')} found; fix the lines marked {mark}\n")
    else:
        out.write("everything needed to run looks fine\n")


def _can_print(out: TextIO, text: str) -> bool:
    try:
        text.encode(out.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def run_doctor(
    settings: Settings, out: TextIO, *, quick: bool = False, limits: DoctorLimits | None = None
) -> int:
    """Run every check, print the report; 0 when nothing failed, else 1."""
    findings = asyncio.run(diagnose(settings, limits or DoctorLimits(), quick=quick))
    write_report(findings, out, secrets=settings.secrets())
    return 1 if any(f.failed for f in findings) else 0


def _redact(exc: BaseException, secret: str) -> str:
    return _first_line(exc).replace(secret, "<token>")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _count(n: int, noun: str) -> str:
    """ "1 problem", "2 problems": the report is English, with the bot's plural rule."""
    return f"{n} {noun}" if plural_form("en", n) == "one" else f"{n} {noun}s"
