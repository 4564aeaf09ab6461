"""Classifier input: HTML-remnant cleanup, sentence splitting, tokens and phrase matching.

Words are split on hyphens and apostrophes, so "узбекско-таджикский" gives a compound prefix
and an adjective, "Kazakh-Chinese" two adjectives and "Tajikistan's" the country; gazetteer and
lexicon phrases are tokenised the same way, so both sides always agree.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Generic, TypeVar

from news.morph import lemmas, normalise

T = TypeVar("T")

_TAG: Final = re.compile(r"<[^<>]{0,500}>")
# Control characters and invisible or replacement marks become spaces, then runs of spaces,
# tabs and no-break spaces become one space: done as one pass, a run of either becoming one
# space. Written so that a lone " " (one per word) is no match: `sub` then copies the text
# instead of building a piece per word.
_BLANKS: Final = (  # the control and invisible characters, tab, \v, \f, \r and the no-break space
    "\x00-\x09\x0b-\x1f\x7f\xa0\u200b-\u200f\ufeff\ufffd"
)
_BLANK_RUN: Final = re.compile(f"[{_BLANKS}][ {_BLANKS}]*| [ {_BLANKS}]+")
_WORD: Final = re.compile(r"[^\W_][^\W_]*")  # as [^\W_]+, faster (see _END_PUNCTUATION)
_CYRILLIC: Final = re.compile(r"[\u0400-\u04FF]")
_BOUNDARY: Final = re.compile(r"[.!?…]+[\"»”')\]]*[ \t]+|\s*\n\s*")
# The same without the line-break branch, which the engine tries at every space: for text
# without a line break (most feed text) it finds the same boundaries. "[.!?…][.!?…]*", not
# "[.!?…]+": `re` skips ahead to a character of a leading class, but tries a full match at
# every position of a pattern that starts with a repeat (≈ 6× the instructions, issue 14).
_END_PUNCTUATION: Final = re.compile(r"[.!?…][.!?…]*[\"»”')\]]*[ \t]+")

# A period after these does not end a sentence ("Nov. 29", "Mr. Mirziyoyev", "г. Ташкент").
_ABBREVIATION_WORDS: Final = (
    "mr mrs ms dr st no jan feb mar apr jun jul aug sep sept oct nov dec gen col lt sen rep "
    "prof inc co ltd corp vs etc u s г гг им т е ул д р млн млрд тыс проф см"
)
ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def clean_text(text: str) -> str:
    """Drop HTML tags and entities, control characters and runs of spaces; keep line breaks."""
    if "<" in text:  # most feed text has no tags left, and a scan for one char is cheap
        text = _TAG.sub(" ", text)
    text = html.unescape(text)
    # Most text has nothing for _BLANK_RUN to replace, which three scans in C say for a tenth
    # of the regex's cost: every character of _BLANKS but U+FFFD is unprintable, and a space
    # starts a match only before another space or one of _BLANKS.
    if not (text.isprintable() and "  " not in text and "\ufffd" not in text):
        text = _BLANK_RUN.sub(" ", text)
    return text.strip()


def split_sentences(text: str) -> list[str]:
    """Split cleaned text into sentences at ., !, ?, … and at line breaks."""
    sentences: list[str] = []
    start = 0
    boundaries: Iterable[re.Match[str]]
    boundaries = _BOUNDARY.finditer(text) if "\n" in text else _end_punctuation(text)
    for match in boundaries:
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


_SENTENCE_MARKS: Final = ".!?…"


def _end_punctuation(text: str) -> list[re.Match[str]]:
    """``_END_PUNCTUATION.finditer(text)``, with the regex tried only where it can match.

    The pattern starts with one of .!?…, and `re` tests each character of the text against
    that class (≈ 20 instructions a character, issue 14); `str.find` finds each mark in C at
    a fraction of that. Tried in order at each mark past the previous match, the pattern
    finds what `finditer` found: it cannot match anywhere else.
    """
    marks: list[int] = []
    for mark in _SENTENCE_MARKS:
        at = text.find(mark)
        while at >= 0:
            marks.append(at)
            at = text.find(mark, at + 1)
    if len(marks) > 1:
        marks.sort()
    found: list[re.Match[str]] = []
    match_at = _END_PUNCTUATION.match
    end = 0
    for at in marks:
        if at >= end:
            match = match_at(text, at)
            if match is not None:
                found.append(match)
                end = match.end()
    return found


def _ends_sentence(text: str, start: int, match: re.Match[str]) -> bool:
    following = text[match.end() : match.end() + 1]
    if following.islower():
        return False
    if not match.group().startswith("."):
        return True
    # The word before the period: the letters ([^\W\d_], i.e. alphanumeric but not a decimal
    # digit) that end where the match starts, within its sentence and the 40 characters before.
    # A backward scan: a regex searching that window tried every start position in it.
    end = match.start()
    first, low = end, max(start, end - 40)
    while first > low and text[first - 1].isalnum() and not text[first - 1].isdecimal():
        first -= 1
    if first == end:
        return True
    word = text[first:end]
    # An initial ("S. Jaishankar") or an abbreviation keeps the sentence going.
    return not (len(word) == 1 and word.isupper()) and word.lower() not in ABBREVIATIONS


class Token:
    """One word of a sentence with the keys it can match on.

    A plain class, which mypyc compiles to a C struct read field by field: a sentence makes
    dozens of tokens, and a NamedTuple made by tuple.__new__ (the fields' tuple, an argument
    tuple and a slice of it, then the instance, offsets boxed) cost several times as much to
    make and to read (issue 14). Not a dataclass: mypyc leaves a dataclass's generated
    __init__ to the interpreter.
    """

    def __init__(self, text: str, start: int, end: int, forms: tuple[str, ...]) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.forms = forms  # lower-cased surface, plus pymorphy3 lemmas for Cyrillic words

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    def _key(self) -> tuple[str, int, int, tuple[str, ...]]:
        return (self.text, self.start, self.end, self.forms)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Token):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Token(text={self.text!r}, start={self.start}, end={self.end}, forms={self.forms!r})"
        )


# word -> word_forms(word). A plain dict, not lru_cache: asked per token, and a call through
# lru_cache's wrapper (an argument tuple, the LRU list kept in order) cost several times a
# dict look-up that mypyc compiles inline (issue 14). Cleared when full: news vocabulary is
# small.
_FORMS: Final[dict[str, tuple[str, ...]]] = {}
MAX_WORD_FORMS = 262_144


def word_forms(word: str) -> tuple[str, ...]:
    """Match keys of one word: its lower-cased form and, if Cyrillic, its lemmas."""
    forms = _FORMS.get(word)
    if forms is None:
        if len(_FORMS) >= MAX_WORD_FORMS:
            _FORMS.clear()
        forms = _FORMS[word] = _word_forms(word)
    return forms


def _word_forms(word: str) -> tuple[str, ...]:
    lower = normalise(word)
    if _CYRILLIC.search(word) is None:
        return (lower,)
    return (lower, *(form for form in lemmas(word) if form != lower))


def words_of(text: str) -> list[str]:
    """The words ``tokenize`` makes tokens of, in order."""
    # `_WORD.findall` costs ≈ 2,000 instructions a word (re allocates and frees its stack for
    # each match). [^\W_] is exactly str.isalnum, and no whitespace is alphanumeric, so the
    # words are those of the text's whitespace-separated chunks: most chunks are a word as
    # they stand, or a word and a comma or period, which `isalnum` tells in C (issue 14).
    words: list[str] = []
    for chunk in text.split():
        if chunk.isalnum():
            words.append(chunk)
        elif chunk[:-1].isalnum():  # "word," (the last character is then no letter or digit)
            words.append(chunk[:-1])
        else:
            words.extend(_WORD.findall(chunk))
    return words


def tokenize(sentence: str, words: list[str] | None = None) -> list[Token]:
    """Words (letters and digits) of a sentence with their offsets and match keys.

    ``words``: the sentence's ``words_of``, when the caller has them already.
    """
    # This runs per word, so it avoids Python-level calls: `str.find` from the end of the
    # previous word gives each one's offset, which is exact because the gap before a word
    # holds no letter or digit. `sentence.find` and `tokens.append` are called as methods,
    # not through local aliases: mypyc calls those methods' C functions directly, but an
    # alias through Python's generic call, with the offset boxed (issue 14).
    tokens: list[Token] = []
    known = _FORMS
    end = 0
    for word in words_of(sentence) if words is None else words:
        start = sentence.find(word, end)
        end = start + len(word)
        forms = known.get(word)
        if forms is None:
            forms = word_forms(word)
        tokens.append(Token(word, start, end, forms))
    return tokens


class Match(Generic[T]):
    """Tokens ``start``..``end`` (exclusive) matched a phrase carrying ``payloads``.

    A plain class, like Token, which mypyc compiles to a C struct: thousands are made per
    second (issue 14).
    """

    def __init__(self, start: int, end: int, payloads: tuple[T, ...]) -> None:
        self.start = start
        self.end = end
        self.payloads = payloads

    def _key(self) -> tuple[int, int, tuple[T, ...]]:
        return (self.start, self.end, self.payloads)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        start, end, payloads = self._key()
        return f"Match({start=}, {end=}, {payloads=})"


# The patterns a word can start: second-key tables of longer phrases, one-word payloads, and
# every second key of those tables (most next words continue none: one set test says so).
_Seconds = tuple[dict[str, dict[tuple[frozenset[str], ...], list[T]]], ...]
_Start = tuple[_Seconds[T], tuple[T, ...], frozenset[str]]
_NO_START: _Start[Any] = ((), (), frozenset())
MAX_CACHED_FORMS = 262_144  # words per matcher; cleared when full, as news vocabulary is small


class PhraseMatcher(Generic[T]):
    """Finds known phrases in token lists with dict look-ups over token n-grams.

    A pattern token matches a text token when their key sets intersect, so one entry written
    in dictionary form ("министр иностранных дел") finds every inflected form. Phrases are
    indexed by their first two keys, so "Republic of ..." does not try ninety countries.
    The tokens one matcher is given must come from one tokenizer (``tokenize``, or the topics'
    own): what a word can start is kept per word, as written.
    """

    def __init__(self) -> None:
        self._single: dict[str, list[T]] = {}
        # first key -> second key -> remaining pattern -> payloads
        self._longer: dict[str, dict[str, dict[tuple[frozenset[str], ...], list[T]]]] = {}
        # word (as written) -> the phrases it can start; most words start none (_NO_START).
        # Kept per word, whose hash Python keeps, not per tuple of forms, which is hashed anew
        # each time: the tokens a matcher sees come from one tokenizer, so a word's forms
        # are a function of the word.
        self._starts: dict[str, _Start[T]] = {}

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
        self._starts.clear()
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

    def required_keys(self, wanted: Callable[[T], bool]) -> frozenset[str]:
        """Keys of which a text must have one (among its words' forms) to hold a phrase carrying
        a ``wanted`` payload: per phrase, the keys of its most telling word ("visit" rather than
        "on" of "on a visit"), as every word of a phrase must be there for it to match."""
        keys = {key for key, payloads in self._single.items() if any(map(wanted, payloads))}
        for key, seconds in self._longer.items():
            for key2, rests in seconds.items():
                for rest, bucket in rests.items():
                    if any(map(wanted, bucket)):
                        words = [frozenset((key,)), frozenset((key2,)), *rest]
                        keys.update(max(words, key=lambda forms: min(map(len, forms))))
        return frozenset(keys)

    def find(self, tokens: Sequence[Token]) -> list[Match[T]]:
        """Longest non-overlapping matches, left to right."""
        found: list[Match[T]] = []
        # Most words start no phrase: one dict look-up per word says so (a word not seen
        # before, None, is looked up in _start). A plain loop, which mypyc compiles to C: the
        # map/compress chain it replaced made five iterators and two calls per word (issue 14).
        # Over a list, which mypyc indexes inline (a Sequence's items are fetched through
        # __getitem__ with a boxed index).
        starts = self._starts
        words = tokens if isinstance(tokens, list) else list(tokens)
        size = len(words)
        i = 0
        while i < size:
            token = words[i]
            start = starts.get(token.text)
            if start is None:
                start = self._start(token)
            longer, single, second_keys = start
            # _NO_START, told by its empty parts: mypyc keeps a tuple of this type unboxed, so
            # `start is _NO_START` boxed both sides afresh and was never true, only slower.
            if not (longer or single):
                i += 1
                continue
            best: Match[T] | None = None
            if longer and i + 1 < size and not second_keys.isdisjoint(words[i + 1].forms):
                best = self._longest_at(words, i, longer, single)
            elif single:
                best = Match(i, i + 1, single)
            if best is None:
                i += 1
            else:
                found.append(best)
                i = best.end  # matches do not overlap
        return found

    def _start(self, token: Token) -> _Start[T]:
        """What phrases the token's word can start: looked up once per word."""
        forms = token.forms
        longer = tuple(seconds for key in forms if (seconds := self._longer.get(key)))
        single: list[T] = []
        for key in forms:
            for p in self._single.get(key, ()):
                _append(single, p)
        second_keys = frozenset(key2 for seconds in longer for key2 in seconds)
        start: _Start[T] = (longer, tuple(single), second_keys) if longer or single else _NO_START
        if len(self._starts) >= MAX_CACHED_FORMS:
            self._starts.clear()
        self._starts[token.text] = start
        return start

    def _longest_at(
        self, tokens: list[Token], i: int, longer: _Seconds[T], single: tuple[T, ...]
    ) -> Match[T] | None:
        best_len = 0
        payloads: list[T] = []
        if i + 1 < len(tokens):
            following = tokens[i + 1].forms
            for seconds in longer:
                for key2 in following:
                    rests = seconds.get(key2)
                    if rests is None:
                        continue
                    for rest, bucket in rests.items():
                        size = len(rest) + 2
                        if size < best_len or not _rest_matches(rest, tokens, i + 2):
                            continue
                        if size > best_len:
                            best_len, payloads = size, []
                        for p in bucket:
                            _append(payloads, p)
        if best_len:
            return Match(i, i + best_len, tuple(payloads))
        return Match(i, i + 1, single) if single else None


def _rest_matches(rest: tuple[frozenset[str], ...], tokens: list[Token], at: int) -> bool:
    if at + len(rest) > len(tokens):
        return False
    for k, part in enumerate(rest):  # noqa: SIM110 - a plain loop: this is the hot path
        if part.isdisjoint(tokens[at + k].forms):
            return False
    return True


def _append(items: list[T], item: T) -> None:
    if item not in items:
        items.append(item)


class WordScreen:
    """Whether a sentence has a word with one of ``keys`` among its forms, without tokenising.

    A sentence without such a word cannot hold a phrase starting with one, so a caller can skip
    reading it; a word seen before is answered by a set operation over the sentence's words.
    """

    def __init__(self, keys: frozenset[str]) -> None:
        self._keys = keys
        self._yes: set[str] = set()  # words (as written) with a key among their forms
        self._no: set[str] = set()

    def may_match(self, sentence: str) -> bool:
        return self.may_match_words(words_of(sentence))

    def may_match_words(self, words: list[str]) -> bool:
        """``may_match`` for a sentence's ``words_of``."""
        # Over the words as they come: a set of them, and its difference with `_no`, cost
        # more to build than the repeated words they spared look-ups of (issue 14).
        yes, no = self._yes, self._no
        if not yes.isdisjoint(words):
            return True
        if len(no) >= MAX_CACHED_FORMS:
            no.clear()
        for word in words:
            if word in no:
                continue
            if self._keys.isdisjoint(word_forms(word)):
                no.add(word)
            else:
                if len(yes) >= MAX_CACHED_FORMS:
                    yes.clear()
                yes.add(word)
                return True
        return False
