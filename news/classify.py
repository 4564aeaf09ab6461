"""Rule-based classifier: is this item a bilateral cooperation event with a Central Asian party?

Each sentence (title first) is read for parties, triggers and cues. A sentence *qualifies* when
it has an event trigger and at least two different countries, one Central Asian, each anchored
by a person, an office, an institution, or (for a visit) the destination of the trip; places are
locations, never parties. The rules, the type precedence and the confidence table are in
docs/classifier.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TextIO

from news.gazetteer import Gazetteer, Lexicon
from news.language import detect_language
from news.records import Classification, EventType, Evidence, Span
from news.text import Token, clean_text, split_sentences, tokenize

MAX_RAW_CHARS = 20_000  # cleaning regexes never see more than this of a 1 MB text
MAX_TEXT_CHARS = 3_000  # the news is in the lead: title + first ~3,000 characters
MAX_SENTENCES = 12
# When a sentence holds several triggers: a call is the most specific, signing documents is
# the outcome worth reporting, a visit frames any talks held during it.
TYPE_PRECEDENCE: tuple[EventType, ...] = ("call", "agreement", "visit", "meeting")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A qualifying sentence: its type, parties (code -> how anchored) and a score."""

    index: int
    analysis: Analysis
    event_type: EventType
    parties: Mapping[str, str]
    score: float


STRONG = frozenset({"person", "office", "institution"})
_CONNECTORS = frozenset({"and", "и", "&"})
# Words allowed between an office and its country: "Minister of Investments and Foreign Trade
# of Uzbekistan". Lower-case English words outside this list ("said that") break the link.
_OFFICE_GLUE = frozenset({"of", "the", "for", "and", "on", "at", "и", "по", "при", "в"})
_CLAUSE_WORDS = frozenset({"что", "который", "как", "чтобы", "когда", "где", "said", "that"})
_KIND_RANK = {"name": 0, "adjective": 1, "demonym": 1, "prefix": 1, "institution": 2}


@dataclass(frozen=True, slots=True)
class Mention:
    """A gazetteer hit in a sentence, in token positions."""

    start: int
    end: int
    kind: str  # country | location | institution | person
    code: str
    detail: str  # name/adjective/demonym/prefix, capital/city, or "<ISO>:<official id>"


