"""From stored events to rendered Telegram messages."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache

from bot import render
from bot.render import EventView, Rendered, Source, render_alert, render_event_list
from news.facts import Facts
from news.language import detect_language
from news.summary import summarise
from storage import Database
from storage import events as event_store
from storage.records import EventInfo


def summary_in(event: EventInfo, lang: str | None) -> str:
    """The event's summary, or, when it was written from a report in another language, the
    summary of its first report in ``lang`` (a Russian reader of an event first reported in
    English reads the Russian report's summary), chosen for the event's parties."""
    if lang is None or (event.language or "en") == lang:
        return event.summary
    for source in event.sources:
        if not (source.title or source.text):
            continue
        if _written_in(source.title, source.text, source.language) == lang:
            summary = _report_summary(source.title, source.text, lang, tuple(event.countries))
            if summary:
                return summary
    return event.summary


# Alerts are rendered once per language and followed countries in a batch, but edits once per
# chat: without these, every Russian reader of an English-first event had its reports read
# again, in the event loop. Kept per report text (bounded).
@lru_cache(maxsize=512)
def _written_in(title: str, text: str, declared: str | None) -> str | None:
    # The feed's declared language is often missing or wrong for a single report.
    return detect_language(f"{title} {text}") or declared


@lru_cache(maxsize=512)
def _report_summary(title: str, text: str, lang: str, countries: tuple[str, ...]) -> str:
    # With the event's parties: a report that names another pair first must not open with it.
    return summarise(title, text, language=lang, countries=countries)


def event_view(event: EventInfo, lang: str | None = None) -> EventView:
    """What a reader sees; ``lang`` picks the summary of a report in their language."""
    return EventView(
        key=event.key,
        countries=event.countries,
        event_type=event.event_type,
        event_date=event.event_date,
        place=event.place,
        summary=summary_in(event, lang),
        facts=Facts.from_dict(event.facts),
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
