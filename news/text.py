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
from typing import Generic, TypeVar

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
ABBREVIATIONS = frozenset(
    "mr mrs ms dr st no jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sen rep "
    "prof inc co ltd corp vs etc u s г гг им т е ул д р млн млрд тыс проф см".split()
)


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
    last = _LAST_WORD.search(text, start, match.end())
    if last is None or not match.group().startswith("."):
        return True
    word = last.group(1)
    # An initial ("S. Jaishankar") or an abbreviation keeps the sentence going.
    return not (len(word) == 1 and word.isupper()) and word.lower() not in ABBREVIATIONS


@dataclass(frozen=True, slots=True)
class Token:
    """One word of a sentence with the keys it can match on."""

    text: str
    start: int
    end: int
    forms: tuple[str, ...]  # lower-cased surface, plus pymorphy3 lemmas for Cyrillic words

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def word_forms(word: str) -> tuple[str, ...]:
    """Match keys of one word: its lower-cased form and, if Cyrillic, its lemmas."""
    lower = normalise(word)
    if _CYRILLIC.search(word) is None:
        return (lower,)
    return (lower, *(form for form in lemmas(word) if form != lower))


def tokenize(sentence: str) -> list[Token]:
    """Words (letters and digits) of a sentence with their offsets and match keys."""
    return [
        Token(m.group(), m.start(), m.end(), word_forms(m.group()))
        for m in _WORD.finditer(sentence)
    ]


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """Tokens ``start``..``end`` (exclusive) matched a phrase carrying ``payloads``."""

    start: int
    end: int
    payloads: tuple[T, ...]


class PhraseMatcher(Generic[T]):
    """Finds known phrases in token lists with dict look-ups over token n-grams.

    A pattern token matches a text token when their key sets intersect, so one entry written
    in dictionary form ("министр иностранных дел") finds every inflected form.
    """

    def __init__(self) -> None:
        self._index: dict[str, dict[tuple[frozenset[str], ...], list[T]]] = {}

    def add(self, phrase: str, payload: T) -> None:
        """Register ``phrase`` (tokenised like text); the same phrase may carry several payloads."""
        words = _WORD.findall(phrase)
        if not words:
            return
        pattern = tuple(frozenset(word_forms(word)) for word in words)
        for key in pattern[0]:
            bucket = self._index.setdefault(key, {}).setdefault(pattern[1:], [])
            if payload not in bucket:
                bucket.append(payload)

    def add_all(self, phrases: Iterable[str], payload: T) -> None:
        for phrase in phrases:
            self.add(phrase, payload)

    def find(self, tokens: Sequence[Token]) -> list[Match[T]]:
        """Longest non-overlapping matches, left to right."""
        found: list[Match[T]] = []
        i = 0
        while i < len(tokens):
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
        for key in tokens[i].forms:
            for rest, bucket in self._index.get(key, {}).items():
                size = len(rest) + 1
                if size < best_len or i + size > len(tokens):
                    continue
                if all(not part.isdisjoint(tokens[i + 1 + k].forms) for k, part in enumerate(rest)):
                    if size > best_len:
                        best_len, payloads = size, []
                    payloads.extend(p for p in bucket if p not in payloads)
        return Match(i, i + best_len, tuple(payloads)) if best_len else None
