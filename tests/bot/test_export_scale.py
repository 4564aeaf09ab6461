"""`coopwatch export` of a large archive: more events than one SQL statement takes parameters
(PostgreSQL: 65,535)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.cli import main
from storage import Database
from storage.models import Event
from tests.web.archive import seed_archive

pytestmark = pytest.mark.slow

MANY = 65_536 + 64


def _bulk_events(db: Database, count: int) -> None:
    """``count`` events without reports, older than the seeded ones, in one statement."""
    stored = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [
        {
            "key": f"KZ-TJ-bulk-{n}",
            "event_type": "meeting",
            "countries": "KZ,TJ",
            "event_date": date(2025, 1, 1) - timedelta(days=n % 1000),
            "summary": f"Bulk event {n}.",
            "created_at": stored,
            "updated_at": stored,
        }
        for n in range(count)
    ]
    with db.session() as session:
        session.execute(insert(Event), rows)


def test_export_of_more_events_than_a_statement_takes_parameters(
    db: Database, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_archive(db)
    _bulk_events(db, MANY)
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert main(["export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsysbinary.readouterr().out.decode("utf-8"))))
    assert len(rows) == MANY + 3
    # The seeded events are the newest, each with every one of its sources.
    assert [row["id"] for row in rows[:3]] == [
        "KG-RU-2026-11-27-call",
        "CN-UZ-2026-11-25-agreement",
        "KZ-TJ-2026-11-20-visit",
    ]
    assert len(rows[2]["source_urls"].splitlines()) == 3
    assert rows[-1]["source_urls"] == ""
