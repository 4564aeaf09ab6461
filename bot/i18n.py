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


def plural_form(lang: str, n: int) -> str:
    """CLDR's plural category of ``n``: English one/other; Russian one/few/many."""
    if lang != "ru":
        return "one" if n == 1 else "other"
    if n % 10 == 1 and n % 100 != 11:
        return "one"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return "few"
    return "many"


def count_of(lang: str, noun: str, n: int) -> str:
    """ "1 item", "5 items", "1 запись", "3 записи", "5 записей": the locale keys
    ``count_<noun>_<form>``, formatted with ``n``."""
    return t(lang, f"count_{noun}_{plural_form(lang, n)}", n=n)
