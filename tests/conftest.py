"""Fixtures shared by the whole suite: settings, a migrated database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from coopwatch.settings import Settings, load_settings
from storage import Database

pytest_plugins = ["tests.fakebot.fixtures", "tests.feedserver"]

# ../shared beside the repository, on the team's machines and in CI's second run only: the
# labelled news quotations (not freely licensed, so never carried in the repository).
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test compiled modules older than their sources: the tests would pass or fail
    on code that no longer exists. `make test` rebuilds them first."""
    from news.compiled import stale_modules

    stale = stale_modules()
    if stale:
        pytest.exit(
            f"compiled with mypyc before their sources last changed: {', '.join(stale)}; "
            "run `make test` (or `make .venv/.installed-test`) to compile them again",
            returncode=4,
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `shared_data` skip, saying why, in a clone without ../shared/data."""
    if (SHARED_DATA / "dev.jsonl").exists():
        return
    skip = pytest.mark.skip(reason=f"needs the news quotations in {SHARED_DATA} (not in a clone)")
    for item in items:
        if item.get_closest_marker("shared_data"):
            item.add_marker(skip)


_ENV_VARS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "DATABASE_URL",
    "ADMIN_IDS",
    "POLL_INTERVAL",
    "ALLOW_PRIVATE_FEEDS",
    "DEFAULT_FEEDS",
    "MAX_ITEM_AGE",
    "LOG_LEVEL",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "HEALTH_PORT",
    "WEB_LISTEN",
    "WEB_PORT",
    "RETENTION_DAYS",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test starts from the defaults: no variables, no .env, its own working directory."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def _postgres_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str | None]:
    """A throw-away PostgreSQL database for this test run, when TEST_DATABASE_URL is set."""
    base = _postgres_url()
    if base is None:
        yield None
        return
    name = f"coopwatch_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server_url: str | None
) -> str:
    """A fresh database URL: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'coopwatch.db'}"
    if postgres_server_url is None:
        pytest.skip("PostgreSQL not configured (set TEST_DATABASE_URL)")
    _reset_postgres(postgres_server_url)
    return postgres_server_url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database on each backend."""
    database = Database(database_url)
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database (for tests that are about something other than storage)."""
    database = Database(f"sqlite:///{tmp_path / 'coopwatch.db'}")
    database.upgrade()
    yield database
    database.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # No default feeds: tests never reach the internet.
    return load_settings(database_url=f"sqlite:///{tmp_path / 'coopwatch.db'}", default_feeds=False)
