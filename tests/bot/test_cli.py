"""The `coopwatch` command line: feeds, scan, classify, group, eval, db upgrade."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from tests.bot.test_event_flow import rss
from tests.conftest import SHARED_DATA
from tests.feedserver import HTML_PAGE, FeedServer, make_rss


@pytest.fixture(autouse=True)
def _cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("DEFAULT_FEEDS", "false")
    monkeypatch.setenv("ALLOW_PRIVATE_FEEDS", "true")
    yield
    logging.getLogger().handlers.clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_upgrade(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and out.startswith("database at revision")


def test_feeds_add_list_export_import_remove(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer, tmp_path: Path
) -> None:
    one = feed_server.add("/one", make_rss("Steppe News", 2))
    two = feed_server.add("/two", make_rss("Valley Post", 1, language="ru"))
    page = feed_server.add("/page", HTML_PAGE, content_type="text/html")

    assert run(capsys, "feeds", "add", one)[1].startswith("added feed 1: Steppe News (2 items)")
    code, _, err = run(capsys, "feeds", "add", page)
    assert code == 1 and "not a usable feed" in err
    code, _, err = run(capsys, "feeds", "add", one)
    assert code == 1 and "already in the list" in err

    opml = tmp_path / "feeds.opml"
    (tmp_path / "other.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        f'<outline text="Valley" title="Valley" type="rss" xmlUrl="{two}"/></body></opml>'
    )
    code, out, _ = run(capsys, "feeds", "import", str(tmp_path / "other.opml"))
    assert code == 0 and "imported 1 of 1 feeds" in out

    code, out, _ = run(capsys, "feeds", "export")
    opml.write_text(out)
    assert one in out and two in out and 'version="2.0"' in out

    code, out, _ = run(capsys, "feeds", "list")
    assert "Steppe News" in out and "Valley" in out and "2 items" in out

    assert run(capsys, "feeds", "remove", "1")[1].startswith("removed feed 1")
    assert run(capsys, "feeds", "remove", "1")[0] == 1
    # The exported OPML brings the removed feed back: a round trip.
    code, out, _ = run(capsys, "feeds", "import", str(opml))
    assert "imported 1 of 2 feeds" in out
    # Admin actions from the command line are audited too.
    from storage import Database, audit

    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    actions = [(e.action, e.source) for e in db.call(audit.recent)]
    db.close()
    assert ("removefeed", "cli") in actions and actions.count(("addfeed", "cli")) == 3


def test_scan_prints_events_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], feed_server: FeedServer
) -> None:
    now = datetime.now(UTC) - timedelta(hours=2)
    body = rss(
        [
            (
                "Uzbek and Chinese foreign ministers talk by phone",
                "Foreign Minister of Uzbekistan Bakhtiyor Saidov held a telephone conversation "
                "with Chinese Foreign Minister Wang Yi.",
                now,
            ),
            ("Football: Kazakhstan beat Kyrgyzstan 2-1", "The national teams met in Almaty.", now),
        ]
    )
    url = feed_server.add("/scan", body)
    assert run(capsys, "feeds", "add", url)[0] == 0
    code, out, _ = run(capsys, "scan")
    assert code == 0
    assert "call\tCN-UZ" in out
    assert "1 event(s) in 2 item(s); nothing was stored or sent" in out


def test_classify_and_group_follow_the_contract(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    items = tmp_path / "items.jsonl"
    lines = [
        {
            "id": "x1",
            "title": "Japarov and Mirziyoyev hold talks",
            "text": "President of Kyrgyzstan Sadyr Japarov held talks with President of "
            "Uzbekistan Shavkat Mirziyoyev in Tashkent.",
            "published": "2024-03-05T09:00:00Z",
        },
        {"id": "x2", "title": "Storm in Bishkek", "text": "Strong winds hit Bishkek."},
    ]
    items.write_text("\n".join(json.dumps(x) for x in lines) + "\n{broken\n")
    code, out, _ = run(capsys, "classify", str(items))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 3
    assert rows[0]["label"] is True and rows[0]["countries"] == ["KG", "UZ"]
    assert rows[1]["label"] is False and rows[1]["event_type"] == "none"
    assert rows[2]["line"] == 3 and "error" in rows[2]
    code, out, _ = run(capsys, "group", str(items))
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["event"] and rows[1]["event"] is None and rows[0]["id"] == "x1"


@pytest.mark.shared_data
def test_eval_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", str(SHARED_DATA / "dev.jsonl"))
    assert code == 0
    for figure in ("P=", "R=", "F1=", "countries=", "type=", "language ru", "type call"):
        assert figure in out


def test_eval_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "eval", "/nonexistent.jsonl")
    assert code == 2 and "no such file" in err


def test_a_database_that_cannot_be_opened_is_one_plain_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'cw.db'}")
    code, out, err = run(capsys, "feeds", "list")
    assert code == 1 and out == ""
    assert (
        err == "coopwatch: could not open or migrate the database: unable to open database file\n"
    )
