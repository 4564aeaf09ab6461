"""Configuration: defaults, .env, and one clear line for a bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coopwatch.settings import ConfigError, load_settings


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.console_mode
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite:///coopwatch.db"
    assert settings.admin_ids == frozenset()
    assert settings.poll_interval == 900
    assert settings.allow_private_feeds is False
    assert settings.default_feeds is True
    assert settings.max_item_age == 48
    assert settings.log_level == "INFO"
    assert settings.retention_days == 90


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "12345, 67890")
    monkeypatch.setenv("POLL_INTERVAL", "0.5")
    monkeypatch.setenv("ALLOW_PRIVATE_FEEDS", "true")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    settings = load_settings()
    assert settings.admin_ids == {12345, 67890}
    assert settings.poll_interval == 0.5
    assert settings.allow_private_feeds
    # Plain postgresql:// would need psycopg2; we ship psycopg 3.
    assert settings.database_url.startswith("postgresql+psycopg://")


def test_values_come_from_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123:abc\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.telegram_bot_token == "123:abc"
    assert not settings.console_mode
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ADMIN_IDS", "abc", "ADMIN_IDS: expected comma-separated Telegram user ids"),
        ("POLL_INTERVAL", "-5", "POLL_INTERVAL: expected a positive number of seconds"),
        ("POLL_INTERVAL", "nan", "POLL_INTERVAL: expected a positive number of seconds"),
        ("DATABASE_URL", "not a url", "DATABASE_URL: expected a SQLAlchemy URL"),
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL: expected a SQLAlchemy URL"),
        ("MAX_ITEM_AGE", "0", "MAX_ITEM_AGE: expected a positive number of hours"),
        ("ALLOW_PRIVATE_FEEDS", "maybe", "ALLOW_PRIVATE_FEEDS: expected true or false"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: expected one of"),
        ("TELEGRAM_BASE_URL", "ftp://x", "TELEGRAM_BASE_URL: expected an http(s) URL"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(expected)


@pytest.mark.slow
def test_bad_value_stops_the_program_with_one_line(tmp_path: Path) -> None:
    env = {"ADMIN_IDS": "abc", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "ADMIN_IDS" in lines[0] and "Traceback" not in done.stderr


def test_token_never_shown_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123 secret-token")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "secret-token" not in str(info.value)