@dataclass(frozen=True, slots=True)
class Marker:
    """A lexicon hit: a trigger (kind = event type) or a role (office / institution)."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Analysis:
    """One sentence read for parties, triggers, roles and cues."""

    sentence: str
    tokens: tuple[Token, ...]
    mentions: tuple[Mention, ...]
    triggers: tuple[Marker, ...]
    roles: tuple[Marker, ...]
    cues: Mapping[str, tuple[int, ...]]  # cue category -> token positions

    @property
    def trigger_types(self) -> set[str]:
        return {t.kind for t in self.triggers}

    def mentioned_countries(self) -> set[str]:
        return {m.code for m in self.mentions if m.kind != "location"}

    def parties(self, carried: Mapping[str, str] | None = None) -> dict[str, str]:
        """Anchored countries: code -> person/institution/office/destination/pair.

        ``carried`` maps an office phrase to the country it was anchored to earlier in the
        item, so "... met with the Crown Prince" after "Saudi Arabia's Crown Prince" counts.
        """
        parties = {m.code: m.kind for m in self.mentions if m.kind in ("person", "institution")}
        countries = [m for m in self.mentions if m.kind == "country"]
        links = self._links(countries)
        for _, i in links:
            parties.setdefault(countries[i].code, "office")
        linked_roles = {r for r, _ in links}
        for r, role in enumerate(self.roles):
            code = (carried or {}).get(self._text(role.start, role.end).lower())
            definite = role.start > 0 and self.tokens[role.start - 1].forms[0] == "the"
            if code and definite and r not in linked_roles:
                parties.setdefault(code, "office")
        destination = self._destination(set(parties))
        if destination and any(how in STRONG for how in parties.values()):
            parties.setdefault(destination, "destination")
        for code in self._pairs(countries):
            parties.setdefault(code, "pair")
        return parties

    def role_countries(self) -> dict[str, str]:
        """Office phrases of this sentence tied to exactly one country ("crown prince": SA)."""
        countries = [m for m in self.mentions if m.kind == "country"]
        found: dict[str, set[str]] = {}
        for r, i in self._links(countries):
            role = self.roles[r]
            found.setdefault(self._text(role.start, role.end).lower(), set()).add(countries[i].code)
        return {text: codes.pop() for text, codes in found.items() if len(codes) == 1}

    def _links(self, countries: list[Mention]) -> list[tuple[int, int]]:
        """(role index, country index) pairs: the country mention the office word anchors."""
        blocked = {i for m in self.mentions for i in range(m.start, m.end)}
        blocked.update(i for t in self.triggers for i in range(t.start, t.end))
        links = [
            (r, i)
            for i, m in enumerate(countries)
            for r in range(len(self.roles))
            if self._near(self.roles[r], m, blocked)
        ]
        anchored = {i: r for r, i in links}
        for _ in range(len(countries)):  # members of "Kazakhstan, Kyrgyzstan and ..." share
            grown = {
                j: r
                for i, r in anchored.items()
                for j in (i - 1, i + 1)
                if 0 <= j < len(countries) and self._coordinated(countries, min(i, j))
            }
            if grown.keys() <= anchored.keys():
                break
            anchored = {**grown, **anchored}
        return sorted({*links, *((r, i) for i, r in anchored.items())})

    def _near(self, role: Marker, m: Mention, blocked: set[int]) -> bool:
        if role.start >= m.end:  # "Uzbek President", "Kazakhstan's Foreign Minister"
            gap = range(m.end, role.start)
            return len(gap) <= 2 and not blocked.intersection(gap)
        if m.start >= role.end:  # "President of Uzbekistan", "глава МИД Казахстана"
            gap = range(role.end, m.start)
            return len(gap) <= 6 and not blocked.intersection(gap) and self._glue(gap)
        return False

    def _glue(self, gap: range) -> bool:
        for i in gap:
            token = self.tokens[i]
            forms = set(token.forms)
            if forms & _CLAUSE_WORDS:
                return False
            if token.text.isascii() and not token.capitalised and not forms & _OFFICE_GLUE:
                return False
        return True

    def _coordinated(self, countries: list[Mention], i: int) -> bool:
        gap = range(countries[i].end, countries[i + 1].start)
        return len(gap) <= 1 and all(self.tokens[k].forms[0] in _CONNECTORS for k in gap)

    def _pairs(self, countries: list[Mention]) -> set[str]:
        """Bare "X and Y" names, or "Turkmen–Afghan talks": a pair acting together."""
        pairs: set[str] = set()
        starts = {t.start for t in self.triggers}
        for i in range(len(countries) - 1):
            a, b = countries[i], countries[i + 1]
            if a.code == b.code or not self._coordinated(countries, i):
                continue
            both_names = a.detail == b.detail == "name"
            if both_names or b.end in starts or b.end + 1 in starts:
                pairs.update((a.code, b.code))
        return pairs

    def _destination(self, strong: set[str]) -> str | None:
        """Where a visit goes: the first country name or place right after the trigger."""
        for trigger in (t for t in self.triggers if t.kind == "visit"):
            for m in self.mentions:
                if m.start < trigger.end or m.start - trigger.end > 6:
                    continue
                if m.kind == "person" or any(
                    trigger.end <= t.start < m.start for t in self.triggers
                ):
                    break
                place = m.kind == "location" or (m.kind == "country" and m.detail == "name")
                if place and m.code not in strong:
                    return m.code
        return None

    def evidence(self) -> Evidence:
        spans = [
            Span(self._text(m.start, m.end), m.kind, m.detail if m.kind == "person" else m.code)
            for m in self.mentions
        ]
        spans += [Span(self._text(r.start, r.end), r.kind, r.kind) for r in self.roles]
        spans += [Span(self._text(t.start, t.end), "trigger", t.kind) for t in self.triggers]
        return Evidence(self.sentence, tuple(spans))

    def _text(self, start: int, end: int) -> str:
        return self.sentence[self.tokens[start].start : self.tokens[end - 1].end]


def analyse(sentence: str, gazetteer: Gazetteer, lexicon: Lexicon, day: date) -> Analysis:
    """Tokenise ``sentence`` once and find mentions, triggers, roles and cues in it."""
    tokens = tokenize(sentence)
    cues: dict[str, list[int]] = {}
    for match in lexicon.cues.find(tokens):
        for category in match.payloads:
            cues.setdefault(category, []).append(match.start)
    core = lexicon.core.find(tokens)
    signed = any("sign" in match.payloads for match in core)
    roles: list[Marker] = []
    triggers: list[Marker] = []
    for match in core:
        for category in match.payloads:
            if category in ("office", "institution"):
                roles.append(Marker(category, match.start, match.end))
            elif category in TYPE_PRECEDENCE or (category == "document" and signed):
                kind = "agreement" if category == "document" else category
                if _active(kind, match.start, cues):
                    triggers.append(Marker(kind, match.start, match.end))
    inside = {i for t in triggers for i in range(t.start, t.end)}
    # "video conference" is a call, not a conference
    cues["summit"] = [p for p in cues.get("summit", []) if p not in inside]
    mentions = tuple(_mentions(tokens, gazetteer, lexicon, day))
    frozen_cues = {k: tuple(v) for k, v in cues.items() if v}
    return Analysis(sentence, tuple(tokens), mentions, tuple(triggers), tuple(roles), frozen_cues)


def _active(kind: str, start: int, cues: Mapping[str, list[int]]) -> bool:
    """False for "will not visit", "не посетит" and "invited him to visit"."""
    if any(start - 3 <= p < start for p in cues.get("particle", ())):
        return False
    return kind != "visit" or not any(start - 5 <= p < start for p in cues.get("invitation", ()))


def _mentions(
    tokens: list[Token], gazetteer: Gazetteer, lexicon: Lexicon, day: date
) -> list[Mention]:
    found: list[Mention] = []
    for match in gazetteer.find(tokens):
        people = [e.detail for e in match.payloads if e.kind == "person"]
        if people and _name_like(tokens[match.start : match.end], lexicon):
            term = gazetteer.resolve(people, day)
            if term is not None:
                detail = f"{term.country}:{term.official_id}"
                found.append(Mention(match.start, match.end, "person", term.country, detail))
            continue
        others = [e for e in match.payloads if e.kind != "person"]
        if others and len({e.code for e in others}) == 1:
            best = min(others, key=lambda e: _KIND_RANK.get(e.detail, 3))
            found.append(Mention(match.start, match.end, best.kind, best.code, best.detail))
    return found


def _name_like(tokens: list[Token], lexicon: Lexicon) -> bool:
    """A person's name is capitalised; one word must not be an ordinary word ("May")."""
    first = tokens[0]
    if not first.capitalised:
        return False
    if len(tokens) == 1:
        return not first.text.isupper() and first.forms[0] not in lexicon.not_person_names
    return True


