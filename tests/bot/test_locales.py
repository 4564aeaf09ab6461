"""One string table per language: every word the bot, the web page and the exports show
comes from bot/locales/*.json, and the event types are named alike everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, section, t
from bot.render import event_type_name
from news.records import EVENT_TYPES

LOCALES = Path(__file__).resolve().parents[2] / "bot" / "locales"


def _pairs(lang: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = json.loads(
        (LOCALES / f"{lang}.json").read_text(encoding="utf-8"),
        object_pairs_hook=list,
    )
    return pairs


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_key_is_written_twice(lang: str) -> None:
    keys = [key for key, _ in _pairs(lang)]
    assert len(keys) == len(set(keys))


def test_both_languages_have_the_same_keys() -> None:
    """Apart from the plural forms (English one/other, Russian one/few/many)."""
    english, russian = (
        {key.rsplit("_", 1)[0] if key.startswith("count_") else key for key, _ in _pairs(lang)}
        for lang in LANGUAGES
    )
    assert english ^ russian == set()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", EVENT_TYPES)
def test_settings_list_the_alerts_type_names(lang: str, kind: str) -> None:
    """/settings says "talks" where the alert says "talks" (it said "meetings")."""
    singular, plural = event_type_name(kind, lang), t(lang, f"type_{kind}")
    stem = singular.split()[-1][:4]
    assert plural.split()[-1].startswith(stem), (singular, plural)


def test_web_words_come_from_the_locales() -> None:
    assert section("ru", "web_")["heading"] == "События двустороннего сотрудничества"
    assert section("xx", "web_") == section("en", "web_")
