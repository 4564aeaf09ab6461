"""`coopwatch export` and /export: the stored events out, newest first, every source."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import feedparser
import pytest

from bot.app import build_application
from bot.cli import main
from bot.console import CONSOLE_TOKEN, ConsoleRequest
from bot.export import feed_atom_id, render_csv
from coopwatch.settings import Settings
from storage import Database
from storage.archive import list_events
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.fakebot.state import Upload
from tests.web.archive import HOSTILE, Report, add_event, seed_archive

USER = 5150
NEWEST_FIRST = ["KG-RU-2026-11-27-call", "CN-UZ-2026-11-25-agreement", "KZ-TJ-2026-11-20-visit"]


def run_export(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'coopwatch.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "export", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.slow
def test_export_jsonl_from_the_command_line(tmp_path: Path, sqlite_db: Database) -> None:
    seed_archive(sqlite_db)
    done = run_export(tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["id"] for r in records] == NEWEST_FIRST
    visit = records[2]
    assert set(visit) == {
        "id",
        "date",
        "type",
        "countries",
        "place",
        "summary",
        "topics",
        "sources",
    }
    assert visit["date"] == "2026-11-20" and visit["type"] == "visit"
    assert visit["countries"] == ["KZ", "TJ"] and visit["place"] == "Dushanbe"
    assert visit["topics"] == []
    assert visit["sources"][0] == {
        "outlet": "The Astana Times",
        "title": "Tokayev arrives in Dushanbe",
        "url": "https://astanatimes.example/1",
    }
    assert len(visit["sources"]) == 3
    # A source link that is not http(s) is dropped, its outlet and title kept (as text).
    assert records[1]["sources"][0]["url"] is None
    assert HOSTILE in records[1]["summary"]


def test_export_filters_and_formats(
    sqlite_db: Database, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_archive(sqlite_db)
    monkeypatch.setenv("DATABASE_URL", str(sqlite_db.engine.url))

    assert main(["export", "--format", "csv", "--country", "Uzbekistan"]) == 0
    out = capsysbinary.readouterr().out
    # Plain UTF-8 for scripts: a BOM would make the first column '\ufeffid' for csv readers.
    assert out.startswith(b"id,date,")
    rows = list(csv.DictReader(io.StringIO(out.decode("utf-8"))))
    assert [row["id"] for row in rows] == ["CN-UZ-2026-11-25-agreement"]
    assert rows[0]["countries"] == "UZ; CN"
    assert rows[0]["source_outlets"].splitlines() == [f"Evil {HOSTILE} Wire", "Gazeta.uz"]
    assert rows[0]["source_urls"].splitlines() == ["", "https://gazeta.example/4"]

    assert main(["export", "--since", "2026-11-25"]) == 0
    lines = capsysbinary.readouterr().out.decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == NEWEST_FIRST[:2]

    assert main(["export", "--format", "atom", "--country", "kg"]) == 0
    feed = feedparser.parse(capsysbinary.readouterr().out)
    assert not feed.bozo
    assert feed.feed.id == feed_atom_id("KG")  # the same feed id as /events.atom?country=KG
    assert [e.title for e in feed.entries] == [
        "Kyrgyzstan – Russia · phone call · 27 November 2026"
    ]
    assert [link.href for link in feed.entries[0].links] == ["https://24kg.example/5"]


def test_export_refuses_bad_input(
    sqlite_db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", str(sqlite_db.engine.url))
    assert main(["export", "--country", "Tajikstan"]) == 2
    assert "did you mean Tajikistan (TJ)?" in capsys.readouterr().err
    assert main(["export", "--country", "Atlantis"]) == 2
    assert "unknown country 'Atlantis'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--since", "last week"])
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", "--format", "xlsx"])


def test_csv_cells_cannot_run_as_spreadsheet_formulas(sqlite_db: Database) -> None:
    add_event(
        sqlite_db,
        key="KZ-UZ-2026-11-01-meeting",
        countries=("KZ", "UZ"),
        event_type="meeting",
        day=date(2026, 11, 1),
        summary='=HYPERLINK("https://evil.example","click")',
        reports=[Report("@evil", "+1 talks", "https://evil.example/1")],
    )
    [row] = list(csv.DictReader(io.StringIO(render_csv(sqlite_db.call(list_events)))))
    assert row["summary"] == '\'=HYPERLINK("https://evil.example","click")'
    assert row["source_outlets"] == "'@evil" and row["source_titles"] == "'+1 talks"


async def test_export_command_sends_a_csv_document(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    db = Database(settings.database_url)
    db.upgrade()
    seed_archive(db)
    db.close()
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/export")
        [sent] = await fake_telegram.wait_for_messages(USER, timeout=10)
        assert "3 events, newest first" in sent.text
        [call] = fake_telegram.calls("sendDocument")
        document = call.params["document"]
        assert isinstance(document, Upload) and document.filename.endswith(".csv")
        # The document opens in spreadsheets: a BOM says it is UTF-8 (Cyrillic names).
        assert document.content.startswith("\ufeffid,date,".encode())
        rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8-sig"))))
        assert [row["id"] for row in rows] == NEWEST_FIRST
        assert rows[2]["source_urls"].splitlines() == [
            "https://astanatimes.example/1",
            "https://asiaplus.example/2",
            "https://kabar.example/3",
        ]

        fake_telegram.send_user_message(USER, "/export Таджикистан")
        await fake_telegram.wait_for_messages(USER, 2, timeout=10)
        only = fake_telegram.calls("sendDocument")[-1].params["document"]
        assert "-tj-" in only.filename
        assert [r["id"] for r in csv.DictReader(io.StringIO(only.content.decode("utf-8-sig")))] == [
            "KZ-TJ-2026-11-20-visit"
        ]

        fake_telegram.send_user_message(USER, "/export Atlantis")
        fake_telegram.send_user_message(USER, "/export Tajikstan")
        fake_telegram.send_user_message(USER, "/export Japan")
        replies = await fake_telegram.wait_for_messages(USER, 5, timeout=10)
        assert "I don't know the country “Atlantis”" in replies[2].text
        assert "Did you mean Tajikistan?" in replies[3].text
        assert "No events involving Japan yet." in replies[4].text
        assert len(fake_telegram.calls("sendDocument")) == 2

        fake_telegram.send_user_message(USER, "/help")
        help_text = (await fake_telegram.wait_for_messages(USER, 6, timeout=10))[-1].text
        assert "/export [COUNTRY] — The events as a CSV file" in help_text
        assert "export" in fake_telegram.commands_for("default", "")
        assert "export" in fake_telegram.commands_for("default", "ru")


async def test_console_mode_saves_the_export_in_the_working_directory(
    settings: Settings, tmp_path: Path
) -> None:
    db = Database(settings.database_url)
    db.upgrade()
    seed_archive(db)
    db.close()
    read_fd, write_fd = os.pipe()
    output = io.StringIO()
    request = ConsoleRequest(input_stream=os.fdopen(read_fd, "r"), output=output)
    app = build_application(settings, request=request, token=CONSOLE_TOKEN)
    stopped = asyncio.Event()
    request.on_eof = stopped.set
    async with app:
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        with os.fdopen(write_fd, "w") as typing:
            typing.write("/export kz\n")
            typing.flush()
            for _ in range(200):
                if "📎" in output.getvalue():
                    break
                await asyncio.sleep(0.05)
        await asyncio.wait_for(stopped.wait(), 5)
        await app.updater.stop()
        await app.stop()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
    shown = output.getvalue()
    assert "1 event of Kazakhstan: id, date" in shown
    [saved] = tmp_path.glob("coopwatch-events-kz-*.csv")
    assert f"📎 {saved}" in shown
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [row["id"] for row in rows] == ["KZ-TJ-2026-11-20-visit"]


async def test_export_says_when_it_holds_only_the_newest_events(
    settings: Settings, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the cap the caption says which events the document holds: the newest N of all."""
    monkeypatch.setattr("handlers.export.MAX_EXPORT_EVENTS", 2)
    db = Database(settings.database_url)
    db.upgrade()
    seed_archive(db)
    db.close()
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/export")
        [sent] = await fake_telegram.wait_for_messages(USER, timeout=10)
        assert "The newest 2 of 3 events" in sent.text
        document = fake_telegram.calls("sendDocument")[-1].params["document"]
        rows = list(csv.DictReader(io.StringIO(document.content.decode("utf-8-sig"))))
        assert [row["id"] for row in rows] == NEWEST_FIRST[:2]
