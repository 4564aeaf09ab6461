"""Faults the bot must survive: the database going away, a full disk, SIGTERM mid-poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text

from bot.settings import Settings
from storage import Database, StorageError
from storage import feeds as feed_store
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer, make_rss

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
        db: Database = app.bot_data["services"].db
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
        db: Database = app.bot_data["services"].db
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
