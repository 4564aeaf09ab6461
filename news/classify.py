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
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Final, TextIO

from news.gazetteer import Gazetteer, Lexicon
from news.item import (
    QualifyingSentence,
    doubt,
    item_rules,
    main_pair,
    subject_and_partner,
    visitor_and_first_stop,
    with_counterpart,
)
from news.jsonlines import JsonLine, read_json_lines
from news.language import detect_language
from news.records import Classification, EventType, Evidence, Span
from news.sentence import (
    STRONG,
    TYPE_PRECEDENCE,
    Analysis,
    analyse,
    office_screen,
    read,
    trigger_screen,
    unread,
    with_cues,
    with_mentions,
)
from news.text import clean_text, split_sentences, words_of

MAX_RAW_CHARS = 20_000  # cleaning regexes never see more than this of a 1 MB text
MAX_TEXT_CHARS = 3_000  # the news is in the lead: title + first ~3,000 characters
MAX_SENTENCES = 12
_CONVERSATION: Final = frozenset({"беседа", "разговор", "conversation", "conversations"})
# Without a leader's trip: signed documents, then the talks, then a (minister's) trip.
_ITEM_PRECEDENCE: Final[tuple[EventType, ...]] = ("call", "agreement", "meeting", "visit")
_DATE: Final = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


