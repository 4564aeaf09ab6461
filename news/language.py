"""Per-item language detection: English or Russian.

The feeds we read publish in exactly these two languages, so a share-of-script test is enough
and costs nothing; a statistical detector would only add a model to ship.
"""

from __future__ import annotations

import re
from typing import Final

# "[x][x]*", not "[x]+": `re` skips ahead to a character of a leading class, but tries a full
# match at every position of a pattern that starts with a repeat (issue 14).
_LETTERS: Final = re.compile(r"[^\W\d_][^\W\d_]*")
# U+0482..U+0489 are a sign and combining marks: Cyrillic, but not letters.
_CYRILLIC_LETTER: Final = re.compile(r"[\u0400-\u0481\u048A-\u04FF]")

# Russian text quotes Latin names (Kazinform, UzDaily.com) and English text rarely quotes
# Cyrillic, so a minority of Cyrillic letters already means a Russian item.
RUSSIAN_SHARE = 0.3


def cyrillic_share(text: str) -> float:
    """Share of Cyrillic letters among all letters of ``text`` (0.0 when it has none)."""
    # Counted as what a deletion removes: one C call each, no list of runs to build.
    letters = len(text) - len(_LETTERS.sub("", text))
    if letters == 0:
        return 0.0
    return cyrillic_count(text) / letters


def cyrillic_count(text: str) -> int:
    """How many characters of ``text`` are in the Cyrillic block, U+0400..U+04FF.

    As UTF-16 those are the code units whose high byte is 4 (a character outside the Basic
    Multilingual Plane is two surrogates, whose high bytes are 0xD8..0xDF): counted by two
    passes in C, where `_CYRILLIC.sub` made a match for every Cyrillic word (issue 14).
    """
    return text.encode("utf-16-le", "surrogatepass")[1::2].count(4)


SAMPLE_CHARS = 800  # the script of an item is clear long before its end


def detect_language(text: str) -> str:
    """Return "ru" when enough of the letters are Cyrillic, else "en"."""
    text = text[:SAMPLE_CHARS]
    # Counting letters is the costly half of the share (a Unicode category per character), and
    # it is rarely needed: without Cyrillic the share is 0, and a text with a letter whose
    # characters are at least RUSSIAN_SHARE Cyrillic has at least that share of its letters.
    if text.isascii():  # a flag of the string: no scan at all
        return "en"
    cyrillic = cyrillic_count(text)
    if cyrillic == 0:
        return "en"
    if cyrillic / len(text) >= RUSSIAN_SHARE and _CYRILLIC_LETTER.search(text) is not None:
        return "ru"
    return "ru" if cyrillic_share(text) >= RUSSIAN_SHARE else "en"
