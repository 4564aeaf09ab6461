"""Topics of an event and keyword filters, from its reports in English and Russian.

The topics are a fixed, documented list (news/data/topics.json): a subscriber can rely on
"energy" meaning the same words every time, and the list is small enough to show in full.
Russian words are matched through pymorphy3 lemmas (every inflection of "газопровод" is
"газопровод"; a report's word only by its likely readings, so "стали" is "стать", not
"сталь"); English words through a light suffix stripper (plural, -ed, -ing, final e), which
is enough for news nouns and far cheaper than a full stemmer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import chain

from news import data
from news.morph import likely_lemmas, normalise
from news.text import PhraseMatcher, Token, word_forms

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
# Where a word ending -s is not a plural: "gas", "bus", "analysis", "status", "business".
_NOT_PLURAL = ("ss", "us", "is")
# Nouns used only with their -s, whose -s-less form is another, common word: "news" is not
# "new", "goods" not "good", so a /filter on them must not match every report.
_PLURAL_ONLY = frozenset(
    {
        "news",
        "goods",
        "arms",
        "means",
        "customs",
        "series",
        "species",
        "headquarters",
        "savings",
        "earnings",
        "proceeds",
        "remains",
        "premises",
        "outskirts",
        "thanks",
    }
)
_SIBILANT_ES = ("ses", "xes", "zes", "ches", "shes")


def english_stem(word: str) -> str:
    """A light stem of a lower-case English word: both sides of a match use it.

    >>> [english_stem(w) for w in ("pipelines", "trading", "traded", "energies", "gases")]
    ['pipelin', 'trad', 'trad', 'energy', 'gas']
    """
    if len(word) <= 3 or word in _PLURAL_ONLY:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(_SIBILANT_ES):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(_NOT_PLURAL):
        word = word[:-1]
    if word.endswith("ing") and len(word) >= 7:
        word = word[:-3]
    elif word.endswith("ed") and len(word) >= 6:
        word = word[:-2]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


@lru_cache(maxsize=262_144)
def match_forms(word: str) -> tuple[str, ...]:
    """The keys a word matches on: lower case and lemmas (Russian) or its stem (English)."""
    forms = word_forms(word)
    if _CYRILLIC.search(word) is not None:
        return forms
    stem = english_stem(forms[0])
    return forms if stem == forms[0] else (*forms, stem)


@lru_cache(maxsize=262_144)
def report_forms(word: str) -> tuple[str, ...]:
    """The keys a report's word is matched on: as ``match_forms``, but a Russian word only by
    its likely readings (news.morph.likely_lemmas), so "стали" (became) is not steel."""
    if _CYRILLIC.search(word) is None:
        return match_forms(word)
    lower = normalise(word)
    return (lower, *(form for form in likely_lemmas(word) if form != lower))


def _tokens(text: str) -> list[Token]:
    # As news.text.tokenize: words by `findall` (no match objects), each word's offset by
    # `str.find` from the end of the previous one.
    tokens: list[Token] = []
    append, find, forms = tokens.append, text.find, report_forms
    end = 0
    for word in _WORD.findall(text):
        start = find(word, end)
        end = start + len(word)
        append(Token(word, start, end, forms(word)))
    return tokens


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of the fixed list."""

    key: str  # "energy": what is stored on events and exported
    labels: dict[str, str]  # shown to users, per language
    names: tuple[str, ...]  # /filter words that stand for the whole topic
    words: tuple[str, ...]  # English and Russian words and phrases


@cache
def topics() -> dict[str, Topic]:
    """The fixed list, in the order of news/data/topics.json."""
    return {
        key: Topic(
            key=key,
            labels=dict(entry["label"]),
            names=tuple(entry["names"]),
            words=(*entry["en"], *entry["ru"]),
        )
        for key, entry in data.topics().items()
        if not key.startswith("_")
    }


TOPIC_KEYS: tuple[str, ...] = tuple(topics())


def topic_label(key: str, lang: str) -> str:
    """A topic's name in ``lang`` (English when missing; the key for an unknown topic)."""
    topic = topics().get(key)
    if topic is None:
        return key
    return topic.labels.get(lang) or topic.labels.get("en") or key


