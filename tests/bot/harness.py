"""Run the real Application against the fake Bot API inside a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, build_application
from coopwatch.settings import Settings
from tests.fakebot.server import FakeTelegram


@asynccontextmanager
async def running_bot(
    settings: Settings, fake: FakeTelegram, **kwargs: Any
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """What `run_polling` does, step by step, so the test owns the event loop."""
    settings = settings.model_copy(
        update={"telegram_bot_token": fake.token, "telegram_base_url": fake.base_url}
    )
    # Parsing in worker processes costs a process start per test; the CLI tests cover it.
    kwargs.setdefault("parse_in_processes", False)
    app = build_application(settings, **kwargs)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)
        assert app.post_shutdown is not None
        await app.post_shutdown(app)
        await app.shutdown()
