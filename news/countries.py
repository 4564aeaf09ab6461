"""What a user types for a country ("Tajikistan", "таджикский", "tj") to its ISO code.

Built from news/data/countries.json: every English and Russian name, adjective and demonym,
plus the ISO code itself. A near miss ("Tajikstan") gets a suggestion, never a silent guess:
subscribing someone to the wrong country is worse than asking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from news import data

_FIELDS = ("names", "adjectives", "demonyms")
_CODE = re.compile(r"^(?:[A-Z]{2}|EU)$")
# Russian case endings, longest first: "Казахстана", "России", "Китаю" name the country too.
_RU_ENDINGS = ("ией", "ии", "ию", "ия", "ой", "ом", "ам", "а", "у", "е", "ю", "ы", "й", "я")
# A near miss of one or two letters scores 85-95 ("Tajikstan" 94.7, "Chna" 88.9, "Китаи" 80);
# an unrelated word that shares letters scores up to ~77 ("Narnia" ~ "armenia" 76.9,
# "Wakanda" ~ "rwanda" 76.9), and suggesting a real country for it misleads.
SUGGEST_CUTOFF = 80.0
# Longer text is refused unread: the longest name is about 40 characters, and fuzzy matching
# costs time in the length.
MAX_COUNTRY_TEXT = 100


def normalize(text: str) -> str:
    """Case, "ё", dots and spacing do not matter: "U.A.E." is "uae"."""
    text = text.casefold().replace("ё", "е").replace(".", "")
    return " ".join(re.sub(r"[^\w\s-]", " ", text).split())


def _ru_stem(word: str) -> str | None:
    if not re.search(r"[а-я]", word):
        return None
    for ending in _RU_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word if len(word) >= 4 else None


def _unambiguous(pairs: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for key, code in pairs:
        found.setdefault(key, set()).add(code)
    # A string that names two countries is not an answer to "which country?".
    return {key: codes.pop() for key, codes in found.items() if len(codes) == 1}


@cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """(exact spellings, Russian stems) to ISO codes."""
    pairs: list[tuple[str, str]] = []
    for code, entry in data.countries().items():
        if not _CODE.match(code) or not isinstance(entry, dict):
            continue
        pairs.append((code.casefold(), code))
        spellings = list(entry.get("name", {}).values())
        for field in _FIELDS:
            for words in entry.get(field, {}).values():
                spellings.extend(words)
        pairs.extend((normalize(word), code) for word in spellings if normalize(word))
    exact = _unambiguous(pairs)
    stems = _unambiguous([(s, code) for key, code in pairs if (s := _ru_stem(key))])
    return exact, stems


def resolve_country(text: str) -> str | None:
    """The ISO code ``text`` names (any case, English or Russian), or None."""
    key = normalize(text)
    if not key:
        return None
    exact, stems = _tables()
    if key in exact:
        return exact[key]
    stem = _ru_stem(key)
    return stems.get(stem) if stem else None


def suggest_country(text: str) -> str | None:
    """The country ``text`` probably meant ("Tajikstan" → "TJ"), or None when nothing is close."""
    key = normalize(text)
    if len(key) < 3:
        return None
    # Imported for a near miss only: a name that resolves (`export --country TJ`) needs no
    # fuzzy matching (issue 14: a fast CLI start).
    from rapidfuzz import fuzz, process

    exact, _ = _tables()
    best = process.extractOne(key, list(exact), scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF)
    return exact[best[0]] if best else None


@dataclass(frozen=True, slots=True)
class CountryLookup:
    """What a typed country named: its code; else the country it probably meant, if any."""

    code: str | None
    suggestion: str | None = None
    too_long: bool = False


def look_up_country(text: str) -> CountryLookup:
    """``text`` as a country, with a "did you mean" for a near miss (the CLI, the web, /export)."""
    text = text.strip()
    if len(text) > MAX_COUNTRY_TEXT:
        return CountryLookup(None, too_long=True)
    code = resolve_country(text)
    return CountryLookup(code) if code else CountryLookup(None, suggest_country(text))
