"""Classifier input: HTML-remnant cleanup, sentence splitting, tokens and phrase matching.

Words are split on hyphens and apostrophes, so "узбекско-таджикский" gives a compound prefix
and an adjective, "Kazakh-Chinese" two adjectives and "Tajikistan's" the country; gazetteer and
lexicon phrases are tokenised the same way, so both sides always agree.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

from news.morph import lemmas, normalise

T = TypeVar("T")

_TAG = re.compile(r"<[^<>]{0,500}>")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\u200b-\u200f\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_BOUNDARY = re.compile(r"[.!?…]+[\"»”')\]]*[ \t]+|\s*\n\s*")
_LAST_WORD = re.compile(r"([^\W\d_]+)[.!?…]*[\"»”')\]]*[ \t]*$")

# A period after these does not end a sentence ("Nov. 29", "Mr. Mirziyoyev", "г. Ташкент").
_ABBREVIATION_WORDS = (
    "mr mrs ms dr st no jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sen rep "
    "prof inc co ltd corp vs etc u s г гг им т е ул д р млн млрд тыс проф см"
)
ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def clean_text(text: str) -> str:
    """Drop HTML tags and entities, control characters and runs of spaces; keep line breaks."""
    text = html.unescape(_TAG.sub(" ", text))
    text = _JUNK.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Split cleaned text into sentences at ., !, ?, … and at line breaks."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if "\n" not in match.group() and not _ends_sentence(text, start, match):
            continue
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _ends_sentence(text: str, start: int, match: re.Match[str]) -> bool:
    following = text[match.end() : match.end() + 1]
    if following.islower():
        return False
    last = _LAST_WORD.search(text, max(start, match.start() - 40), match.end())
    if last is None or not match.group().startswith("."):
        return True
    word = last.group(1)
    # An initial ("S. Jaishankar") or an abbreviation keeps the sentence going.
    return not (len(word) == 1 and word.isupper()) and word.lower() not in ABBREVIATIONS


class Token(NamedTuple):
    """One word of a sentence with the keys it can match on.

    A NamedTuple rather than a frozen dataclass: a sentence makes dozens of tokens and a
    frozen dataclass's __init__ costs several times more, which matters at 2,000 items/s.
    """

    text: str
    start: int
    end: int
    forms: tuple[str, ...]  # lower-cased surface, plus pymorphy3 lemmas for Cyrillic words

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


@lru_cache(maxsize=262_144)
def word_forms(word: str) -> tuple[str, ...]:
    """Match keys of one word: its lower-cased form and, if Cyrillic, its lemmas."""
    lower = normalise(word)
    if _CYRILLIC.search(word) is None:
        return (lower,)
    return (lower, *(form for form in lemmas(word) if form != lower))


def tokenize(sentence: str) -> list[Token]:
    """Words (letters and digits) of a sentence with their offsets and match keys."""
    tokens = []
    for m in _WORD.finditer(sentence):
        word = m.group()
        tokens.append(Token(word, *m.span(), word_forms(word)))
    return tokens


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """Tokens ``start``..``end`` (exclusive) matched a phrase carrying ``payloads``."""

    start: int
    end: int
    payloads: tuple[T, ...]


class PhraseMatcher(Generic[T]):
    """Finds known phrases in token lists with dict look-ups over token n-grams.

    A pattern token matches a text token when their key sets intersect, so one entry written
    in dictionary form ("министр иностранных дел") finds every inflected form. Phrases are
    indexed by their first two keys, so "Republic of ..." does not try ninety countries.
    """

    def __init__(self) -> None:
        self._single: dict[str, list[T]] = {}
        # first key -> second key -> remaining pattern -> payloads
        self._longer: dict[str, dict[str, dict[tuple[frozenset[str], ...], list[T]]]] = {}
        self._first: set[str] = set()  # every key a phrase can start with, for a fast skip

    def add(self, phrase: str, payload: T, *, inflect: bool = True) -> None:
        """Register ``phrase`` (tokenised like text); the same phrase may carry several payloads.

        ``inflect=False`` matches the phrase's words only as written (after lemmatising the
        text): a surname in the nominative must not be lemmatised itself, because pymorphy3
        reads "Саидов" as a plural of the first name "Саид".
        """
        words = _WORD.findall(phrase)
        if not words:
            return
        pattern = tuple(
            frozenset(word_forms(word) if inflect else (normalise(word),)) for word in words
        )
        self._first.update(pattern[0])
        for key in pattern[0]:
            if len(pattern) == 1:
                _append(self._single.setdefault(key, []), payload)
                continue
            seconds = self._longer.setdefault(key, {})
            for key2 in pattern[1]:
                _append(seconds.setdefault(key2, {}).setdefault(pattern[2:], []), payload)

    def add_all(self, phrases: Iterable[str], payload: T, *, inflect: bool = True) -> None:
        for phrase in phrases:
            self.add(phrase, payload, inflect=inflect)

    def find(self, tokens: Sequence[Token]) -> list[Match[T]]:
        """Longest non-overlapping matches, left to right."""
        found: list[Match[T]] = []
        first = self._first
        i = 0
        while i < len(tokens):
            if first.isdisjoint(tokens[i].forms):
                i += 1
                continue
            best = self._longest_at(tokens, i)
            if best is None:
                i += 1
                continue
            found.append(best)
            i = best.end
        return found

    def _longest_at(self, tokens: Sequence[Token], i: int) -> Match[T] | None:
        best_len = 0
        payloads: list[T] = []
        forms = tokens[i].forms
        if i + 1 < len(tokens):
            for key in forms:
                seconds = self._longer.get(key)
                if not seconds:
                    continue
                for key2 in tokens[i + 1].forms:
                    for rest, bucket in seconds.get(key2, {}).items():
                        size = len(rest) + 2
                        if size < best_len or not _rest_matches(rest, tokens, i + 2):
                            continue
                        if size > best_len:
                            best_len, payloads = size, []
                        for p in bucket:
                            _append(payloads, p)
        if not best_len:
            for key in forms:
                for p in self._single.get(key, ()):
                    best_len = 1
                    _append(payloads, p)
        return Match(i, i + best_len, tuple(payloads)) if best_len else None


def _rest_matches(rest: tuple[frozenset[str], ...], tokens: Sequence[Token], at: int) -> bool:
    if at + len(rest) > len(tokens):
        return False
    for k, part in enumerate(rest):  # noqa: SIM110 - a plain loop: this is the hot path
        if part.isdisjoint(tokens[at + k].forms):
            return False
    return True


def _append(items: list[T], item: T) -> None:
    if item not in items:
        items.append(item)
