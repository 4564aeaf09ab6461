"""Feeds, new items and events as storage hands them out: plain frozen records, without
SQLAlchemy.

Kept apart from the queries so that what only shows events (bot.export, the web pages) or
polls feeds (storage.feedrows) imports neither SQLAlchemy's ORM nor the table classes to
name them (issue 14).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from news.records import FeedItem


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """A feed as the scheduler, the admin commands and the CLI see it."""

    id: int
    url: str
    title: str
    language: str | None
    enabled: bool
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    last_error: str | None
    disabled_reason: str | None
    item_count: int = 0
    # news.parse.feed_fingerprint of the last body whose items were stored (None: parse).
    body_fingerprint: str | None = None

    @property
    def status(self) -> str:
        """ok, failing or disabled."""
        if not self.enabled:
            return "disabled"
        return "failing" if self.consecutive_failures else "ok"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item newly stored by a poll, ready for the classifier."""

    id: int
    feed_id: int
    feed_title: str
    item: FeedItem
    published_at: datetime  # the feed's date, else first seen
    alertable: bool


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One report of an event: which outlet, which link."""

    item_id: int
    feed_title: str
    url: str | None
    title: str
    language: str | None
    published_at: datetime
    text: str = ""  # the report's text, to summarise it in its own language


@dataclass(frozen=True, slots=True)
class EventInfo:
    """An event as the commands and the sender show it."""

    id: int
    key: str
    event_type: str
    countries: tuple[str, ...]
    event_date: date | None
    place: str | None
    summary: str
    facts: dict[str, Any]
    evidence: str | None
    language: str | None
    confidence: float
    source_count: int
    alerted: bool
    created_at: datetime
    sources: tuple[SourceInfo, ...] = ()
    topics: tuple[str, ...] = ()  # keys of news/data/topics.json, in the list's order


def split_codes(codes: str) -> tuple[str, ...]:
    """ "KZ,TJ" (or "energy,trade") as a tuple, without empty parts."""
    return tuple(code for code in codes.split(",") if code)


def event_info(event: Mapping[Any, Any], sources: tuple[SourceInfo, ...] = ()) -> EventInfo:
    """An EventInfo from the event table's columns by name (a Core row's mapping, a dict)."""
    return EventInfo(
        id=event["id"],
        key=event["key"],
        event_type=event["event_type"],
        countries=split_codes(event["countries"]),
        event_date=event["event_date"],
        place=event["place"],
        summary=event["summary"],
        facts=json.loads(event["facts"]) if event["facts"] else {},
        evidence=event["evidence"],
        language=event["language"],
        confidence=event["confidence"],
        source_count=event["source_count"],
        alerted=event["alerted"],
        created_at=event["created_at"],
        sources=sources,
        topics=split_codes(event["topics"]),
    )