def _phrase_keys(phrase: str) -> str:
    """A phrase with each word replaced by the key its text tokens will carry.

    Russian words stay as written (PhraseMatcher lemmatises them); English words become
    their stems, which every inflected form in the text also carries.
    """
    return " ".join(
        word if _CYRILLIC.search(word) else english_stem(word.lower())
        for word in _WORD.findall(phrase)
    )


@cache
def _matcher() -> PhraseMatcher[str]:
    matcher: PhraseMatcher[str] = PhraseMatcher()
    for topic in topics().values():
        for phrase in topic.words:
            matcher.add(_phrase_keys(phrase), topic.key)
    return matcher


def find_topics(*texts: str) -> tuple[str, ...]:
    """The topics the texts (a report's title and text) mention, in the list's order."""
    found: set[str] = set()
    matcher = _matcher()
    for text in texts:
        for match in matcher.find(_tokens(text)):
            found.update(match.payloads)
    return tuple(key for key in TOPIC_KEYS if key in found)


def merge_topics(*groups: Iterable[str]) -> tuple[str, ...]:
    """The union of several topic lists, in the list's order (unknown keys dropped)."""
    found = {key for group in groups for key in group}
    return tuple(key for key in TOPIC_KEYS if key in found)


def report_terms(*texts: str) -> frozenset[str]:
    """Every match key of every word of the texts: what a /filter word is looked up in."""
    # Only the words' forms: no tokens (offsets) are made for them.
    return frozenset(
        chain.from_iterable(map(report_forms, chain.from_iterable(map(_WORD.findall, texts))))
    )


# A /filter is a short list of words, not a query language: beyond this it is refused.
MAX_FILTER_WORDS = 10
MAX_FILTER_WORD = 40


# Joining words of a topic's label ("transport and logistics", "транспорт и логистика"):
# typed as filter words they would match nearly every report, so they are dropped.
FILTER_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "or",
        "the",
        "of",
        "in",
        "on",
        "for",
        "to",
        "и",
        "или",
        "в",
        "во",
        "на",
        "с",
        "со",
        "по",
        "для",
        "к",
    ]
)


class FilterError(ValueError):
    """The /filter words are not words at all."""


class FilterTooLong(FilterError):
    """The /filter has too many words or a word too long."""


@dataclass(frozen=True, slots=True)
class KeywordFilter:
    """A chat's /filter: an event passes when one word is in its reports or topics."""

    words: tuple[str, ...]  # as stored and shown: lower case, in the order typed
    forms: tuple[frozenset[str], ...]  # per word, the keys it matches on
    topics: frozenset[str]  # topics a word names ("energy", "энергетика")

    def matches(self, terms: frozenset[str], event_topics: Iterable[str]) -> bool:
        if not self.topics.isdisjoint(event_topics):
            return True
        return any(not forms.isdisjoint(terms) for forms in self.forms)


def parse_filter_words(args: Sequence[str]) -> tuple[str, ...]:
    """The words of ``/filter WORD …``, lower-cased and de-duplicated; FilterError when bad."""
    words: list[str] = []
    for arg in args:
        for word in _WORD.findall(arg.lower().replace("ё", "е")):
            if len(word) > MAX_FILTER_WORD:
                raise FilterTooLong(f"a word is longer than {MAX_FILTER_WORD} characters")
            if word not in words and word not in FILTER_STOP_WORDS:
                words.append(word)
    if len(words) > MAX_FILTER_WORDS:
        raise FilterTooLong(f"more than {MAX_FILTER_WORDS} words")
    if not words:
        raise FilterError("no words")
    return tuple(words)


def topic_names(lang: str) -> tuple[str, ...]:
    """One name per topic that /filter accepts, in ``lang``'s script (for the usage line)."""
    cyrillic = lang == "ru"
    return tuple(
        next(
            (n for n in topic.names if bool(_CYRILLIC.search(n)) == cyrillic),
            topic.names[0],
        )
        for topic in topics().values()
    )


@lru_cache(maxsize=4096)
def keyword_filter(stored: str) -> KeywordFilter:
    """The filter stored on a chat ("gas нефть energy"), ready to match; cached per text,
    as one fan-out checks many chats with the same few filters."""
    words = tuple(stored.split())
    forms = tuple(frozenset(match_forms(word)) for word in words)
    named = {
        topic.key
        for topic in topics().values()
        for name in topic.names
        for word_keys in forms
        if not word_keys.isdisjoint(match_forms(name))
    }
    return KeywordFilter(words=words, forms=forms, topics=frozenset(named))