class Classifier:
    """Decides, per item, label, event type, parties, confidence and evidence."""

    def __init__(self, gazetteer: Gazetteer | None = None, lexicon: Lexicon | None = None) -> None:
        self.gazetteer = gazetteer if gazetteer is not None else Gazetteer.load()
        self.lexicon = lexicon if lexicon is not None else Lexicon.load()
        self._screen = trigger_screen(self.lexicon)
        self._office_screen = office_screen(self.lexicon)

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
        if not (title or body) or not (any(map(str.isalpha, title)) or any(map(str.isalpha, body))):
            return Classification(False, "none", (), 0.3, lang or "en", notes=("no text",))
        sentences = ([title] if title else []) + split_lead(body)
        words = list(map(words_of, sentences))  # for the screens, then for the tokens
        triggered = list(map(self._screen.may_match_words, words))
        if not any(triggered):
            # No trigger word anywhere (most news): negative whoever it names, and what
            # `_negative` says of an item whose sentences found no trigger.
            return self._negative([], lang, [])
        # A sentence with neither a trigger nor an office word is what `read` would find
        # nothing in: it is tokenised only if its cues are asked for (with_cues). Nor is one
        # with an office word but no trigger word after the last sentence that may have a
        # trigger: its offices count only carried to a later trigger (`_with_mentions`).
        last = max(i for i, maybe in enumerate(triggered) if maybe)
        office_words = self._office_screen.may_match_words
        read_all = [
            read(sentence, self.lexicon, sentence_words)
            if maybe or (i < last and office_words(sentence_words))
            else unread(sentence)
            for i, (sentence, sentence_words, maybe) in enumerate(
                zip(sentences, words, triggered, strict=True)
            )
        ]
        analyses = self._with_mentions(read_all, _as_date(published))
        has_title = bool(title)
        notes: list[str] = []
        candidates = []
        carried: dict[str, str] = {}
        for i, analysis in enumerate(analyses):
            candidate = self._candidate(i, analysis, carried, analyses, notes)
            if candidate is not None:
                candidates.append(candidate)
            for office, code in analysis.role_countries().items():
                carried[office] = code if carried.get(office, code) == code else ""
        if candidates:  # the item rules read every sentence's cues
            analyses = [with_cues(a, self.lexicon) for a in analyses]
        if has_title and "sport" in analyses[0].cues:
            candidates, notes = [], [*notes, "title is about sport"]
        candidates = item_rules(candidates, analyses, notes)
        if not candidates:
            return self._negative(analyses, lang, notes)
        title_analysis = analyses[0] if has_title else None
        return self._positive(candidates, title_analysis, analyses, lang, notes)

    def _with_mentions(self, analyses: list[Analysis], day: date) -> list[Analysis]:
        """Find mentions only where they can decide something.

        That is in sentences with a trigger, and in sentences with an office word before one
        (the office may be carried: "Saudi Arabia's Crown Prince ... met with the Crown
        Prince"). An item without any trigger is negative whoever it names.
        """
        last = max((i for i, a in enumerate(analyses) if a.triggers), default=-1)
        return [
            with_mentions(a, self.gazetteer, self.lexicon, day)
            if a.triggers or (a.roles and i < last)
            else a
            for i, a in enumerate(analyses)
        ]

    def _candidate(
        self,
        index: int,
        a: Analysis,
        carried: Mapping[str, str],
        item: Sequence[Analysis],
        notes: list[str],
    ) -> QualifyingSentence | None:
        if not a.triggers:
            return None
        label = f"sentence {index + 1}"
        for cue in ("negation", "law", "sport", "credentials"):
            if cue in a.cues:
                notes.append(f"{label}: {cue} cue")
                return None
        types = a.main_types()
        if "message" in a.cues and "call" not in types:
            notes.append(f"{label}: a message or congratulation, not a meeting")
            return None
        parties = a.parties(carried)
        if len(parties) > 2:
            head = a.before_clause_break()
            if head is not None and head.triggers:
                a, parties = head, head.parties(carried)
        if len(parties) == 1:
            parties = with_counterpart(a, parties, item[:index])
        strong = [c for c, how in parties.items() if how in STRONG]
        tour = False
        if len(parties) > 2 and len(strong) > 2 and "separate" in a.cues:
            # "held separate meetings with Xi and Putin": one item, one event; the subject
            # and the first partner named (an event has exactly two parties)
            parties = subject_and_partner(a, strong)
            strong = list(parties)
        elif len(parties) > 2 and len(strong) == 1 and "visit" in types:
            # a tour ("will visit Qatar, Bahrain and the UAE"): the visitor and the first
            # country he goes to; never a three-party event
            parties = visitor_and_first_stop(a, strong[0], parties)
            tour = True
        elif len(parties) > 2 and len(strong) == 2:
            # "... while Erdogan is in Uzbekistan": places and countries named beside the
            # two officials are not parties; an event has exactly two.
            parties = {c: parties[c] for c in strong}
        if len(parties) < 2:
            notes.append(f"{label}: fewer than two anchored countries {sorted(parties)}")
            return None
        if len(parties) > 2:
            notes.append(f"{label}: more than two parties {sorted(parties)}, no pair named")
            return None
        if not any(self.gazetteer.is_central_asian(c) for c in parties):
            notes.append(f"{label}: no Central Asian party {sorted(parties)}")
            return None
        if a.trigger_types == {"discuss"} and len(strong) < 2:
            notes.append(f"{label}: 'discussed' without two officials")
            return None
        # Two officials of two states meeting or calling at a summit or forum: a sideline
        # meeting, wherever it is held ("ministers met in Gabala at the OTS council").
        sideline = len(strong) == 2 and bool(types & {"meeting", "call"})
        if "summit" in a.cues and "bilateral" not in a.cues and not sideline:
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
        score = _score(index, a, parties, len(strong)) - (0.2 if tour else 0.0)
        return QualifyingSentence(index, a, event_type, parties, score)

    def _positive(
        self,
        candidates: list[QualifyingSentence],
        title: Analysis | None,
        analyses: Sequence[Analysis],
        lang: str,
        notes: list[str],
    ) -> Classification:
        pair = main_pair(candidates)
        chosen = [c for c in candidates if frozenset(c.parties) == pair]
        first = chosen[0]
        event_type = self._event_type(chosen, title, analyses)
        confidence = max(c.score for c in chosen)
        if first.index == 0 and title is not None:
            confidence += 0.04  # the headline itself states the event
        if len(chosen) < len(candidates):
            confidence -= 0.1  # sentences name other pairs too: less sure which is the event
        confidence -= doubt(chosen, analyses)
        evidence = tuple(c.analysis.evidence() for c in chosen[:3])
        return Classification(
            True, event_type, tuple(sorted(pair)), _clip(confidence), lang, evidence, tuple(notes)
        )

    def _event_type(
        self,
        chosen: Sequence[QualifyingSentence],
        title: Analysis | None,
        analyses: Sequence[Analysis],
    ) -> EventType:
        """One type for the item, from the sentences that name its pair and the headline.

        A call is the most specific; a state or official visit, and any trip abroad of a head
        of state or government, is a visit whatever else it holds; a minister's working trip
        is the frame of his talks (meeting); signed documents outrank plain talks.
        """
        sources = [c.analysis for c in chosen]
        cued = title is not None and bool(title.cues.keys() & {"negation", "law"})
        if title is not None and title is not sources[0] and title.triggers and not cued:
            sources.insert(0, title)
        in_sources = {id(a) for a in sources}
        types = {t for a in sources for t in a.main_types()}
        if "call" in types:
            return "call"
        if (
            "meeting" in types
            and any("message" in a.cues for a in analyses)
            and any(_CONVERSATION.intersection(t.forms) for a in sources for t in a.tokens)
        ):
            return "call"  # congratulations in a conversation: a congratulatory call
        leader = self.gazetteer.is_leader
        pair = set(chosen[0].parties)
        # (or in another sentence of the item, "Кадры прибытия Рахмона", when not the frame
        # of something else: "agreements signed during the official visit of the President")
        if any(
            "visit" in a.main_types(frames=id(a) not in in_sources)
            and "summit" not in a.cues  # a trip to a summit frames the talks held there
            and (id(a) in in_sources or a.mentioned_countries() & pair)
            and a.subject_is_leader(leader)
            for a in analyses
        ):
            return "visit"
        if "agreement" in types:
            return "agreement"
        # A state or official visit (of a minister too) is the event, unless it only frames
        # the meeting reported ("the meeting took place as part of the minister's official
        # visit"); also when another sentence says it ("С госвизитом в Узбекистан я прибыл").
        if any(
            "visit" in a.main_types(frames=True)
            and "formal_visit" in a.cues
            and (id(a) in in_sources or a.destination() in pair)
            for a in analyses
        ):
            return "visit"
        return next(t for t in _ITEM_PRECEDENCE if t in types)

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


