"""The classifier's cheaper text passes (issue 14) give what the plain regexes gave."""

from __future__ import annotations

import html
import random
import re

from news import language, text

_ALPHABET = "aZ5_ яЁ-’'.,!?…»\"()\t\n\u00a0\u200b\ufffd\x01 \u2003٣²ſ"


def _texts(seed: int, count: int = 3000) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 25))) for _ in range(count)]


def test_words_of_finds_the_regex_words() -> None:
    for sample in _texts(14):
        assert text.words_of(sample) == re.findall(r"[^\W_]+", sample), sample


def test_clean_text_replaces_what_the_blank_run_pattern_replaces() -> None:
    for sample in _texts(15):
        expected = text._BLANK_RUN.sub(" ", html.unescape(sample)).strip()
        assert text.clean_text(sample) == expected, sample


def test_patterns_that_start_with_a_class_match_as_the_repeats_did() -> None:
    rewritten = [
        (text._WORD, r"[^\W_]+"),
        (text._END_PUNCTUATION, r"[.!?…]+[\"»”')\]]*[ \t]+"),
        (language._LETTERS, r"[^\W\d_]+"),
    ]
    for sample in _texts(16):
        for pattern, plain in rewritten:
            got = [m.span() for m in pattern.finditer(sample)]
            assert got == [m.span() for m in re.finditer(plain, sample)], (plain, sample)


def test_end_punctuation_finds_what_finditer_found() -> None:
    for sample in _texts(17, 6000):
        got = [m.span() for m in text._end_punctuation(sample)]
        assert got == [m.span() for m in text._END_PUNCTUATION.finditer(sample)], sample


def test_cyrillic_count_counts_the_cyrillic_block() -> None:
    # the block's edges and its neighbours, characters whose UTF-16 low byte is 4, a
    # character outside the Basic Multilingual Plane and a lone surrogate
    alphabet = _ALPHABET + "\u0400\u04ff\u03ff\u0500\u0104\x04\u2004\U0001f604\ud804\u0434"
    rng = random.Random(18)
    for _ in range(3000):
        sample = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        expected = len(re.findall("[\u0400-\u04ff]", sample))
        assert language.cyrillic_count(sample) == expected, sample
