"""A first-character look-ahead changes no match of a word-list pattern (news.patterns), and a
lead's sentences read once are those news.facts read one by one."""

from __future__ import annotations

import random
import re

from news import facts
from news.patterns import guarded

_SAMPLE = (
    "Президент Казахстана посетит Ташкент 5–6 мая, сообщили сегодня. WILL Sign THE Memorandum "
    "ſigned İn K 2024-05-06 подписали соглашение и дорожную карту; the trade reached $1.5 "
    "billion last year. On Monday he arrived. В ноябре будет визит. Ё ё ı"
)


def _guarded_patterns() -> list[re.Pattern[str]]:
    found: list[re.Pattern[str]] = []
    for value in vars(facts).values():
        values = value.values() if isinstance(value, dict) else value
        for item in values if isinstance(values, (tuple, list, type({}.values()))) else (value,):
            pattern = item[1] if isinstance(item, tuple) and len(item) == 2 else item
            if isinstance(pattern, re.Pattern) and "(?=[" in pattern.pattern[:12]:
                found.append(pattern)
    return found


def test_guarded_patterns_find_what_the_plain_ones_find() -> None:
    patterns = _guarded_patterns()
    assert len(patterns) > 20  # the word lists of news.facts are guarded
    words = _SAMPLE.split() + re.findall(r"\w+", " ".join(p.pattern for p in patterns))
    rng = random.Random(14)
    texts = [_SAMPLE, _SAMPLE.upper(), _SAMPLE.lower()]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 15)))
        texts.append(text.title() if rng.random() < 0.3 else text)
    for pattern in patterns:
        lead = next((w for w in (r"\b", r"(?<!\w)") if pattern.pattern.startswith(w)), "")
        plain = re.compile(lead + pattern.pattern.split("])", 1)[1], pattern.flags)
        for text in texts:
            got = [(m.span(), m.groups()) for m in pattern.finditer(text)]
            assert got == [(m.span(), m.groups()) for m in plain.finditer(text)], pattern.pattern


def test_a_pattern_without_literal_starts_is_left_as_it_is() -> None:
    assert guarded(r"\b\d+\s+(?:day|days)\b", re.I).pattern == r"\b\d+\s+(?:day|days)\b"
    assert guarded(r"\b(?:in|на)?\s", re.I).pattern == r"\b(?:in|на)?\s"
    assert guarded(r"\b(?:in|на)\s", re.I).pattern == r"\b(?=[iн])(?:in|на)\s"
    # without a leading boundary, the look-ahead goes before every alternative
    assert guarded(r"state visit|госвизит", re.I).pattern == r"(?=[sг])(?:state visit|госвизит)"
    assert guarded(r"(?i)state|visit").pattern == r"(?i)state|visit"
    # a word boundary matches no character: the alternative starts with what follows it
    assert guarded(r"colleague|\b(?:he|она)\b", re.I).pattern == (
        r"(?=[chо])(?:colleague|\b(?:he|она)\b)"
    )


def _sentence_around(text: str, pos: int) -> str:
    """What news.facts read one position at a time before sentences were indexed."""
    starts = [m.end() for m in facts._SENTENCE_END.finditer(text, 0, pos)]
    begin = starts[-1] if starts else 0
    after = facts._SENTENCE_END.search(text, pos)
    return text[begin : after.end() if after else len(text)]


def test_indexed_sentences_are_the_sentences_around_each_position() -> None:
    rng = random.Random(17)
    alphabet = '.!?… \n\t\u00a0AaZЯяЁё«"“x5'
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        sentences = facts._Sentences(text)
        for pos in range(len(text)):
            assert sentences.sentence(pos) == _sentence_around(text, pos), (text, pos)
