"""Logging set-up: one line per record, secrets never written."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "<redacted>"
# Attributes every LogRecord has; anything else was passed with extra={…} and is a field.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class StructuredFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, then key=value fields.

    Fields come from ``extra={"feed": 3, "outcome": "ok"}``, so a line can be grepped or
    parsed (``feed=3``) without parsing the English of the message.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
        # Longest first: a secret's url-encoded spelling may contain a shorter one. Each is
        # also looked for as repr() writes it (`%r` in a message, an exception's args in a
        # traceback) and as a field value is escaped (security review 3, finding 5).
        spellings = {form for s in secrets if s for form in _logged_spellings(s)}
        self.secrets = tuple(sorted(spellings, key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        # Secrets (the bot token, the webhook secret) are replaced in the final line, so
        # messages, fields and tracebacks are all covered: httpx logs each request URL, and
        # Bot API URLs contain the token.
        return redact(self._fields(super().format(record), record), self.secrets)

    def _fields(self, line: str, record: logging.LogRecord) -> str:
        # Each value is redacted before it is escaped as well, so no escaping can split a
        # secret into a spelling that the final pass does not know.
        fields = [
            f"{key}={_value(redact(str(value), self.secrets))}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        ]
        if not fields:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the fields
        return f"{head} {' '.join(fields)}{sep}{tail}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced (pass them longest first)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _logged_spellings(secret: str) -> set[str]:
    """`secret` as written, as inside its repr(), and both as escaped in a field value."""
    forms = {secret, repr(secret)[1:-1]}
    return forms | {_escaped(form) for form in forms}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _value(value: object) -> str:
    text = str(value)
    if not text or any(ch.isspace() or ch in '"=' for ch in text):
        return '"' + _escaped(text) + '"'
    return text


def configure_logging(level: int, *, secrets: Iterable[str] = (), stream: object = None) -> None:
    """Log to stderr with the given level, redacting ``secrets`` from every line."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(StructuredFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Every poll of getUpdates is an httpx INFO line: noise for an operator.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
    logging.getLogger("pymorphy3").setLevel(max(level, logging.WARNING))
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
