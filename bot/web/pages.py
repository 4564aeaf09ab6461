"""The event archive in HTML (`/`, `/event/ID`) and Atom (`/events.atom`).

Server-rendered by Jinja2 with autoescaping on for every template, so feed text (summaries,
outlet names, titles, places) is always escaped; links to sources are http(s) only. Pages
carry no script and a Content-Security-Policy that forbids any, as a second line of defence.
A query string we cannot use (an unknown country or type) gives the page with a notice, never
an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from bot.export import render_atom
from bot.i18n import LANGUAGES, section
from bot.render import (  # the alerts' own tables: one wording of names, types and dates
    clean,
    country_name,
    event_type_name,
    flag,
    format_date,
    localised_place,
    ordered_parties,
    safe_url,
)
from bot.web.reads import SharedRead, WebReads
from news.countries import look_up_country
from news.facts import Facts
from news.records import CENTRAL_ASIA, EVENT_TYPES
from news.topics import topic_label
from storage import archive as archive_store
from storage import events as event_store
from storage.records import EventInfo

PAGE_EVENTS = 50  # events on the archive page
FEED_EVENTS = 50  # entries in the Atom feed
MAX_QUERY_VALUE = 100  # longer filter values are not looked up, only refused
TEMPLATES = Path(__file__).parent / "templates"
SECURITY_HEADERS = {
    # No script at all, styles only inline from our own template, no framing.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page_text(lang: str) -> dict[str, str]:
    """The page's words in ``lang``: the locale keys ``web_*``, without the prefix."""
    return section(lang, "web_")


def page_language(request: Request) -> str:
    """`?lang=ru|en`, else the browser's first language when we speak it, else English."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    accept = request.headers.get("accept-language", "")
    first = accept.split(",", 1)[0].strip().lower()
    return "ru" if first.startswith("ru") else "en"


@dataclass(frozen=True, slots=True)
class ArchiveFilter:
    """What the query string asked for, as far as we understood it, and what we could not."""

    country: str | None
    event_type: str | None
    notices: tuple[str, ...]


def read_filter(request: Request, lang: str) -> ArchiveFilter:
    text = page_text(lang)
    notices: list[str] = []
    country: str | None = None
    event_type: str | None = None
    raw_country = request.query_params.get("country", "").strip()
    found = look_up_country(raw_country)
    if found.too_long:
        notices.append(text["too_long"].format(field="country"))
    elif raw_country:
        country = found.code
        if country is None:
            near = found.suggestion
            value = clean(raw_country, 60)
            notices.append(
                text["suggest_country"].format(value=value, name=country_name(near, lang))
                if near
                else text["unknown_country"].format(value=value)
            )
    raw_type = request.query_params.get("type", "").strip().lower()
    if len(raw_type) > MAX_QUERY_VALUE:
        notices.append(text["too_long"].format(field="type"))
    elif raw_type:
        if raw_type in EVENT_TYPES:
            event_type = raw_type
        else:
            notices.append(text["unknown_type"].format(value=clean(raw_type, 60)))
    return ArchiveFilter(country, event_type, tuple(notices))


def event_context(event: EventInfo, lang: str) -> dict[str, Any]:
    """What the templates show of an event; plain text, escaped by the template."""
    parties = ordered_parties(event.countries)
    return {
        "key": event.key,
        "flags": "".join(flag(c) for c in parties),
        "parties": " – ".join(country_name(c, lang) for c in parties),
        "type": event_type_name(event.event_type, lang),
        "date": format_date(event.event_date, lang, _event_end(event.facts))
        if event.event_date
        else None,
        "iso_date": event.event_date.isoformat() if event.event_date else None,
        "place": clean(localised_place(event.place, lang), 120) if event.place else None,
        "summary": clean(event.summary),
        "topics": [topic_label(topic, lang) for topic in event.topics],
        "source_count": len(event.sources) or event.source_count,
        "sources": [
            {
                "outlet": clean(source.feed_title, 120) or "?",
                "title": clean(source.title, 300),
                "url": safe_url(source.url),
                "published": source.published_at.date().isoformat(),
                "language": source.language or "",
            }
            for source in event.sources
        ],
    }


def _event_end(facts: dict[str, Any]) -> date | None:
    try:
        return Facts.from_dict(facts).event_end
    except (ValueError, TypeError):
        return None  # a malformed stored value: the page shows the first day alone


class ArchivePages:
    """The HTML and Atom routes over the archive."""

    def __init__(self, reads: WebReads) -> None:
        self.reads = reads  # every read through the web's gate (bot/web/reads.py)
        self.countries = SharedRead(reads, archive_store.archive_countries)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            # On for every template whatever its name: feed text is hostile by default.
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _html(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = self.env.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    async def index(self, request: Request) -> Response:
        """Recent events, newest first, filtered by `?country=` and `?type=`."""
        lang = page_language(request)
        chosen = read_filter(request, lang)
        entries = await self.reads.run(
            archive_store.list_events,
            country=chosen.country,
            event_type=chosen.event_type,
            limit=PAGE_EVENTS,
        )
        # The five states first, then every partner the archive knows, by name.
        stored = await self.countries.get()
        countries = sorted(CENTRAL_ASIA, key=lambda c: country_name(c, lang))
        partners = set(stored) | ({chosen.country} if chosen.country else set())
        countries += sorted(partners - CENTRAL_ASIA, key=lambda c: country_name(c, lang))
        return self._html(
            "index.html",
            lang=lang,
            text=page_text(lang),
            notices=chosen.notices,
            events=[event_context(entry, lang) for entry in entries],
            country=chosen.country or "",
            event_type=chosen.event_type or "",
            country_options=[(code, country_name(code, lang)) for code in countries],
            type_options=[(kind, event_type_name(kind, lang)) for kind in EVENT_TYPES],
        )

    async def event(self, request: Request) -> Response:
        """One event: summary, facts and every source."""
        lang = page_language(request)
        key = str(request.path_params.get("key", ""))[:MAX_QUERY_VALUE]
        event = await self.reads.run(event_store.get_event, key=key)
        if event is None:
            return self._html(
                "missing.html",
                status=404,
                lang=lang,
                text=page_text(lang),
                message=page_text(lang)["not_found"].format(key=clean(key, 60)),
            )
        return self._html(
            "event.html", lang=lang, text=page_text(lang), event=event_context(event, lang)
        )

    async def atom(self, request: Request) -> Response:
        """The newest events as Atom; `?country=` narrows it to one country."""
        raw = request.query_params.get("country", "").strip()
        country = None
        if raw:
            country = look_up_country(raw).code
            if country is None:
                return PlainTextResponse(
                    f"Unknown country {clean(raw, 60)!r}: use a name or an ISO code, "
                    "e.g. ?country=TJ",
                    status_code=400,
                )
        entries = await self.reads.run(
            archive_store.list_events, country=country, limit=FEED_EVENTS
        )
        base = str(request.base_url).rstrip("/")
        title = "coopwatch: bilateral cooperation events"
        if country:
            title += f" — {country_name(country, 'en')}"
        feed_path = "/events.atom" + (f"?country={country}" if country else "")
        body = render_atom(
            entries,
            title=title,
            country=country,
            self_url=base + feed_path,
            event_url=lambda key: f"{base}/event/{key}",
        )
        return Response(body, media_type="application/atom+xml; charset=utf-8")
