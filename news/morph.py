"""Russian lemmatisation with pymorphy3, cached per word form.

News vocabulary is small and repetitive (names, offices, verbs of diplomacy), so caching the
lemmas of each distinct form is what makes thousands of items per second possible: pymorphy3
costs tens of microseconds per call, a cache hit well under one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pymorphy3

_ANALYZER: pymorphy3.MorphAnalyzer | None = None
# How many alternative parses to keep: unknown surnames ("Мирзиеев") get several guesses and
# the right normal form is often not the first one.
MAX_PARSES = 4


def _analyzer() -> pymorphy3.MorphAnalyzer:
    global _ANALYZER
    if _ANALYZER is None:  # loaded lazily: building it takes about half a second
        # Imported here too: commands that never lemmatise (`coopwatch export`) start faster.
        import pymorphy3

        _ANALYZER = pymorphy3.MorphAnalyzer()
    return _ANALYZER


def normalise(word: str) -> str:
    """Lower-case and fold ё into е, as news sites spell both (Мирзиёев / Мирзиеев)."""
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=262_144)
def lemmas(word: str) -> tuple[str, ...]:
    """Distinct normal forms of a Russian word form, the most likely first.

    >>> lemmas("Таджикистана")
    ('таджикистан',)
    """
    form = normalise(word)
    seen: dict[str, None] = {}
    for parse in _analyzer().parse(form)[:MAX_PARSES]:
        seen.setdefault(normalise(parse.normal_form), None)
    return tuple(seen) or (form,)


@lru_cache(maxsize=262_144)
def lemma(word: str) -> str:
    """The most likely normal form of a Russian word form."""
    return lemmas(word)[0]


# A reading that pymorphy3 gives less than this share of a form's score is too rare to count
# where a false match costs more than a miss: "стали" is "стать" (became) 97% of the time,
# "сталь" (steel) 2%, and a /filter on steel must not fire on every "стали ближе".
LIKELY_SHARE = 0.1


@lru_cache(maxsize=262_144)
def likely_lemmas(word: str) -> tuple[str, ...]:
    """The normal forms of a Russian word form that hold at least LIKELY_SHARE of its score,
    the most likely first.

    >>> likely_lemmas("стали")
    ('стать',)
    """
    form = normalise(word)
    scores: dict[str, float] = {}
    for parse in _analyzer().parse(form):
        normal = normalise(parse.normal_form)
        scores[normal] = scores.get(normal, 0.0) + parse.score
    total = sum(scores.values())
    if total <= 0:
        return lemmas(word)
    ranked = sorted(scores, key=lambda normal: -scores[normal])
    return tuple(normal for normal in ranked if scores[normal] >= LIKELY_SHARE * total) or (form,)
