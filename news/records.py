"""Typed records passed between the stages of the news pipeline.

Frozen dataclasses rather than ORM rows, so each stage can be tested on its own and the
storage layer stays behind a narrow interface (the lemon24/reader approach).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

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
