"""Fault benchmark: a real `coopwatch run` against a dozen hostile feeds at once (issue 10).

Usage: python bench/hostile.py [--seconds 90] [--poll-interval 60]

The bot runs as its own process (`python -m bot run`, as deployed) against the fake Bot API
(tests/fakebot) and a local feed server (tests/feedserver.py), both in this process. Twelve
hostile feeds — billion laughs, quadratic entity expansion in UTF-8 and in UTF-16 announced
only by the HTTP charset, 8 MiB of nested elements, 9 MiB of unclosed items, 85,000 items, an
endless body, a 30 s stall, an HTML page, random bytes, a redirect loop, a 500 — are polled
together with one healthy feed whose newest item is a new bilateral event.

Prints: seconds from the bot's start until the healthy event's alert reached a subscriber
(goal < 60 s), peak RSS of the bot's whole process tree (goal < 400 MB), the database size
(goal < 100 MB), whether and how fast /feeds answers while the hostile feeds are being parsed,
each feed's outcome, and how the bot stops on SIGTERM (exit status, seconds, processes left).
"""

from __future__ import annotations

import argparse
import email.utils
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import Database  # noqa: E402
from storage import feeds as feed_store  # noqa: E402
from tests import hostile  # noqa: E402
from tests.fakebot.server import FakeTelegram  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402
from tests.seed import add_chat  # noqa: E402

MiB = 1024 * 1024
SUBSCRIBER = 3003
ADMIN = 1001


def healthy_feed(now: datetime) -> bytes:
    """An ordinary outlet's feed whose newest item is a new bilateral event."""
    items = [
        (
            "Kazakh and Uzbek presidents hold talks in Tashkent",
            "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of "
            "Uzbekistan Shavkat Mirziyoyev in Tashkent. The sides signed agreements on trade, "
            "water and energy; trade could reach $10 billion.",
            now - timedelta(minutes=5),
        ),
        ("Snow expected in Almaty", "Forecasters expect heavy snow in Almaty tonight.", now),
    ]
    entries = "".join(
        f"<item><title>{escape(head)}</title><link>https://wire.example/{n}</link>"
        f"<guid>wire-{n}</guid><pubDate>{email.utils.format_datetime(when)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
        for n, (head, body, when) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Steppe Wire</title><link>https://wire.example</link>{entries}</channel></rss>"
    ).encode()


