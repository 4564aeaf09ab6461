"""Typed records passed between the stages of the news pipeline.

Frozen dataclasses rather than ORM rows, so each stage can be tested on its own and the
storage layer stays behind a narrow interface (the lemon24/reader approach).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

EventType = Literal["visit", "meeting", "call", "agreement", "none"]
EVENT_TYPES: tuple[EventType, ...] = ("visit", "meeting", "call", "agreement")
CENTRAL_ASIA: frozenset[str] = frozenset({"KZ", "KG", "TJ", "TM", "UZ"})


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, cleaned: plain text, UTC time, canonical link."""

    key: str  # stable id within its feed: guid, else canonical link, else hash of title+date
    link: str | None
    title: str
    text: str
    published: datetime | None  # timezone-aware UTC; None when the feed gives no date
    language: str | None = None  # the feed's declared language, e.g. "en", "ru"


@dataclass(frozen=True, slots=True)
class Span:
    """A matched piece of text: what it is and why it counted."""

    text: str
    kind: str  # "country", "person", "office", "trigger", "location", ...
    value: str  # e.g. the ISO code a country mention resolved to, or the event type


@dataclass(frozen=True, slots=True)
class Evidence:
    """The sentence a decision rests on and the spans matched in it."""

    sentence: str
    spans: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's verdict on one item."""

    label: bool
    event_type: EventType
    countries: tuple[str, ...]  # ISO 3166-1 alpha-2 (and "EU"), sorted
    confidence: float  # 0..1, calibrated: doubtful positives are not pushed to subscribers
    language: str  # "en" or "ru", detected
    evidence: tuple[Evidence, ...] = ()
    notes: tuple[str, ...] = field(default=())  # why a candidate was rejected, for `eval`


# What a report states about its event, read by news.facts (extract_facts, merge_facts).


@dataclass(frozen=True, slots=True)
class Figure:
    """A sum the report states, with what it measures and whether it is a result or a goal."""

    written: str  # as the report writes it: "$800 million", "800 млн долларов"
    measure: str | None = None  # "trade", "investment", "loan", "contracts", ...
    role: str | None = None  # "result" or "target"
    period: str | None = None  # "last year", "this year", "since January", "2025"
    amount: float | None = None  # in units of the currency: 800000000.0
    currency: str | None = None  # "USD", "EUR", "RUB", ...


@dataclass(frozen=True, slots=True)
class Facts:
    """What a report states about its event; every field comes from the text."""

    event_date: date | None = None
    event_end: date | None = None  # the last day of a span ("5-6 January"), else event_date
    date_text: str | None = None  # the span the date was read from
    place: str | None = None  # dictionary form, in the text's language: "Dushanbe", "Ташкент"
    place_country: str | None = None  # ISO code of the place's country
    documents: tuple[str, ...] = ()  # as written: "memorandum of understanding", "соглашений"
    document_kinds: tuple[str, ...] = ()  # canonical: "memorandum", "agreement", ...
    sectors: tuple[str, ...] = ()
    money: tuple[str, ...] = ()  # as written: "$1 billion", "800 млн долларов"
    counts: tuple[str, ...] = ()  # as written: "15 documents"
    figures: tuple[Figure, ...] = ()  # the sums with their meaning, in the report's order
    visit_kind: str | None = None  # "state", "official", "working" when the report says so

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (dates as ISO strings, tuples as lists), as events store them."""
        out: dict[str, Any] = {}
        for name, value in dataclasses.asdict(self).items():
            if isinstance(value, date):
                out[name] = value.isoformat()
            elif isinstance(value, tuple):
                out[name] = list(value)
            else:
                out[name] = value
        return out

    @classmethod
    def from_dict(cls, stored: Mapping[str, Any]) -> Facts:
        """The inverse of ``to_dict``; unknown keys (from older rows) are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name, value in stored.items():
            if name not in known:
                continue
            if name in _DATE_FIELDS and isinstance(value, str):
                values[name] = date.fromisoformat(value)
            elif name == "figures" and isinstance(value, list):
                values[name] = tuple(Figure(**f) for f in value if isinstance(f, dict))
            elif isinstance(value, list):
                values[name] = tuple(value)
            else:
                values[name] = value
        return cls(**values)


_DATE_FIELDS = ("event_date", "event_end")
