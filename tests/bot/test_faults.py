"""Faults the bot must survive: the database going away, a full disk, SIGTERM mid-poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from coopwatch.polling import FeedPoller
from coopwatch.settings import Settings
from news.fetch import FeedFetcher
from news.parse_pool import ParsePool
from storage import Database, StorageError
from storage import feeds as feed_store
from tests import hostile
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer, MiB, make_rss

pytestmark = pytest.mark.slow

USER = 7007


def _drop_connections(url: str) -> int:
    """What a PostgreSQL restart looks like to the bot: every connection is cut."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).scalar_one()
    admin.dispose()
    return int(killed)


async def test_postgres_connections_cut_under_a_running_bot(
    settings: Settings, fake_telegram: FakeTelegram, postgres_server_url: str | None
) -> None:
    if postgres_server_url is None:
        pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL)")
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_server_url)
    settings = settings.model_copy(update={"database_url": postgres_server_url})
    async with running_bot(settings, fake_telegram) as app:
        fake_telegram.send_user_message(USER, "/start")
        await fake_telegram.wait_for_messages(USER)
        assert _drop_connections(postgres_server_url) >= 1
        # The pool's pre-ping notices the dead connections and opens new ones.
        fake_telegram.send_user_message(USER, "/start")
        messages = await fake_telegram.wait_for_messages(USER, 2)
        assert "Welcome back" in messages[1].text
        db: Database = app.bot_data.opened().db
        db.ping()