def serve_feeds(server: FeedServer, now: datetime) -> dict[str, str]:
    """The twelve hostile feeds and the healthy one; name -> URL."""
    xml = "application/xml"
    return {
        "billion laughs": server.add("/h/laughs", hostile.BILLION_LAUGHS, content_type=xml),
        "quadratic utf-8": server.add("/h/quadratic-utf8", hostile.quadratic("utf-8")),
        "quadratic utf-16 (header only)": server.add(
            "/h/quadratic-utf16",
            hostile.quadratic("utf-16-le", value_chars=100_000, references=1_000),
            content_type="application/rss+xml; charset=utf-16le",
        ),
        "nested 8 MiB": server.add("/h/nested", hostile.nested(8 * MiB)),
        "unclosed 9 MiB": server.add("/h/unclosed", hostile.unclosed(9 * MiB)),
        "85,000 items": server.add("/h/many", hostile.many_items(85_000)),
        "endless body": server.url("/fault/endless"),
        "30 s stall": server.add("/h/stall", hostile.many_items(3), delay=30.0, validators=False),
        "HTML": server.add("/h/html", hostile.HTML, content_type="text/html"),
        "random bytes": server.add("/h/random", hostile.random_bytes(MiB)),
        "redirect loop": server.url("/redirect/loop-a"),
        "500": server.url("/fault/500"),
        # Another site: the fetcher's per-host limit (2) must not queue it behind the others.
        "healthy": server.add("/h/healthy", healthy_feed(now)).replace("127.0.0.1", "localhost"),
    }


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class TreeSampler(threading.Thread):
    """Samples the summed RSS of the bot's process tree every 0.1 s; keeps the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.peak_processes = 0
        self.peak_main = 0
        self.seen: set[int] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            tree = process_tree(self.root)
            self.seen.update(tree)
            sizes = {pid: rss_bytes(pid) for pid in tree}
            total = sum(sizes.values())
            self.peak_main = max(self.peak_main, sizes.get(self.root, 0))
            if total > self.peak:
                self.peak, self.peak_processes = total, len(tree)


def database_size(path: Path) -> int:
    return sum(
        p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def ask_feeds(fake: FakeTelegram, timeout: float = 30.0) -> float | None:
    """Send /feeds as the admin; seconds until the answer came, None if it never did."""
    before = len(fake.messages(ADMIN))
    started = time.monotonic()
    fake.send_user_message(ADMIN, "/feeds")
    while time.monotonic() - started < timeout:
        if len(fake.messages(ADMIN)) > before:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the bot runs")
    parser.add_argument("--poll-interval", type=int, default=60, help="POLL_INTERVAL")
    parser.add_argument(
        "--healthy-only", action="store_true", help="the healthy feed alone: the baseline"
    )
    args = parser.parse_args()

    now = datetime.now(UTC)
    fake = FakeTelegram().start()
    server = FeedServer().start()
    with tempfile.TemporaryDirectory(prefix="coopwatch-hostile-") as tmp:
        work = Path(tmp)
        db_path = work / "coopwatch.db"
        db = Database(f"sqlite:///{db_path}")
        db.upgrade()
        feeds = serve_feeds(server, now)
        if args.healthy_only:
            feeds = {"healthy": feeds["healthy"]}
        ids = {
            db.call(feed_store.add_feed, url=url, title=name).id: name
            for name, url in feeds.items()
        }
        fake.add_chat(SUBSCRIBER, "private")
        add_chat(db, SUBSCRIBER)
        db.close()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite:///{db_path}",
            "ADMIN_IDS": str(ADMIN),
            "ALLOW_PRIVATE_FEEDS": "true",  # the feed server is on 127.0.0.1
            "DEFAULT_FEEDS": "false",
            "POLL_INTERVAL": str(args.poll_interval),
            "LOG_LEVEL": "WARNING",
        }
        log_path = work / "bot.log"
        with log_path.open("wb") as log:
            started = time.monotonic()
            bot = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=work, env=env, stdout=log, stderr=log
            )
        sampler = TreeSampler(bot.pid)
        sampler.start()
        alerted_after: float | None = None
        feeds_answers: list[tuple[float, float | None]] = []
        asked_during_parse = False
        peak_db = 0
        while time.monotonic() - started < args.seconds and bot.poll() is None:
            elapsed = time.monotonic() - started
            if alerted_after is None and any(
                "Uzbekistan" in m.text for m in fake.messages(SUBSCRIBER)
            ):
                alerted_after = elapsed
            if not asked_during_parse and server.count("/h/nested") and elapsed > 12:
                asked_during_parse = True
                feeds_answers.append((elapsed, ask_feeds(fake)))
            peak_db = max(peak_db, database_size(db_path))
            time.sleep(0.1)
        feeds_answers.append((time.monotonic() - started, ask_feeds(fake)))
        peak_db = max(peak_db, database_size(db_path))
        tree = process_tree(bot.pid)
        stop_started = time.monotonic()
        bot.send_signal(signal.SIGTERM)
        try:
            status: int | str = bot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.kill()
            status = "still running after 30 s (killed)"
        stop_seconds = time.monotonic() - stop_started
        time.sleep(3)
        left = [pid for pid in sampler.seen | set(tree) if alive(pid)]
        sampler.stop.set()

        db = Database(f"sqlite:///{db_path}")
        outcomes = {f.id: f for f in db.call(feed_store.list_feeds)}
        db.close()
        what = "the healthy feed alone" if args.healthy_only else "12 hostile feeds + 1 healthy"
        print(f"bot ran {args.seconds:g} s, POLL_INTERVAL={args.poll_interval}, {what}")
        print()
        for feed_id, name in ids.items():
            info = outcomes[feed_id]
            error = (info.last_error or "")[:90]
            print(f"  {name:32} items {info.item_count:>4}  {error or 'ok'}")
        print()
        alert = f"{alerted_after:.1f} s" if alerted_after is not None else "NOT ALERTED"
        print(f"healthy event alerted after:   {alert}  (goal < 60 s)")
        print(
            f"peak RSS of the process tree:  {sampler.peak / MiB:.0f} MB "
            f"({sampler.peak_processes} processes)  (goal < 400 MB); "
            f"main process alone {sampler.peak_main / MiB:.0f} MB"
        )
        print(
            f"database size:                 {database_size(db_path) / MiB:.1f} MB at the end, "
            f"{peak_db / MiB:.1f} MB peak  (goal < 100 MB)"
        )
        for asked_at, answer in feeds_answers:
            reply = f"answered in {answer:.2f} s" if answer is not None else "NO ANSWER in 30 s"
            print(f"/feeds at {asked_at:5.1f} s:            {reply}")
        print(f"SIGTERM:                       exit {status} after {stop_seconds:.1f} s")
        print(f"processes left 3 s after exit: {len(left)}")
        log_tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        if "Traceback" in log_path.read_text(errors="replace"):
            print("bot log has a traceback; last lines:", *log_tail, sep="\n  ")
    server.stop()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
