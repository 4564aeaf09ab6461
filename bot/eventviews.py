"""From stored events to rendered Telegram messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from bot import render
from bot.render import EventView, Rendered, Source, render_alert, render_event_list
from news.facts import Facts, Figure
from news.language import detect_language
from news.summary import summarise
from storage import Database
from storage import events as event_store
from storage.events import EventInfo

_DATE_FIELDS = ("event_date", "event_end")


def facts_to_dict(facts: Facts) -> dict[str, Any]:
    """Facts as JSON-ready values (dates as ISO strings, tuples as lists)."""
    out: dict[str, Any] = {}
    for name, value in dataclasses.asdict(facts).items():
        if isinstance(value, date):
            out[name] = value.isoformat()
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


def facts_from_dict(data: dict[str, Any]) -> Facts:
    """The inverse of facts_to_dict; unknown keys (from older rows) are ignored."""
    known = {f.name for f in dataclasses.fields(Facts)}
    values: dict[str, Any] = {}
    for name, value in data.items():
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
    return Facts(**values)


def summary_in(event: EventInfo, lang: str | None) -> str:
    """The event's summary, or, when it was written from a report in another language, the
    summary of its first report in ``lang`` (a Russian reader of an event first reported in
    English reads the Russian report's summary)."""
    if lang is None or (event.language or "en") == lang:
        return event.summary
    for source in event.sources:
        # The feed's declared language is often missing or wrong for a single report.
        written_in = detect_language(f"{source.title} {source.text}") or source.language
        if written_in == lang and (source.title or source.text):
            summary = summarise(source.title, source.text, language=lang)
            if summary:
                return summary
    return event.summary


def event_view(event: EventInfo, lang: str | None = None) -> EventView:
    """What a reader sees; ``lang`` picks the summary of a report in their language."""
    return EventView(
        key=event.key,
        countries=event.countries,
        event_type=event.event_type,
        event_date=event.event_date,
        place=event.place,
        summary=summary_in(event, lang),
        facts=facts_from_dict(event.facts),
        sources=tuple(
            Source(s.feed_title or "source", s.url, s.language, s.published_at)
            for s in event.sources
        ),
        evidence=event.evidence,
        topics=event.topics,
        id=event.id,
    )


async def render_event_alert(
    db: Database, event_id: int, lang: str, subscribed: Collection[str] = ()
) -> Rendered | None:
    """The alert for an event, with its current source count (None if it is gone)."""
    event = await db.run(event_store.get_event_by_id, event_id=event_id)
    if event is None:
        return None
    return render_alert(event_view(event, lang), lang=lang, subscribed=subscribed)


async def render_digest(
    db: Database, event_ids: Sequence[int], lang: str, heading: str | None = None
) -> list[str]:
    """A day's events as one or more messages of at most 4096 characters each."""
    views: list[EventView] = []
    for event_id in event_ids:
        event = await db.run(event_store.get_event_by_id, event_id=event_id)
        if event is not None:
            views.append(event_view(event, lang))
    pages = []
    for start in range(0, len(views), 5):
        chunk = views[start : start + 5]
        pages.append(render_event_list(chunk, lang=lang, page=start // 5, heading=heading).text)
    return pages


async def render_burst(db: Database, event_ids: Sequence[int], lang: str, heading: str) -> str:
    """Several new events for one chat at once, as one compact message."""
    views: list[EventView] = []
    for event_id in event_ids:
        event = await db.run(event_store.get_event_by_id, event_id=event_id)
        if event is not None:
            views.append(event_view(event, lang))
    return render.render_burst(views, lang=lang, heading=heading)
