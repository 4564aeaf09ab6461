"""Logs: one structured line per event worth knowing; secrets never written."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import REDACTED, configure_logging


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    yield out
    logging.getLogger().handlers.clear()


def test_fields_are_key_value_pairs(stream: io.StringIO) -> None:
    configure_logging(logging.INFO, stream=stream)
    logging.getLogger("coopwatch.polling").info(
        "feed polled", extra={"feed": 3, "outcome": "ok", "error": 'HTTP 500 "oops"'}
    )
    line = stream.getvalue().strip()
    expected = 'coopwatch.polling: feed polled feed=3 outcome=ok error="HTTP 500 \\"oops\\""'
    assert line.endswith(expected)
    assert "\n" not in line


def test_secrets_are_redacted_everywhere(stream: io.StringIO) -> None:
    token = "123456:SECRET-token"
    configure_logging(logging.INFO, secrets=[token, "hook-secret"], stream=stream)
    log = logging.getLogger("httpx")
    log.warning("POST https://api.telegram.org/bot%s/getMe", token)
    logging.getLogger("x").info("webhook", extra={"secret": "hook-secret"})
    try:
        raise RuntimeError(f"failed at https://api.telegram.org/bot{token}/sendMessage")
    except RuntimeError:
        logging.getLogger("x").exception("send failed")
    out = stream.getvalue()
    assert token not in out and "hook-secret" not in out
    assert out.count(REDACTED) == 3  # the URL, the field, the exception message
