"""Configuration from the environment and `.env` (the variables in the README's Configuration)."""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage import StorageError, validate_database_url
from storage.db import database_secrets, mask_password, secret_spellings

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Telegram delivers webhooks only to these ports (Bot API, setWebhook).
WEBHOOK_PORTS = (443, 80, 88, 8443)
# setWebhook's secret_token: 1-256 characters, only A-Z, a-z, 0-9, _ and -.
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The web server's port in webhook mode when WEB_PORT is unset (the old WEBHOOK_PORT default).
DEFAULT_WEBHOOK_WEB_PORT = 8443
DEFAULT_WEB_LISTEN = "127.0.0.1"
# Never echoed in an error line: they are credentials.
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")

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
    "WEBHOOK_URL": "a public https URL on port 443, 80, 88 or 8443, e.g. https://bot.example.org/tg",
    "WEBHOOK_SECRET": "1-256 characters of A-Z, a-z, 0-9, _ and -",
    "WEB_LISTEN": "an IP address to listen on, e.g. 127.0.0.1 or 0.0.0.0",
    "WEB_PORT": "a TCP port number, 1-65535",
    "WEBHOOK_LISTEN": "an IP address to listen on, e.g. 127.0.0.1 (better: set WEB_LISTEN)",
    "WEBHOOK_PORT": "a TCP port number, 1-65535 (better: set WEB_PORT)",
    "HEALTH_PORT": "a TCP port number, 1-65535 (better: set WEB_PORT)",
    "RETENTION_DAYS": "a number of days, e.g. 90 (0 keeps everything)",
}


def new_webhook_secret() -> str:
    """A random secret_token (43 URL-safe characters, within Telegram's alphabet)."""
    return secrets.token_urlsafe(32)


class ConfigError(Exception):
    """A configuration value is wrong; the message is one line meant for the operator."""


class Settings(BaseSettings):
    """coopwatch's settings. Build with ``load_settings()`` in ``main()``, never at import."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )

    # Out of repr(): a settings object printed in a traceback or a test failure shows no secret.
    telegram_bot_token: str | None = Field(default=None, repr=False)
    telegram_base_url: str = DEFAULT_BASE_URL
    database_url: str = Field(default="sqlite:///coopwatch.db", repr=False)
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    poll_interval: float = Field(default=900.0, gt=0, allow_inf_nan=False)
    allow_private_feeds: bool = False
    default_feeds: bool = True
    max_item_age: float = Field(default=48.0, gt=0, allow_inf_nan=False)
    log_level: str = "INFO"
    webhook_url: str | None = None
    # Unset: a fresh random secret per start (Telegram learns it from setWebhook each time).
    webhook_secret: str = Field(default_factory=new_webhook_secret, repr=False)
    # One web server (archive, Atom, metrics, health and the webhook).
    web_listen: str = DEFAULT_WEB_LISTEN
    web_port: int | None = Field(default=None, ge=1, le=65535)
    # The names from before there was one server (a webhook server on WEBHOOK_LISTEN:
    # WEBHOOK_PORT, default 8443, and /health on HEALTH_PORT, default 8080 in webhook mode
    # and off in polling mode). Read as fields of their own, not as aliases of WEB_PORT, so
    # an error names the variable the operator set and web_port_in_effect can give each
    # its old meaning (docs/design.md, "The old port names keep their old meaning").
    webhook_listen: str | None = None
    webhook_port: int | None = Field(default=None, ge=1, le=65535)
    health_port: int | None = Field(default=None, ge=1, le=65535)
    _web_listen_set: bool = PrivateAttr(default=False)  # WEB_LISTEN given, not WEBHOOK_LISTEN
    # Days an item that reports no event, and a finished delivery, are kept; 0: for ever.
    retention_days: float = Field(default=90.0, ge=0, allow_inf_nan=False)

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

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: Any) -> Any:
        if isinstance(value, str):
            return check_webhook_url(value) if value.strip() else None
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return new_webhook_secret()
            if not _SECRET_TOKEN.fullmatch(value):
                # The value itself is never echoed: it is a secret.
                raise ValueError("not a valid secret token")
        return value

    @field_validator("web_listen", "webhook_listen", mode="before")
    @classmethod
    def _web_listen(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if not value:  # empty in .env: unset
                return DEFAULT_WEB_LISTEN if info.field_name == "web_listen" else None
            ipaddress.ip_address(value)  # ValueError names the bad value
        return value

    @field_validator("web_port", "webhook_port", "health_port", mode="before")
    @classmethod
    def _web_port(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _web_server(self) -> Settings:
        self._web_listen_set = "web_listen" in self.model_fields_set
        if not self._web_listen_set and self.webhook_listen is not None:
            self.web_listen = self.webhook_listen
        self.web_port_in_effect  # noqa: B018 - two legacy ports for one server stop the start
        return self

    @property
    def web_port_in_effect(self) -> int | None:
        """Where the web server listens: WEB_PORT; else the old names as they were meant
        (HEALTH_PORT; in webhook mode WEBHOOK_PORT, default 8443); else nowhere.

        Raises ConfigError when the old names put the webhook and /health on two ports.
        """
        if self.web_port is not None:
            return self.web_port
        if not self.webhook_url:
            # WEBHOOK_PORT meant nothing in polling mode: it must not open a server now.
            return self.health_port
        webhook_port = self.webhook_port or DEFAULT_WEBHOOK_WEB_PORT
        if self.health_port is not None and self.health_port != webhook_port:
            raise ConfigError(
                f"HEALTH_PORT ({self.health_port}) and WEBHOOK_PORT ({webhook_port}) were two "
                "servers; one web server now serves /health and the webhook: set WEB_PORT "
                "to the one port and remove HEALTH_PORT and WEBHOOK_PORT"
            )
        return webhook_port

    def deprecations(self) -> list[str]:
        """One warning per old variable that is set, saying what it does now."""
        found = []
        if self.webhook_listen is not None:
            found.append(
                "WEBHOOK_LISTEN is ignored: WEB_LISTEN is set"
                if self._web_listen_set
                else "WEBHOOK_LISTEN is deprecated and read as WEB_LISTEN; rename it"
            )
        for name, value in (("HEALTH_PORT", self.health_port), ("WEBHOOK_PORT", self.webhook_port)):
            if value is None:
                continue
            if self.web_port is not None:
                found.append(f"{name} is ignored: WEB_PORT is set")
            elif name == "WEBHOOK_PORT" and not self.webhook_url:
                found.append("WEBHOOK_PORT is ignored in polling mode; remove it")
            else:
                found.append(f"{name} is deprecated and read as WEB_PORT; rename it")
        return found

    @property
    def console_mode(self) -> bool:
        return self.telegram_bot_token is None

    def secrets(self) -> list[str]:
        """Every spelling of the token, the webhook secret and the database password, longest
        first, for redacting messages and log lines."""
        return _longest_first(
            secret_spellings(self.telegram_bot_token or "", self.webhook_secret)
            | set(database_secrets(self.database_url))
            # As the operator wrote them: the URL above is SQLAlchemy's re-encoded spelling.
            | set(_raw_secrets({}))
        )

    @property
    def log_level_number(self) -> int:
        level: int = logging.getLevelName(self.log_level)
        return level


def check_webhook_url(value: str) -> str:
    """Return ``value`` if Telegram could deliver webhooks to it, else raise ValueError."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        port = parts.port or 443
    except ValueError as exc:
        raise ValueError(f"not a URL: {value!r}") from exc
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise ValueError(f"not an https URL: {value!r}")
    if port not in WEBHOOK_PORTS:
        raise ValueError(f"Telegram does not deliver webhooks to port {port}")
    if not _public_host(parts.hostname):
        raise ValueError(f"{parts.hostname} cannot be reached by Telegram")
    return value


