"""Webhook mode: the real Application behind PTB's webhook server, against the fake Bot API.

The fake plays Telegram's part twice: it answers the bot's API calls, and the test POSTs the
updates it queued to the bot's webhook port, as Telegram would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from bot.cli import main
from bot.web.server import refuse_updates, serve_webhook
from coopwatch.settings import ConfigError, Settings, load_settings
from tests.fakebot.server import FakeTelegram

USER = 4242
WEBHOOK_URL = "https://bot.example.org/coopwatch"
SECRET = "test-secret_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def queued_update(fake: FakeTelegram, text: str) -> dict[str, Any]:
    """A user's message as Telegram would POST it: queued by the fake, then taken back."""
    fake.send_user_message(USER, text)
    with fake.changed:
        update: dict[str, Any] = fake.state.updates.pop()
    return update


@asynccontextmanager
async def webhook_bot(
    settings: Settings, fake: FakeTelegram
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """`coopwatch run --webhook` in the test's event loop, stopped when the test is done."""
    settings = settings.model_copy(
        update={
            "telegram_bot_token": fake.token,
            "telegram_base_url": fake.base_url,
            "webhook_url": WEBHOOK_URL,
            "webhook_secret": SECRET,
            "web_port": free_port(),
        }
    )
    app = build_application(settings, parse_in_processes=False)
    stopped = asyncio.Event()
    serving = asyncio.create_task(
        serve_webhook(app, settings, stopped, allowed_updates=ALLOWED_UPDATES)
    )
    deadline = time.monotonic() + 20
    while not (app.running and fake.calls("setWebhook")):
        assert not serving.done(), serving.exception()
        assert time.monotonic() < deadline, "the webhook bot never started"
        await asyncio.sleep(0.02)
    try:
        yield app
    finally:
        stopped.set()
        await asyncio.wait_for(serving, 30)


def hook_url(app: Application[Any, Any, Any, Any, Any, Any]) -> str:
    settings: Settings = app.bot_data.opened().settings
    return f"http://127.0.0.1:{settings.web_port}/coopwatch"


async def test_webhook_is_registered_with_its_secret(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with webhook_bot(settings, fake_telegram):
        [call] = fake_telegram.calls("setWebhook")
        assert call.params["url"] == WEBHOOK_URL
        assert call.params["secret_token"] == SECRET
        assert "message" in call.params["allowed_updates"]
        assert not fake_telegram.calls("getUpdates")  # no long polling in webhook mode


async def test_update_with_the_secret_gets_the_welcome(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with webhook_bot(settings, fake_telegram) as app, httpx.AsyncClient() as client:
        update = queued_update(fake_telegram, "/start")
        answer = await client.post(hook_url(app), json=update, headers={SECRET_HEADER: SECRET})
        assert answer.status_code == 200
        [welcome] = await fake_telegram.wait_for_messages(USER)
        assert "Welcome to coopwatch" in welcome.text


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong-secret"}], ids=["none", "wrong"])
async def test_update_without_the_secret_is_refused(
    settings: Settings, fake_telegram: FakeTelegram, headers: dict[str, str]
) -> None:
    async with webhook_bot(settings, fake_telegram) as app, httpx.AsyncClient() as client:
        forged = queued_update(fake_telegram, "/start")
        refused = await client.post(hook_url(app), json=forged, headers=headers)
        assert refused.status_code == 403
        # A genuine update after it is answered, and it is the only thing answered.
        genuine = queued_update(fake_telegram, "/help")
        accepted = await client.post(hook_url(app), json=genuine, headers={SECRET_HEADER: SECRET})
        assert accepted.status_code == 200
        [reply] = await fake_telegram.wait_for_messages(USER)
        assert "/help" in reply.text and "Welcome" not in reply.text


def test_webhook_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_URL: expected a public https URL"):
        load_settings(webhook_url="http://bot.example.org/hook")
    for unreachable in ("https://127.0.0.1/hook", "https://localhost/hook", "https://10.0.0.2/"):
        with pytest.raises(ConfigError, match="WEBHOOK_URL"):
            load_settings(webhook_url=unreachable)
    with pytest.raises(ConfigError, match="WEBHOOK_URL"):
        load_settings(webhook_url="https://bot.example.org:9000/hook")  # Telegram won't call it
    with pytest.raises(ConfigError) as bad_secret:
        load_settings(webhook_secret="no spaces or ! allowed")
    assert "WEBHOOK_SECRET" in str(bad_secret.value) and "allowed" not in str(bad_secret.value)
    with pytest.raises(ConfigError, match="WEB_LISTEN"):
        load_settings(web_listen="everywhere")


def test_webhook_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "WEB_LISTEN", "WEB_PORT"):
        monkeypatch.delenv(name, raising=False)
    polling = load_settings()
    assert polling.webhook_url is None and polling.web_port_in_effect is None
    monkeypatch.setenv("WEBHOOK_URL", WEBHOOK_URL)
    monkeypatch.setenv("WEBHOOK_SECRET", "")
    webhook, again = load_settings(), load_settings()
    assert webhook.webhook_url == WEBHOOK_URL
    assert (webhook.web_listen, webhook.web_port_in_effect) == ("127.0.0.1", 8443)
    # No secret configured: a fresh one per start, in Telegram's alphabet, never in repr.
    assert webhook.webhook_secret != again.webhook_secret
    assert len(webhook.webhook_secret) >= 32
    assert webhook.webhook_secret not in repr(webhook)


def test_cli_refuses_a_webhook_url_telegram_cannot_use(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--webhook", "http://bot.example.org/hook"])
    assert exit_.value.code == 2
    assert "expected a public https URL" in capsys.readouterr().err


@pytest.mark.slow
def test_coopwatch_run_webhook_process(tmp_path: Path, fake_telegram: FakeTelegram) -> None:
    """The console script end to end: generated secret, /health, SIGTERM, nothing leaked."""
    web_port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEFAULT_FEEDS": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cw.db'}",
        "TELEGRAM_BOT_TOKEN": fake_telegram.token,
        "TELEGRAM_BASE_URL": fake_telegram.base_url,
        "WEB_PORT": str(web_port),
        "LOG_LEVEL": "DEBUG",  # PTB logs every API call's parameters, setWebhook's secret too
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--webhook", WEBHOOK_URL],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        secret = _wait_for_webhook_secret(fake_telegram, proc, web_port)
        hook = f"http://127.0.0.1:{web_port}/coopwatch"
        with httpx.Client() as client:
            refused = client.post(hook, json=queued_update(fake_telegram, "/start"))
            assert refused.status_code == 403
            update = queued_update(fake_telegram, "/start")
            assert client.post(hook, json=update, headers={SECRET_HEADER: secret}).is_success
            health = client.get(f"http://127.0.0.1:{web_port}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not fake_telegram.messages(USER):
            time.sleep(0.05)
        [welcome] = fake_telegram.messages(USER)
        assert "Welcome to coopwatch" in welcome.text
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 0, err
    assert "Traceback" not in err
    assert "coopwatch stopped" in err
    assert "setWebhook" in err  # the API call was logged at DEBUG…
    assert secret not in err and fake_telegram.token not in err  # …with both secrets redacted


def _wait_for_webhook_secret(fake: FakeTelegram, proc: subprocess.Popen[str], port: int) -> str:
    """The secret the bot gave setWebhook, once its webhook server listens."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        calls = fake.calls("setWebhook")
        # setWebhook comes just before the server listens: the first POST must not race it.
        if calls and _accepts_connections(port):
            return str(calls[0].params["secret_token"])
        time.sleep(0.05)
    err = proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
    raise AssertionError(f"the bot never set its webhook: {err}")


def _accepts_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


async def test_a_malformed_webhook_call_is_refused_and_the_next_one_served(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with webhook_bot(settings, fake_telegram) as app, httpx.AsyncClient() as client:
        headers = {SECRET_HEADER: SECRET}
        for body in (b"not json", b"[1, 2]", b'{"update_id": "x", "message": 5}'):
            answer = await client.post(hook_url(app), content=body, headers=headers)
            assert answer.status_code == 400, body
        huge = b'{"update_id": 1, "pad": "' + b"a" * (2 << 20) + b'"}'
        assert (await client.post(hook_url(app), content=huge, headers=headers)).status_code == 413
        update = queued_update(fake_telegram, "/start")
        assert (await client.post(hook_url(app), json=update, headers=headers)).status_code == 200
        [welcome] = await fake_telegram.wait_for_messages(USER)
        assert "Welcome to coopwatch" in welcome.text


async def test_an_update_still_arriving_when_the_bot_stops_gets_503(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    """Telegram's call began before the stop, its body ends after: 503, so Telegram sends it
    again, rather than 200 for an update no handler will ever see."""
    async with webhook_bot(settings, fake_telegram) as app:
        port = app.bot_data.opened().settings.web_port
        body = json.dumps(queued_update(fake_telegram, "/start")).encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /coopwatch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"{SECRET_HEADER}: {SECRET}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        await writer.drain()
        await asyncio.sleep(0.3)  # the route has started reading the body
        refuse_updates(app)  # what serve_webhook does first when it stops
        writer.write(body[10:])
        await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert app.update_queue.empty()
