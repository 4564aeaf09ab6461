"""Per-item language detection: English or Russian.

The feeds we read publish in exactly these two languages, so a share-of-script test is enough
and costs nothing; a statistical detector would only add a model to ship.
"""

from __future__ import annotations

import re

_LETTERS = re.compile(r"[^\W\d_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]+")

# Russian text quotes Latin names (Kazinform, UzDaily.com) and English text rarely quotes
# Cyrillic, so a minority of Cyrillic letters already means a Russian item.
RUSSIAN_SHARE = 0.3


def cyrillic_share(text: str) -> float:
    """Share of Cyrillic letters among all letters of ``text`` (0.0 when it has none)."""
    # Counted as what a deletion removes: one C call each, no list of runs to build.
    letters = len(text) - len(_LETTERS.sub("", text))
    if letters == 0:
        return 0.0
    return (len(text) - len(_CYRILLIC.sub("", text))) / letters


SAMPLE_CHARS = 800  # the script of an item is clear long before its end


def detect_language(text: str) -> str:
    """Return "ru" when enough of the letters are Cyrillic, else "en"."""
    return "ru" if cyrillic_share(text[:SAMPLE_CHARS]) >= RUSSIAN_SHARE else "en"
