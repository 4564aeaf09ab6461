"""pytest fixtures for the fake Telegram server.

Registered for the whole suite with ``pytest_plugins = ["tests.fakebot.fixtures"]``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from tests.fakebot.server import FakeTelegram


def plain_http_request(**kwargs: Any) -> HTTPXRequest:
    """PTB's real HTTPXRequest, minus loading the CA bundle the fake's plain HTTP never uses.

    Loading certifi costs ~0.1 s per request object (a Bot has two); pass this to
    ``ApplicationBuilder().request(...)`` / ``.get_updates_request(...)`` to keep tests fast.
    """
    return HTTPXRequest(httpx_kwargs={"verify": False}, **kwargs)


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A running fake Bot API server, fresh for each test (starts and stops in milliseconds)."""
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def fake_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    """An initialized telegram.Bot talking to `fake_telegram` over real HTTP."""
    bot = Bot(
        fake_telegram.token,
        base_url=fake_telegram.base_url,
        base_file_url=fake_telegram.base_file_url,
        request=plain_http_request(),
        get_updates_request=plain_http_request(),
    )
    async with bot:
        yield bot