class Classifier:
    """Decides, per item, label, event type, parties, confidence and evidence."""

    def __init__(self, gazetteer: Gazetteer | None = None, lexicon: Lexicon | None = None) -> None:
        self.gazetteer = gazetteer if gazetteer is not None else Gazetteer.load()
        self.lexicon = lexicon if lexicon is not None else Lexicon.load()

    def classify(
        self,
        title: str,
        text: str,
        *,
        published: datetime | date | None = None,
        language: str | None = None,
    ) -> Classification:
        """Classify one news item (title + text, English or Russian)."""
        title = clean_lead(title, 500)
        body = clean_lead(text, MAX_RAW_CHARS)[:MAX_TEXT_CHARS]
        lang = language if language in ("en", "ru") else detect_language(f"{title} {body}")
        day = _as_date(published)
        if not (title or body) or not any(ch.isalpha() for ch in title + body):
            return Classification(False, "none", (), 0.3, lang or "en", notes=("no text",))
        sentences = ([title] if title else []) + split_lead(body)
        analyses = [analyse(s, self.gazetteer, self.lexicon, day) for s in sentences]
        has_title = bool(title)
        notes: list[str] = []
        candidates = []
        carried: dict[str, str] = {}
        for i, analysis in enumerate(analyses):
            candidate = self._candidate(i, analysis, carried, notes)
            if candidate is not None:
                candidates.append(candidate)
            for office, code in analysis.role_countries().items():
                carried[office] = code if carried.get(office, code) == code else ""
        if has_title and "sport" in analyses[0].cues:
            candidates, notes = [], [*notes, "title is about sport"]
        if not candidates:
            return self._negative(analyses, lang, notes)
        return self._positive(candidates, analyses[0] if has_title else None, lang, notes)

    def _candidate(
        self, index: int, a: Analysis, carried: Mapping[str, str], notes: list[str]
    ) -> Candidate | None:
        if not a.triggers:
            return None
        label = f"sentence {index + 1}"
        for cue in ("negation", "law", "sport"):
            if cue in a.cues:
                notes.append(f"{label}: {cue} cue")
                return None
        types = {t.kind for t in a.triggers}
        if "message" in a.cues and "call" not in types:
            notes.append(f"{label}: a message or congratulation, not a meeting")
            return None
        parties = a.parties(carried)
        strong = [c for c, how in parties.items() if how in STRONG]
        if len(parties) < 2:
            notes.append(f"{label}: fewer than two anchored countries {sorted(parties)}")
            return None
        if not any(self.gazetteer.is_central_asian(c) for c in parties):
            notes.append(f"{label}: no Central Asian party {sorted(parties)}")
            return None
        bilateral = "bilateral" in a.cues
        if ("summit" in a.cues or len(parties) > 2) and not bilateral:
            notes.append(f"{label}: multilateral format, no bilateral meeting named")
            return None
        weak = len(strong) < len(parties)
        if weak and ("company" in a.cues or "private" in a.cues):
            notes.append(f"{label}: companies or private persons, not states")
            return None
        if not strong and list(parties.values()).count("pair") < 2:
            notes.append(f"{label}: no party anchored by a person, office or institution")
            return None
        event_type = next(t for t in TYPE_PRECEDENCE if t in types)
        return Candidate(index, a, event_type, parties, _score(index, a, parties, len(strong)))

    def _positive(
        self,
        candidates: list[Candidate],
        title: Analysis | None,
        lang: str,
        notes: list[str],
    ) -> Classification:
        first = candidates[0]
        title_types = {t.kind for t in title.triggers} if title else set()
        if title_types and not title.cues.keys() & {"negation", "law"}:  # type: ignore[union-attr]
            event_type = next(t for t in TYPE_PRECEDENCE if t in title_types)
        else:
            event_type = first.event_type
        countries = sorted({code for c in candidates for code in c.parties})
        confidence = max(c.score for c in candidates)
        if first.index == 0 and title is not None:
            confidence += 0.04  # the headline itself states the event
        evidence = tuple(c.analysis.evidence() for c in candidates[:3])
        return Classification(
            True, event_type, tuple(countries), _clip(confidence), lang, evidence, tuple(notes)
        )

    def _negative(self, analyses: list[Analysis], lang: str, notes: list[str]) -> Classification:
        near = [a for a in analyses if a.triggers and len(a.mentioned_countries()) >= 2]
        hard_cue = any(n.endswith((" cue", "sport", "no Central Asian party")) for n in notes)
        if near and not hard_cue:
            confidence = 0.7  # an event-like sentence we could not anchor: a doubtful negative
        elif near or any(a.triggers for a in analyses):
            confidence = 0.88
        else:
            confidence = 0.95
        evidence = (near[0].evidence(),) if near else ()
        return Classification(False, "none", (), confidence, lang, evidence, tuple(notes))