def shared_reading(sentence: str, on_date: date | None = None) -> Analysis:
    """One sentence read by the shared gazetteer and lexicon: mentions, triggers, roles."""
    shared = _shared()
    return analyse(sentence, shared.gazetteer, shared.lexicon, _as_date(on_date))


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
        "evidence": evidence_dicts(result),
    }


def evidence_dicts(result: Classification) -> list[dict[str, Any]]:
    """The evidence as `coopwatch classify` prints it and the pipeline stores it.

    Built by hand: dataclasses.asdict deep-copies recursively and cost as much as storing
    the verdict (a profile of `coopwatch poll`).
    """
    return [
        {
            "sentence": ev.sentence,
            "spans": [{"text": s.text, "kind": s.kind, "value": s.value} for s in ev.spans],
        }
        for ev in result.evidence
    ]


def classify_stream(lines: Iterable[str], out: TextIO) -> int:
    """`coopwatch classify`: JSON Lines in, one JSON line out per input line, in order.

    Returns the number of lines answered with an error object.
    """
    errors = 0
    for line in read_json_lines(lines):
        answer = _answer_line(line)
        errors += "error" in answer
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    out.flush()
    return errors


def _answer_line(line: JsonLine) -> dict[str, Any]:
    number, item = line.number, line.item
    if line.error is not None:
        return {"id": number, "line": number, "error": f"not valid JSON: {line.error}"}
    if item is None:
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