def _public_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name: only DNS knows, and resolving it here would slow every start
    return address.is_global


def _longest_first(found: set[str]) -> list[str]:
    return sorted(found - {""}, key=len, reverse=True)


def _raw_secrets(overrides: dict[str, Any]) -> list[str]:
    """The secret variables as given (environment, .env, overrides), valid or not."""
    given: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        given |= {k.upper(): v for k, v in dotenv_values(".env").items()}
    given |= {k.upper(): v for k, v in os.environ.items()}
    given |= {k.upper(): v for k, v in overrides.items()}
    found: set[str] = set()
    for name in SECRET_VARIABLES:
        value = given.get(name)
        if isinstance(value, str):
            found |= secret_spellings(value.strip(), value)
    url = given.get("DATABASE_URL")
    if isinstance(url, str):
        found |= set(database_secrets(url.strip()))
    return _longest_first(found)


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
            if name == "DATABASE_URL" and isinstance(given, str):
                given = mask_password(given)
            shown = "" if name in SECRET_VARIABLES else f", got {given!r}"
            lines.append(f"{name}: expected {EXPECTED.get(name, 'a valid value')}{shown}")
        # A value shown in the error (or a wrong variable holding a secret) never shows one.
        message = "; ".join(lines)
        for secret in _raw_secrets(overrides):
            message = message.replace(secret, "***")
        raise ConfigError(message) from None


# Keys a .env may hold for other programs: Docker Compose's PostgreSQL service (README).
OTHER_ENV_KEYS = frozenset({"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"})


def unknown_env_keys(path: Path = Path(".env")) -> list[str]:
    """One warning per key of ``path`` that no setting reads ("POLL_INTERVALL"), with the
    nearest known name; pydantic-settings ignores such keys without a word."""
    if not path.is_file():
        return []
    known = {name.upper() for name in Settings.model_fields} | OTHER_ENV_KEYS
    warnings = []
    for key in dotenv_values(path):
        name = key.strip().upper()
        if not name or name in known:
            continue
        near = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        hint = f"; did you mean {near[0]}?" if near else ""
        warnings.append(f"{path.name}: unknown setting {key!r} is ignored{hint}")
    return warnings
