"""Configuration from the environment and `.env` (the outside contract in PRODUCT.md)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage import StorageError, validate_database_url

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# What each variable expects, in the words the one-line start-up error uses.
EXPECTED = {
    "TELEGRAM_BOT_TOKEN": "the token from @BotFather, like 123456:ABC-DEF…",
    "TELEGRAM_BASE_URL": "an http(s) URL such as https://api.telegram.org/bot",
    "DATABASE_URL": "a SQLAlchemy URL: sqlite:///coopwatch.db or postgresql+psycopg://user@host/db",
    "ADMIN_IDS": "comma-separated Telegram user ids (integers), e.g. 12345,67890",
    "POLL_INTERVAL": "a positive number of seconds, e.g. 900",
    "ALLOW_PRIVATE_FEEDS": "true or false",
    "DEFAULT_FEEDS": "true or false",
    "MAX_ITEM_AGE": "a positive number of hours, e.g. 48",
    "LOG_LEVEL": "one of " + ", ".join(LOG_LEVELS),
}


class ConfigError(Exception):
    """A configuration value is wrong; the message is one line meant for the operator."""


class Settings(BaseSettings):
    """coopwatch's settings. Build with ``load_settings()`` in ``main()``, never at import."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: str | None = None
    telegram_base_url: str = DEFAULT_BASE_URL
    database_url: str = "sqlite:///coopwatch.db"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    poll_interval: float = Field(default=900.0, gt=0, allow_inf_nan=False)
    allow_private_feeds: bool = False
    default_feeds: bool = True
    max_item_age: float = Field(default=48.0, gt=0, allow_inf_nan=False)
    log_level: str = "INFO"

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if any(ch.isspace() for ch in value) or ":" not in value:
                raise ValueError("malformed token")
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("not an http(s) URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            return validate_database_url(value.strip())
        except StorageError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _admin_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError as exc:
                raise ValueError(f"not a list of integers: {value!r}") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in LOG_LEVELS:
                raise ValueError(f"unknown level {value!r}")
        return value

    @property
    def console_mode(self) -> bool:
        return self.telegram_bot_token is None

    @property
    def log_level_number(self) -> int:
        level: int = logging.getLevelName(self.log_level)
        return level


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raise ConfigError with one readable line per wrong variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "configuration"
            name = field.upper()
            given = error.get("input")
            shown = "" if name == "TELEGRAM_BOT_TOKEN" else f", got {given!r}"
            lines.append(f"{name}: expected {EXPECTED.get(name, 'a valid value')}{shown}")
        raise ConfigError("; ".join(lines)) from None
