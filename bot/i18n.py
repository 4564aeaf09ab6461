"""The bot's words in English and Russian (bot/locales/*.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "ru")
LOCALES = Path(__file__).parent / "locales"


@cache
def _catalog(lang: str) -> dict[str, str]:
    with (LOCALES / f"{lang}.json").open(encoding="utf-8") as fh:
        data: dict[str, str] = json.load(fh)
    return data


def language_of(code: str | None) -> str:
    """Map a Telegram ``language_code`` ("ru", "ru-RU", "uk", None) to one we speak."""
    if code and code.lower().split("-")[0] in ("ru", "be", "kk", "ky", "uz", "tg", "tk"):
        # Users whose interface is in a regional language read Russian more often than
        # English; English stays the fallback for everyone else.
        return "ru"
    return "en"


def t(lang: str, key: str, /, *, default: str | None = None, **values: object) -> str:
    """The text ``key`` in ``lang`` (English when missing), formatted with ``values``."""
    catalog = _catalog(lang if lang in LANGUAGES else "en")
    text = catalog.get(key) or _catalog("en").get(key)
    if text is None:
        if default is None:
            raise KeyError(f"no text {key!r} in the locales")
        return default
    return text.format(**values) if values else text
