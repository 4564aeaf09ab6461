"""The web server's old variable names (WEBHOOK_PORT, HEALTH_PORT, WEBHOOK_LISTEN) keep their
old meaning: an existing .env serves /health where it did, opens nothing it did not, and says
what to rename."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from coopwatch.settings import ConfigError, load_settings
from tests.fakebot.server import FakeTelegram

pytestmark = pytest.mark.slow

WEBHOOK_URL = "https://bot.example.org/coopwatch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_health_port_wins_over_webhook_port_in_polling_mode() -> None:
    # The old .env.example: WEBHOOK_PORT=8443 (meaningless in polling mode), HEALTH_PORT=8080.
    settings = load_settings(webhook_port="8443", health_port="8080")
    assert settings.web_port_in_effect == 8080


def test_webhook_port_alone_opens_no_server_in_polling_mode() -> None:
    settings = load_settings(webhook_port="8443", webhook_listen="0.0.0.0")
    assert settings.web_port_in_effect is None
    assert "WEBHOOK_PORT is ignored in polling mode; remove it" in settings.deprecations()


def test_webhook_mode_reads_webhook_port() -> None:
    settings = load_settings(webhook_url=WEBHOOK_URL, webhook_port="88")
    assert settings.web_port_in_effect == 88
    same = load_settings(webhook_url=WEBHOOK_URL, webhook_port="9000", health_port="9000")
    assert same.web_port_in_effect == 9000


@pytest.mark.parametrize(
    "ports",
    [
        {"webhook_port": "8443", "health_port": "8080"},
        # WEBHOOK_PORT unset meant 8443: /health on 8080 was a second server all the same.
        {"health_port": "8080"},
    ],
)
def test_two_legacy_ports_in_webhook_mode_ask_for_web_port(ports: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(webhook_url=WEBHOOK_URL, **ports)
    assert "set WEB_PORT" in str(info.value)
    assert "8080" in str(info.value) and "8443" in str(info.value)


def test_web_port_wins_over_the_old_names() -> None:
    settings = load_settings(web_port="9100", webhook_port="8443", health_port="8080")
    assert settings.web_port_in_effect == 9100
    warnings = settings.deprecations()
    assert "HEALTH_PORT is ignored: WEB_PORT is set" in warnings
    assert "WEBHOOK_PORT is ignored: WEB_PORT is set" in warnings


def test_webhook_listen_is_read_as_web_listen_unless_web_listen_is_set() -> None:
    assert load_settings(webhook_listen="0.0.0.0").web_listen == "0.0.0.0"
    both = load_settings(webhook_listen="0.0.0.0", web_listen="127.0.0.1")
    assert both.web_listen == "127.0.0.1"
    assert "WEBHOOK_LISTEN is ignored: WEB_LISTEN is set" in both.deprecations()


@pytest.mark.parametrize(
    ("name", "value"),
    [("HEALTH_PORT", "abc"), ("WEBHOOK_PORT", "99999"), ("WEBHOOK_LISTEN", "everywhere")],
)
def test_an_error_names_the_variable_the_operator_set(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(f"{name}: expected")
    assert "WEB_PORT:" not in str(info.value) and "WEB_LISTEN:" not in str(info.value)


def test_the_cli_warns_about_each_old_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cw.db'}")
    monkeypatch.setenv("HEALTH_PORT", "8080")
    monkeypatch.setenv("WEBHOOK_LISTEN", "127.0.0.1")
    assert main(["db", "upgrade"]) == 0
    err = capsys.readouterr().err
    assert "HEALTH_PORT is deprecated and read as WEB_PORT; rename it" in err
    assert "WEBHOOK_LISTEN is deprecated and read as WEB_LISTEN; rename it" in err


def test_cli_webhook_flag_with_two_legacy_ports_is_a_config_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("HEALTH_PORT", "8080")
    monkeypatch.setenv("WEBHOOK_PORT", "8443")
    assert main(["run", "--webhook", WEBHOOK_URL]) == 2
    assert "set WEB_PORT" in capsys.readouterr().err


def test_old_env_example_serves_health_where_it_did(
    tmp_path: Path, fake_telegram: FakeTelegram
) -> None:
    """`coopwatch run` in polling mode with the old .env: /health on HEALTH_PORT, nothing on
    WEBHOOK_PORT."""
    health_port, webhook_port = free_port(), free_port()
    (tmp_path / ".env").write_text(
        f"WEBHOOK_LISTEN=127.0.0.1\nWEBHOOK_PORT={webhook_port}\nHEALTH_PORT={health_port}\n"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEFAULT_FEEDS": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cw.db'}",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_BASE_URL": fake_telegram.base_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{health_port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, "no /health on HEALTH_PORT"
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{webhook_port}/metrics", timeout=2)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, err
    assert "HEALTH_PORT is deprecated and read as WEB_PORT" in err
    assert "WEBHOOK_PORT is ignored in polling mode" in err