def _score(index: int, a: Analysis, parties: Mapping[str, str], strong: int) -> float:
    """Confidence of one qualifying sentence (table in docs/classifier.md)."""
    kinds = set(parties.values())
    if strong >= 2:
        score = 0.92
    elif strong == 1 and "destination" in kinds:
        score = 0.9
    elif strong == 1:
        score = 0.8
    else:
        score = 0.72  # only "X and Y signed ..." with bare country names
    if "statistics" in a.cues:
        score -= 0.08
    if "company" in a.cues or "private" in a.cues:
        score -= 0.15
    if "summit" in a.cues:
        score -= 0.04
    if len(parties) > 2:
        score -= 0.04
    if index >= 4:
        score -= 0.05
    return score


def _clip(value: float) -> float:
    return round(min(0.99, max(0.01, value)), 3)


def clean_lead(text: str, limit: int) -> str:
    """Clean the first ``limit`` characters of ``text`` (a 1 MB text costs no more)."""
    return clean_text(text[:limit]) if isinstance(text, str) else ""


def split_lead(body: str) -> list[str]:
    return split_sentences(body)[:MAX_SENTENCES]


def _as_date(published: datetime | date | str | None) -> date:
    """The day used to resolve office holders; today when unknown."""
    if isinstance(published, datetime):
        return published.date()
    if isinstance(published, date):
        return published
    if isinstance(published, str):
        return parse_published(published) or date.today()
    return date.today()


