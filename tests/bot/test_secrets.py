"""Secrets — token, webhook secret, database password — never reach a message or a log line,
whatever characters they hold."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.doctor import Finding, write_report
from bot.logs import REDACTED, configure_logging
from coopwatch.settings import ConfigError, load_settings
from storage.db import mask_password

TOKEN = "123456:AAE-secret_Token"
HOOK = "hook-Secret_0123456789"
# Characters that break naive URL parsing, and their encoded forms.
PASSWORDS = ["pa/ss:w#rd%zz", "p@ss/w:rd", "s%40cret%2Fx", "a#b c+d"]


def _url(password: str) -> str:
    return f"postgresql+psycopg://bob:{quote(password, safe='/:#%')}@db.example:5432/coop"


def _forms(password: str) -> list[str]:
    return [password, quote(password, safe=""), quote(password)]


@pytest.mark.parametrize("password", PASSWORDS)
def test_mask_password_hides_every_character_of_it(password: str) -> None:
    masked = mask_password(_url(password))
    assert masked == "postgresql+psycopg://bob:***@db.example:5432/coop"


@pytest.mark.parametrize("password", PASSWORDS)
def test_config_errors_never_show_the_password(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", _url(password).replace(":5432", ":port"))  # invalid
    monkeypatch.setenv("ADMIN_IDS", "not-a-number")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "DATABASE_URL" in message and "ADMIN_IDS" in message
    for form in _forms(password):
        assert form not in message


def test_an_unencoded_at_sign_is_refused_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://bob:p@ss/w@rd@db.example/coop")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "p@ss" not in str(info.value) and "w@rd" not in str(info.value)
    assert "ss/w" not in str(info.value)


def test_secrets_in_dotenv_stay_out_of_an_error_about_another_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"WEBHOOK_SECRET={HOOK}\nWEBHOOK_URL=http://{HOOK}.example/\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "WEBHOOK_URL" in str(info.value) and HOOK not in str(info.value)


@pytest.mark.parametrize("password", PASSWORDS)
def test_log_lines_never_show_a_secret_in_any_spelling(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET", HOOK)
    monkeypatch.setenv("DATABASE_URL", _url(password))
    settings = load_settings()
    stream = io.StringIO()
    configure_logging(logging.INFO, secrets=settings.secrets(), stream=stream)
    log = logging.getLogger("test.secrets")
    try:
        for form in [*_forms(password), TOKEN, quote(TOKEN, safe=""), HOOK]:
            log.warning("connecting with %s", form, extra={"dsn": f"password={form}"})
        try:
            raise RuntimeError(f"failed for {settings.database_url}")
        except RuntimeError:
            log.exception("database down")
    finally:
        configure_logging(logging.WARNING)
    out = stream.getvalue()
    for form in [*_forms(password), TOKEN, HOOK]:
        assert form not in out
    assert REDACTED in out


def test_doctor_report_never_prints_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    password = "p%40ss/w:rd"
    monkeypatch.setenv("DATABASE_URL", _url(password))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    out = io.StringIO()
    findings = [
        Finding("database", "fail", f"cannot connect (password {password!r} refused)"),
        Finding("database", "fail", "cannot connect (password 'p@ss/w:rd' refused)"),
        Finding("Bot API", "fail", f"https://api.telegram.org/bot{TOKEN}/getMe: 502"),
    ]
    write_report(findings, out, secrets=settings.secrets())
    text = out.getvalue()
    assert "p@ss" not in text and "p%40ss" not in text and TOKEN not in text
    assert text.count(REDACTED) == 3


def test_the_settings_repr_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET", HOOK)
    monkeypatch.setenv("DATABASE_URL", _url("pa/ss:w#rd"))
    shown = repr(load_settings())
    assert (
        TOKEN not in shown and HOOK not in shown and "w#rd" not in shown and "w%23rd" not in shown
    )


@pytest.mark.parametrize("password", ['pa\\ss"w d', "it's\\x", "q\"u'o\\te"])
def test_an_escaped_spelling_of_a_password_is_redacted_too(
    monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    """Review 3, finding 5: `%r` in a message and the escaping of fields showed it."""
    monkeypatch.setenv("DATABASE_URL", _url(password))
    settings = load_settings()
    stream = io.StringIO()
    configure_logging(logging.INFO, secrets=settings.secrets(), stream=stream)
    try:
        log = logging.getLogger("test.secrets")
        log.warning("msg %r", password, extra={"error": f"boom {password}"})
        log.warning("in a list %s", [password], extra={"why": repr(password)})
    finally:
        configure_logging(logging.WARNING)
    out = stream.getvalue()
    for form in [password, repr(password)[1:-1], password.replace("\\", "\\\\")]:
        assert form not in out, out
    assert out.count(REDACTED) == 4, out
