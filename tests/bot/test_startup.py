"""CLI start-up: commands that need no classifier or Telegram do not import them (issue 14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import EXPORT_FORMATS
from bot.export import FORMATS
from storage import Database
from storage import feeds as feed_store
from storage.db import known_head
from tests.feedserver import FeedServer, make_rss
from tests.seed import add_event_with_source, add_report

ROOT = Path(__file__).resolve().parents[2]
# What makes `coopwatch run` slow to start and none of these commands needs.
HEAVY = (
    "telegram",
    "pymorphy3",
    "matplotlib",
    "news.gazetteer",
    "news.classify",
    "feedparser",
    "httpx",
    "rapidfuzz",
)
# What `coopwatch export` does not need either: it reads the events with SQLAlchemy Core
# (storage.eventlist), and the ORM, SQLModel and the table classes were a third of its start;
# the topic tables name topics in Telegram messages only (issue 14).
NOT_FOR_EXPORT = ("sqlmodel", "sqlalchemy.orm", "storage.models", "news.topics")
# What a poll cycle answered by 304s does not need: its feed rows are SQLAlchemy Core
# (storage.feedrows), and parsing starts with the first body (issue 14).
NOT_FOR_304S = (*NOT_FOR_EXPORT, "feedparser", "news.parse", "news.classify", "storage.deliveries")

PROBE = """
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported_by(argv: list[str], tmp_path: Path) -> tuple[int, set[str]]:
    code, modules, _ = run_probe(argv, tmp_path)
    return code, modules


def run_probe(argv: list[str], tmp_path: Path, **settings: str) -> tuple[int, set[str], str]:
    """The command's exit status, every module it imported, and what it printed."""
    env = (
        {
            key: value
            for key, value in os.environ.items()
            if key not in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL")
        }
        | {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}",
            "DEFAULT_FEEDS": "false",
            "PYTHONPATH": str(ROOT),
        }
        | settings
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), done.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["feeds", "list"],
        ["feeds", "export"],
        ["db", "upgrade"],
        ["export"],
        # The container's health check, every minute: configuration and database only.
        ["doctor", "--quick"],
    ],
)
def test_light_commands_leave_the_heavy_parts_alone(argv: list[str], tmp_path: Path) -> None:
    Database(f"sqlite:///{tmp_path / 'startup.db'}").upgrade()
    code, modules = imported_by(argv, tmp_path)
    assert code == 0
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)
    assert loaded == []
    # The database is at the head already: Alembic is not needed either.
    assert not any(m.startswith("alembic") for m in modules)


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["export"],
        ["export", "--format", "csv", "--since", "2026-01-01"],
        ["export", "--format", "atom", "--country", "Tajikistan"],
    ],
)
def test_export_reads_the_events_without_the_orm(argv: list[str], tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'startup.db'}")
    try:
        db.upgrade()
        event = add_event_with_source(db, countries=("KZ", "TJ"))
        add_report(db, event, outlet="Kabar")
    finally:
        db.close()
    code, modules, out = run_probe(argv, tmp_path)
    assert code == 0
    assert "Kabar" in out  # the event was read with its sources, and printed
    assert _within(modules, NOT_FOR_EXPORT) == []


def _within(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.mark.slow
def test_a_poll_answered_by_304s_imports_neither_the_orm_nor_the_parser(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = feed_server.add("/same.xml", make_rss("Same", 3))
    db = Database(f"sqlite:///{tmp_path / 'startup.db'}")
    try:
        db.upgrade()
        db.call(feed_store.add_feed, url=url)
    finally:
        db.close()
    settings = {"ALLOW_PRIVATE_FEEDS": "true"}
    code, modules, out = run_probe(["poll", "--all"], tmp_path, **settings)
    assert (code, "1 ok") == (0, out.split(": ", 1)[1][:4])
    assert "news.parse" in modules  # the first poll parsed the body and stored its items
    code, modules, out = run_probe(["poll", "--all"], tmp_path, **settings)
    assert code == 0 and "1 not modified" in out
    assert _within(modules, NOT_FOR_304S) == []


@pytest.mark.slow
def test_help_imports_neither_storage_nor_telegram(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom bot.cli import build_parser\nbuild_parser().format_help()\n"
            "print(' '.join(sorted(sys.modules)))",
        ],
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = set(done.stdout.split())
    assert "bot.cli" in modules
    assert not {"telegram", "sqlalchemy", "storage", "pydantic"} & modules


def test_known_head_is_alembics_head(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    db = Database(f"sqlite:///{tmp_path / 'head.db'}")
    try:
        alembics = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
        assert known_head() == alembics == db.head_revision()
        db.upgrade()
        assert db.current_revision() == known_head()
    finally:
        db.close()


def test_export_formats_are_the_exporters() -> None:
    assert EXPORT_FORMATS == FORMATS
