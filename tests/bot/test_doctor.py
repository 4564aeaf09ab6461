"""`coopwatch doctor` against the fake Bot API, the local feed server and real databases."""

from __future__ import annotations

import io
import logging
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.doctor import Finding, feeds_to_check, write_report
from coopwatch.settings import Settings
from storage import Database
from storage import feeds as feed_store
from storage.feeds import FeedInfo
from tests.fakebot.server import FakeTelegram
from tests.feedserver import HTML_PAGE, FeedServer, make_rss


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "doctor.db"


@pytest.fixture(autouse=True)
def _doctor_env(
    monkeypatch: pytest.MonkeyPatch, db_path: Path, fake_telegram: FakeTelegram
) -> Iterator[None]:
    """A healthy instance: migrated SQLite, the fake's token and URL, one admin."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db_path}")
    monkeypatch.setenv("DEFAULT_FEEDS", "false")
    monkeypatch.setenv("ALLOW_PRIVATE_FEEDS", "true")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_BASE_URL", fake_telegram.base_url)
    monkeypatch.setenv("ADMIN_IDS", "1001")
    Database(f"sqlite:///{db_path}").upgrade()
    yield
    logging.getLogger().handlers.clear()


def add_feeds(db_path: Path, *urls: str) -> None:
    """Store feeds as they are after /addfeed, without fetching (a broken one must get in)."""
    db = Database(f"sqlite:///{db_path}")
    try:
        for n, url in enumerate(urls, start=1):
            db.call(feed_store.add_feed, url=url, title=f"Outlet {n}")
    finally:
        db.close()


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, str]]:
    """Exit status and the report as {check name: "mark detail"}."""
    code = main(["doctor", *args])
    lines = capsys.readouterr().out.splitlines()
    report = {}
    for line in lines[:-1]:
        mark, _, rest = line.partition(" ")
        check, _, detail = rest.partition(": ")
        report[check] = f"{mark} {detail}"
    return code, report


def test_everything_good_exits_0(
    capsys: pytest.CaptureFixture[str],
    feed_server: FeedServer,
    fake_telegram: FakeTelegram,
    db_path: Path,
) -> None:
    add_feeds(
        db_path,
        feed_server.add("/a.xml", make_rss("Steppe News", 3)),
        feed_server.add("/b.xml", make_rss("Valley Post", 2, language="ru")),
    )
    code, report = doctor(capsys)
    assert code == 0, report
    assert report["token"].startswith("✓")
    assert report["admins"].startswith("✓") and "1001" in report["admins"]
    assert report["database"].startswith("✓") and "up to date" in report["database"]
    assert report["Bot API"].startswith("✓")
    assert f"@{fake_telegram.bot_username}" in report["Bot API"]
    assert report["feed 1 Outlet 1"].startswith("✓") and "3 items" in report["feed 1 Outlet 1"]
    assert report["feed 2 Outlet 2"].startswith("✓") and "2 items" in report["feed 2 Outlet 2"]


def test_failing_feeds_are_named_with_the_reason(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer, db_path: Path
) -> None:
    add_feeds(
        db_path,
        feed_server.add("/good.xml", make_rss("Steppe News", 1)),
        feed_server.url("/fault/500"),
        feed_server.add("/page", HTML_PAGE, content_type="text/html"),
    )
    code, report = doctor(capsys)
    assert code == 1
    assert report["feed 1 Outlet 1"].startswith("✓")
    assert report["feed 2 Outlet 2"].startswith("✗") and "HTTP 500" in report["feed 2 Outlet 2"]
    assert report["feed 3 Outlet 3"].startswith("✗")
    assert "not a usable feed" in report["feed 3 Outlet 3"]
    assert "network" not in report  # one site failing is not the machine's network
    assert report["Bot API"].startswith("✓")


def test_wrong_token_is_refused_and_never_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "987654321:WrongTokenWrongTokenWrongToken_000"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", wrong)
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1
    assert "✗ Bot API:" in out and "refused TELEGRAM_BOT_TOKEN" in out and "@BotFather" in out
    assert wrong not in out and "WrongToken" not in out


def test_unreachable_bot_api_says_where(
    capsys: pytest.CaptureFixture[str], fake_telegram: FakeTelegram
) -> None:
    where = fake_telegram.base_url
    fake_telegram.stop()
    code, report = doctor(capsys)
    assert code == 1
    assert report["Bot API"].startswith("✗") and "cannot reach" in report["Bot API"]
    assert where in report["Bot API"]


def test_unreachable_database_exits_1_and_skips_feeds(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://coopwatch@127.0.0.1:1/coopwatch")
    code, report = doctor(capsys)
    assert code == 1
    assert report["database"].startswith("✗") and "cannot connect" in report["database"]
    assert "DATABASE_URL" in report["database"]
    assert report["feeds"].startswith("–")
    assert report["Bot API"].startswith("✓")  # the other checks still run


def test_schema_behind_the_code_asks_for_db_upgrade(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    code, report = doctor(capsys, "--quick")
    assert code == 1
    assert report["database"].startswith("✗") and "coopwatch db upgrade" in report["database"]


def test_console_mode_and_missing_database_are_said_plainly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh" / "new.db"
    fresh.parent.mkdir()
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    monkeypatch.delenv("ADMIN_IDS")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{fresh}")
    code, report = doctor(capsys)
    assert code == 0  # console mode, no admins and no database yet are all fine to start
    assert "console mode" in report["token"]
    # The person at the terminal is an admin in console mode, and is told so.
    assert (
        report["admins"].startswith("✓")
        and "you, at the terminal, are an admin" in report["admins"]
    )
    assert "ADMIN_IDS" in report["admins"]
    assert report["database"].startswith("!") and "creates it" in report["database"]
    assert not fresh.exists()  # the doctor only looks
    assert report["Bot API"].startswith("–")
    assert report["feeds"].startswith("!")


def test_missing_database_folder_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}")
    code, report = doctor(capsys, "--quick")
    assert code == 1
    assert report["database"].startswith("✗") and "does not exist" in report["database"]
    assert "Bot API" not in report  # --quick stays off the network


def test_plain_ascii_report_where_marks_cannot_be_shown() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    write_report([Finding("database", "ok", "fine"), Finding("Bot API", "fail", "refused")], out)
    out.flush()
    text = raw.getvalue().decode("ascii")
    assert "ok database: fine" in text and "FAIL Bot API: refused" in text
    assert "1 problem found" in text and "(s)" not in text


def test_every_feed_failing_points_at_the_network(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer, db_path: Path
) -> None:
    add_feeds(db_path, *(feed_server.url(f"/gone/{n}") for n in range(3)))
    code, report = doctor(capsys)
    assert code == 1
    assert report["network"].startswith("✗") and "none of the 3 feeds" in report["network"]
    assert all(report[f"feed {n} Outlet {n}"].startswith("✗") for n in (1, 2, 3))


def test_no_network_is_said_once_instead_of_blaming_each_feed(
    capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    add_feeds(db_path, *(f"http://127.0.0.1:{port}/feed/{n}" for n in range(3)))
    code, report = doctor(capsys)
    assert code == 1
    assert report["network"].startswith("✗") and report["network"].count("no network") == 1
    assert not any(check.startswith("feed ") for check in report)
    assert "changed its domain" not in "".join(report.values())


def test_counts_read_as_english_not_with_a_plural_in_brackets(settings: Settings) -> None:
    def stored(n: int, enabled: bool) -> FeedInfo:
        return FeedInfo(
            n, f"https://example.org/{n}", f"Outlet {n}", None, enabled, None, None,
            None, None, 0, None, None, None,
        )  # fmt: skip

    for disabled, expected in ((1, "1 disabled feed not"), (2, "2 disabled feeds not")):
        feeds = [stored(0, True)] + [stored(n, False) for n in range(1, disabled + 1)]
        _, [note] = feeds_to_check(feeds, settings)
        assert note.detail.startswith(expected), note.detail
    out = io.StringIO()
    write_report([Finding("a", "fail", "x"), Finding("b", "fail", "y")], out)
    assert "2 problems found" in out.getvalue()
