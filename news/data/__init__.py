"""The bundled data files, each read by one loader here and cached for the process.

countries.json was read by four modules (the gazetteer, the country look-up, the place
finder of news/facts.py and the alert renderer), each parsing it on its own; now each file has
one loader and every reader shares its result. The parsed JSON is shared: callers must not
modify it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent


class DataFileError(Exception):
    """A bundled data file is missing or is not valid JSON."""


def read_json(path: Path) -> Any:
    """Parse one JSON file; a missing or malformed file is a DataFileError naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(f"cannot read {path}: {exc}") from exc


@cache
def countries() -> dict[str, Any]:
    """countries.json: names, adjectives, demonyms, capitals and cities per ISO code
    (schema in docs/gazetteer.md); keys starting with "_" are not countries."""
    data: dict[str, Any] = read_json(DATA_DIR / "countries.json")
    return data


@cache
def officials() -> list[Any]:
    """officials.json: office holders and their terms (schema in docs/gazetteer.md)."""
    data: list[Any] = read_json(DATA_DIR / "officials.json")
    return data


@cache
def lexicon() -> dict[str, Any]:
    """lexicon.json: trigger words, office words and cues, by category and language."""
    data: dict[str, Any] = read_json(DATA_DIR / "lexicon.json")
    return data


@cache
def topics() -> dict[str, Any]:
    """topics.json: the fixed list of topics, in the order shown to users."""
    data: dict[str, Any] = read_json(DATA_DIR / "topics.json")
    return data


@cache
def default_feeds() -> tuple[tuple[str, str, str | None], ...]:
    """default_feeds.json: (URL, title, language) of the bundled Central Asian outlets."""
    data = read_json(DATA_DIR / "default_feeds.json")
    entries = data["feeds"] if isinstance(data, dict) else data
    return tuple((entry["url"], entry["title"], entry.get("language")) for entry in entries)
