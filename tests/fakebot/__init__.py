"""A fake Telegram Bot API server for driving the real python-telegram-bot stack in tests.

Use the `fake_telegram` fixture (tests/fakebot/fixtures.py) or `FakeTelegram` directly, and
point PTB at it: ``ApplicationBuilder().token(fake.token).base_url(fake.base_url)``.
"""

from tests.fakebot.html import Entity, EntityParseError, FormattedText, parse_html, utf16_len
from tests.fakebot.limits import Rate, RateLimits, Throttle
from tests.fakebot.server import DEFAULT_TOKEN, FakeTelegram
from tests.fakebot.state import AnsweredCallback, ApiRequest, Button, StoredMessage

__all__ = [
    "DEFAULT_TOKEN",
    "AnsweredCallback",
    "ApiRequest",
    "Button",
    "Entity",
    "EntityParseError",
    "FakeTelegram",
    "FormattedText",
    "Rate",
    "RateLimits",
    "StoredMessage",
    "Throttle",
    "parse_html",
    "utf16_len",
]