def _limit_sqlite_pages(db: Database, pages: int) -> None:
    """Make the database 'disk' full after ``pages`` pages (SQLITE_FULL, as on a full disk)."""

    @event.listens_for(db.engine, "connect")
    def _cap(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    db.engine.dispose()


async def test_sqlite_disk_full_gives_a_clear_error_and_no_corruption(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer, tmp_path: Path
) -> None:
    big = make_rss("Big", 60)
    url = feed_server.add("/big", big)
    settings = settings.model_copy(
        update={"allow_private_feeds": True, "admin_ids": frozenset({USER})}
    )
    async with running_bot(settings, fake_telegram) as app:
        db: Database = app.bot_data.opened().db
        with db.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        _limit_sqlite_pages(db, int(pages) + 2)
        fake_telegram.send_user_message(USER, f"/addfeed {url}")
        replies = await fake_telegram.wait_for_messages(USER, 2, timeout=20)
        assert replies[-1].text.startswith("I can't reach my database right now")
    check = create_engine(settings.database_url)
    with check.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        # Nothing half-written: either the feed and its items, or neither.
        feeds = conn.exec_driver_sql("SELECT count(*) FROM feed").scalar_one()
        items = conn.exec_driver_sql("SELECT count(*) FROM item").scalar_one()
    check.dispose()
    assert (feeds, items) in ((0, 0), (1, 60))


def test_storage_error_for_a_full_disk_is_clear(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'full.db'}")
    db.upgrade()
    with db.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    _limit_sqlite_pages(db, int(pages))
    with pytest.raises(StorageError, match="the database is full"):
        db.call(feed_store.add_feed, url="https://a.example/" + "x" * 5000, title="y" * 20000)
    db.close()


def test_sigterm_in_the_middle_of_a_poll_stops_cleanly(
    tmp_path: Path, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    slow = feed_server.add("/slow", make_rss("Slow", 5), trickle=1.0, pieces=20)
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    db = Database(db_url)
    db.upgrade()
    db.call(feed_store.add_feed, url=slow, title="Slow")
    db.close()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEFAULT_FEEDS": "false",
        "ALLOW_PRIVATE_FEEDS": "true",
        "DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_BASE_URL": fake_telegram.base_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and feed_server.count("/slow") == 0:
        time.sleep(0.1)
    assert feed_server.count("/slow") == 1, "the poll never started"
    time.sleep(1.0)  # the body is trickling in
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=40) == 0
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err, err
    db = Database(db_url)
    [feed] = db.call(feed_store.list_feeds)
    # The poll was cut: no half-written state — the feed has no items and no caching headers
    # from a half-read answer, and it is due again.
    assert feed.item_count in (0, 5)
    assert (feed.item_count == 0) == (feed.etag is None)
    db.close()


# --- hostile feeds (issue 10) and parse workers that die with the bot (issue 18) -------------


def _hostile_routes(server: FeedServer) -> dict[str, str]:
    """A fast version of the benchmark's hostile feeds (bench/hostile.py), name -> URL."""
    routes = {
        "laughs": server.add("/h/laughs", hostile.BILLION_LAUGHS, content_type="application/xml"),
        "quadratic-utf16": server.add(
            "/h/quadratic-utf16",
            hostile.quadratic("utf-16-le"),
            content_type="application/rss+xml; charset=utf-16le",
        ),
        "nested": server.add("/h/nested", hostile.nested(6 * MiB)),
        "unclosed": server.add("/h/unclosed", hostile.unclosed(6 * MiB)),
        "many": server.add("/h/many", hostile.many_items(1000)),
        "html": server.add("/h/html", hostile.HTML, content_type="text/html"),
        "random": server.add("/h/random", hostile.random_bytes(64 * 1024)),
        "loop": server.url("/redirect/loop-a"),
        "500": server.url("/fault/500"),
        "endless": server.url("/fault/endless"),
    }
    return routes


async def test_hostile_feeds_fail_alone_and_bounded(
    db: Database, feed_server: FeedServer, tmp_path: Path
) -> None:
    """Each hostile feed ends in its own error within its limits; the healthy one is stored."""
    routes = _hostile_routes(feed_server)
    healthy = feed_server.add("/h/healthy", make_rss("Healthy", 5))
    ids = {
        name: db.call(feed_store.add_feed, url=url, title=name).id
        for name, url in [*routes.items(), ("healthy", healthy)]
    }
    pool = ParsePool(2, timeout=3.0)
    started = time.monotonic()
    async with FeedFetcher(allow_private=True, max_bytes=8 * MiB, total_timeout=5) as fetcher:
        poller = FeedPoller(
            db=db,
            fetcher=fetcher,
            interval=900,
            max_item_age=timedelta(hours=48),
            parser=pool,
        )
        try:
            reports = {r.feed_id: r for r in await poller.poll_due()}
        finally:
            pool.close()
    assert time.monotonic() - started < 20
    assert reports[ids["healthy"]].outcome == "ok"
    assert reports[ids["healthy"]].new_count == 5
    assert reports[ids["many"]].new_count == 200  # the newest 200 of 1,000
    errors = {name: reports[ids[name]].error or "" for name in routes if name != "many"}
    assert all(reports[ids[name]].outcome == "error" for name in errors), errors
    assert "entities" in errors["laughs"] and "entities" in errors["quadratic-utf16"]
    assert "longer than 3 s" in errors["nested"] or "memory" in errors["nested"]
    assert "HTML" in errors["html"] and "loop" in errors["loop"]
    feeds = {f.id: f for f in db.call(feed_store.list_feeds)}
    assert sum(f.item_count for f in feeds.values()) == 205
    assert all(feeds[ids[name]].last_error for name in errors)
    if db.backend == "sqlite":
        assert (tmp_path / "coopwatch.db").stat().st_size < 5 * MiB


def _tree(root: int) -> list[int]:
    """`root` and every process descended from it, from /proc."""
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


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _start_with_a_busy_parse(
    tmp_path: Path, fake: FakeTelegram, server: FeedServer
) -> tuple[subprocess.Popen[str], list[int]]:
    """`coopwatch run` polling one 8 MiB nested document; returns it with its process tree."""
    busy = server.add("/busy", hostile.nested(8 * MiB))
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    db = Database(db_url)
    db.upgrade()
    db.call(feed_store.add_feed, url=busy, title="Busy")
    db.close()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEFAULT_FEEDS": "false",
        "ALLOW_PRIVATE_FEEDS": "true",
        "DATABASE_URL": db_url,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_BASE_URL": fake.base_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 40
    workers: list[int] = []
    while time.monotonic() < deadline and not workers:
        time.sleep(0.2)
        if server.count("/busy"):
            workers = [p for p in _tree(proc.pid) if "news.parse_worker" in _cmdline(p)]
    assert workers, "no parse worker started"
    time.sleep(1.0)  # the 8 MiB body is in the worker, being parsed
    return proc, _tree(proc.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_the_bot_leaves_no_process_behind(
    tmp_path: Path, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    """Issue 18: parse workers (and no resource tracker) outlive a killed bot by < 5 s."""
    proc, tree = _start_with_a_busy_parse(tmp_path, fake_telegram, feed_server)
    assert len(tree) >= 2
    assert not any("resource_tracker" in _cmdline(p) for p in tree)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.1)
    left = [(p, _cmdline(p)) for p in tree if _alive(p)]
    assert left == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_during_a_busy_parse_stops_within_ten_seconds(
    tmp_path: Path, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    proc, tree = _start_with_a_busy_parse(tmp_path, fake_telegram, feed_server)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 10
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err, err
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.1)
    assert [p for p in tree if _alive(p)] == []
    db = Database(f"sqlite:///{tmp_path / 'cw.db'}")
    [feed] = db.call(feed_store.list_feeds)
    # The cut parse wrote nothing: the feed is due again and is retried at the next start.
    assert feed.item_count == 0 and feed.last_error is None
    db.close()