def parse_published(value: str) -> date | None:
    """Lenient ISO 8601: a datetime, a date, or just "YYYY-MM" / "YYYY" (mid-period)."""
    match = _DATE.match(value.strip())
    if match is None:
        return None
    year, month, day = match.groups()
    try:
        if month is None:
            return date(int(year), 7, 1)
        return date(int(year), int(month), int(day) if day else 15)
    except ValueError:
        return None


@lru_cache(maxsize=1)
def _shared() -> Classifier:
    return Classifier()


def classify_item(
    title: str,
    text: str,
    *,
    published: datetime | date | None = None,
    language: str | None = None,
) -> Classification:
    """Classify with one shared Classifier (gazetteer and lexicon loaded once)."""
    return _shared().classify(title, text, published=published, language=language)


def to_json(item_id: Any, result: Classification) -> dict[str, Any]:
    """The `coopwatch classify` output object for one item."""
    return {
        "id": item_id,
        "label": result.label,
        "event_type": result.event_type,
        "countries": list(result.countries),
        "confidence": result.confidence,
        "evidence": [
            {
                "sentence": ev.sentence,
                "spans": [{"text": s.text, "kind": s.kind, "value": s.value} for s in ev.spans],
            }
            for ev in result.evidence
        ],
    }


def classify_stream(lines: Iterable[str], out: TextIO) -> int:
    """`coopwatch classify`: JSON Lines in, one JSON line out per input line, in order.

    Returns the number of lines answered with an error object.
    """
    errors = 0
    for number, line in enumerate(lines, start=1):
        answer = _answer_line(number, line)
        errors += "error" in answer
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()
    return errors


def _answer_line(number: int, line: str) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except ValueError as exc:
        return {"id": number, "line": number, "error": f"not valid JSON: {exc}"}
    if not isinstance(item, dict):
        return {"id": number, "line": number, "error": "each line must be a JSON object"}
    item_id = item.get("id", number)
    title, text = item.get("title"), item.get("text")
    if not isinstance(title, str) or not isinstance(text, str):
        return {"id": item_id, "line": number, "error": "needs string fields title and text"}
    published = item.get("published")
    result = classify_item(
        title,
        text,
        published=_as_date(published) if isinstance(published, str) else None,
        language=item.get("language") if isinstance(item.get("language"), str) else None,
    )
    return to_json(item_id, result)


__all__ = [
    "Classification",
    "Classifier",
    "Evidence",
    "Lexicon",
    "Span",
    "classify_item",
    "classify_stream",
]
