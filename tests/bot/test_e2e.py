"""The real Application, end to end, against the fake Bot API and in console mode."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.app import build_application
from bot.console import CONSOLE_TOKEN, ConsoleRequest, html_to_console
from coopwatch.settings import Settings
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram

pytestmark = pytest.mark.slow

USER = 4242


async def test_start_registers_and_welcomes(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/start", language_code="en")
        [welcome] = await fake_telegram.wait_for_messages(USER)
        assert "Welcome to coopwatch" in welcome.text
        assert "subscribed to all five states" in welcome.text
        fake_telegram.send_user_message(USER, "/start")
        messages = await fake_telegram.wait_for_messages(USER, 2)
        assert "Welcome back" in messages[1].text


async def test_russian_user_gets_russian(settings: Settings, fake_telegram: FakeTelegram) -> None:
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/start", language_code="ru")
        [welcome] = await fake_telegram.wait_for_messages(USER)
        assert "Добро пожаловать" in welcome.text


async def test_help_lists_commands_and_admin_commands_only_for_admins(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    settings = settings.model_copy(update={"admin_ids": frozenset({7})})
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/help")
        [reply] = await fake_telegram.wait_for_messages(USER)
        assert "/start" in reply.text and "/help" in reply.text
        assert "/addfeed" not in reply.text
        fake_telegram.send_user_message(7, "/help")
        [admin_reply] = await fake_telegram.wait_for_messages(7)
        assert "/addfeed" in admin_reply.text and "/pollnow" in admin_reply.text


async def test_commands_are_published_in_both_languages(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with running_bot(settings, fake_telegram):
        assert "start" in fake_telegram.commands_for("default", "")
        assert "help" in fake_telegram.commands_for("default", "ru")
        assert "addfeed" not in fake_telegram.commands_for("default", "")


async def test_unknown_command_and_plain_text(
    settings: Settings, fake_telegram: FakeTelegram
) -> None:
    async with running_bot(settings, fake_telegram):
        fake_telegram.send_user_message(USER, "/frobnicate")
        [unknown] = await fake_telegram.wait_for_messages(USER)
        assert unknown.text == "I don't know that command — try /help"
        fake_telegram.send_user_message(USER, "hello there")
        messages = await fake_telegram.wait_for_messages(USER, 2)
        assert "/help" in messages[1].text


async def test_error_handler_tells_the_chat_and_keeps_running(
    settings: Settings, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(settings, fake_telegram) as app:
        # Break the database under the running bot: /start then fails inside the handler.
        app.bot_data.opened().db.engine.dispose()
        db_file = Path(settings.database_url.removeprefix("sqlite:///"))
        db_file.unlink()
        db_file.mkdir()  # now it cannot be opened at all
        with caplog.at_level(logging.ERROR):
            fake_telegram.send_user_message(USER, "/start")
            [reply] = await fake_telegram.wait_for_messages(USER)
        assert reply.text.startswith("I can't reach my database right now")
        assert any("error while handling update" in r.getMessage() for r in caplog.records)
        fake_telegram.send_user_message(USER, "/nothing")
        await fake_telegram.wait_for_messages(USER, 2)  # still answering


async def test_token_never_in_logs(
    settings: Settings, fake_telegram: FakeTelegram, capfd: pytest.CaptureFixture[str]
) -> None:
    from bot.logs import configure_logging

    configure_logging(logging.DEBUG, secrets=[fake_telegram.token])
    try:
        async with running_bot(settings, fake_telegram):
            fake_telegram.send_user_message(USER, "/start")
            await fake_telegram.wait_for_messages(USER)
    finally:
        configure_logging(logging.WARNING)
    err = capfd.readouterr().err
    assert "sendMessage" in err  # httpx's request lines were logged at DEBUG…
    assert fake_telegram.token not in err  # …with the token redacted


def test_html_to_console_is_readable() -> None:
    text = 'Hi <b>there</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a>'
    assert html_to_console(text) == "Hi there & link <https://x.org/?a=1&b=2>"


async def test_console_mode_runs_the_same_application(settings: Settings) -> None:
    read_fd, write_fd = os.pipe()
    output = io.StringIO()
    request = ConsoleRequest(input_stream=os.fdopen(read_fd, "r"), output=output)
    app = build_application(settings, request=request, token=CONSOLE_TOKEN)
    stopped = asyncio.Event()
    request.on_eof = stopped.set
    async with app:
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        with os.fdopen(write_fd, "w") as typing:
            typing.write("/start\n")
            typing.flush()
            for _ in range(100):
                if "Welcome to coopwatch" in output.getvalue():
                    break
                await asyncio.sleep(0.05)
            typing.write("/help\n")
            typing.flush()
            for _ in range(100):
                if "/help — What I can do" in output.getvalue():
                    break
                await asyncio.sleep(0.05)
        await asyncio.wait_for(stopped.wait(), 5)  # Ctrl-D
        await app.updater.stop()
        await app.stop()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
    shown = output.getvalue()
    assert "Welcome to coopwatch! 🤝" in shown and "<b>" not in shown
    assert "/help — What I can do" in shown


def _run_cli(
    tmp_path: Path, env_extra: dict[str, str], stdin: int | None = None
) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEFAULT_FEEDS": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cw.db'}",
        **env_extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdin=stdin if stdin is not None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_console_mode_process_ends_cleanly_on_ctrl_d(tmp_path: Path) -> None:
    proc = _run_cli(tmp_path, {})
    assert proc.stdin is not None
    # Type, wait for the answer, then close stdin (Ctrl-D).
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    proc.stdin.write("/start\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any("Welcome" in line for line in lines):
        time.sleep(0.1)
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    reader.join(5)
    err = proc.stderr.read() if proc.stderr else ""
    shown = "".join(lines)
    assert "console mode" in shown and "TELEGRAM_BOT_TOKEN" in shown
    assert "Welcome to coopwatch" in shown
    assert "Traceback" not in err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_bot_stops_cleanly_on_signal(
    tmp_path: Path, fake_telegram: FakeTelegram, sig: signal.Signals
) -> None:
    proc = _run_cli(
        tmp_path,
        {"TELEGRAM_BOT_TOKEN": fake_telegram.token, "TELEGRAM_BASE_URL": fake_telegram.base_url},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not fake_telegram.calls("getUpdates"):
        time.sleep(0.1)
    assert fake_telegram.calls("getUpdates"), "the bot never started polling"
    fake_telegram.send_user_message(USER, "/start")
    while time.monotonic() < deadline and not fake_telegram.messages(USER):
        time.sleep(0.1)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == 0
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err
    assert "coopwatch stopped" in err  # post_shutdown ran: database closed
    assert fake_telegram.token not in err
