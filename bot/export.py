"""Stored events out: JSON Lines, CSV and Atom (`coopwatch export`, `/export`, `/events.atom`).

Every format carries the same fields: id, date, type, countries, place, summary, topics and
every source (outlet, title, URL). Feed text is cleaned of control and bidi-override
characters first (bot.render.clean); CSV cells that a spreadsheet would run as a formula are
defused, and the Atom XML is built by ElementTree, which escapes everything it writes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, time
from typing import Any

from bot.render import (
    clean,
    country_name,
    event_type_name,
    format_date,
    ordered_parties,
    safe_url,
)
from storage.records import EventInfo

FORMATS = ("jsonl", "csv", "atom")
CSV_COLUMNS = (
    "id",
    "date",
    "type",
    "countries",
    "place",
    "summary",
    "topics",
    "source_outlets",
    "source_titles",
    "source_urls",
)
ATOM = "http://www.w3.org/2005/Atom"
# Event ids in the Atom feed are stable UUIDs derived from the event key, the same whether the
# feed comes from the web server or the command line.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:coopwatch:events")
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 does not allow at all; clean() leaves a few of them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def export_record(event: EventInfo) -> dict[str, Any]:
    """One event as plain JSON-ready values (the JSON Lines object, the CSV row's source)."""
    return {
        "id": event.key,
        "date": event.event_date.isoformat() if event.event_date else None,
        "type": event.event_type,
        "countries": list(ordered_parties(event.countries)),
        "place": clean(event.place) or None,
        "summary": clean(event.summary),
        "topics": list(event.topics),
        "sources": [
            {
                "outlet": clean(source.feed_title),
                "title": clean(source.title),
                "url": safe_url(source.url),
            }
            for source in event.sources
        ],
    }


def render_jsonl(entries: Iterable[EventInfo]) -> str:
    return "".join(json.dumps(export_record(entry), ensure_ascii=False) + "\n" for entry in entries)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(entries: Iterable[EventInfo]) -> str:
    """One row per event; lists in a cell are joined by "; " (sources: one per line)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        record = export_record(entry)
        sources = record["sources"]
        row = [
            record["id"],
            record["date"] or "",
            record["type"],
            "; ".join(record["countries"]),
            record["place"] or "",
            record["summary"],
            "; ".join(record["topics"]),
            "\n".join(s["outlet"] for s in sources),
            "\n".join(s["title"] for s in sources),
            "\n".join(s["url"] or "" for s in sources),
        ]
        writer.writerow([_cell(str(value)) for value in row])
    return out.getvalue()


def event_title(event: EventInfo, lang: str = "en") -> str:
    """ "Kazakhstan – Tajikistan · visit · 19 May 2021" (plain text, not escaped)."""
    parts = [" – ".join(country_name(c, lang) for c in ordered_parties(event.countries))]
    parts.append(event_type_name(event.event_type, lang))
    if event.event_date is not None:
        parts.append(format_date(event.event_date, lang))
    return " · ".join(parts)


def atom_id(key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, key)}"


def feed_atom_id(country: str | None) -> str:
    """The feed's permanent id (RFC 4287 4.2.6): all events, or one country's (ISO code).

    Never the request URL: its host and query (spelling of the country, tracking
    parameters) are the visitor's, and a feed reader would see a new feed for each.
    """
    return atom_id(f"feed:{country or '*'}")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", clean(text))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = _xml_text(text)
    return element


def _stamp(event: EventInfo) -> datetime:
    return event.created_at.astimezone(UTC)


def render_atom(
    entries: Sequence[EventInfo],
    *,
    title: str,
    country: str | None = None,
    self_url: str | None = None,
    event_url: Callable[[str], str] | None = None,
    now: datetime | None = None,
) -> bytes:
    """An Atom 1.0 feed (RFC 4287) of the events (of ``country``, if given), newest first."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "title", title)
    _sub(feed, "id", feed_atom_id(country))
    updated = max((_stamp(e) for e in entries), default=now or datetime.now(UTC))
    _sub(feed, "updated", updated.isoformat())
    _sub(_sub(feed, "author"), "name", "coopwatch")
    _sub(feed, "generator", "coopwatch")
    if self_url:
        _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    for event in entries:
        item = _sub(feed, "entry")
        _sub(item, "id", atom_id(event.key))
        _sub(item, "title", event_title(event))
        _sub(item, "updated", _stamp(event).isoformat())
        if event.event_date is not None:
            published = datetime.combine(event.event_date, time(0, 0), tzinfo=UTC)
            _sub(item, "published", published.isoformat())
        if event_url is not None:
            _sub(item, "link", rel="alternate", type="text/html", href=event_url(event.key))
        for source in event.sources:
            url = safe_url(source.url)
            if url is not None:
                _sub(item, "link", rel="related", href=url, title=_xml_text(source.feed_title))
        _sub(item, "summary", event.summary, type="text")
        scheme = "urn:coopwatch:"
        _sub(item, "category", term=event.event_type, scheme=scheme + "type")
        for code in ordered_parties(event.countries):
            name = country_name(code, "en")
            _sub(item, "category", term=code, scheme=scheme + "country", label=name)
        for topic in event.topics:
            _sub(item, "category", term=_xml_text(topic), scheme=scheme + "topic")
    document: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return document


def render_export(
    entries: Sequence[EventInfo],
    fmt: str,
    *,
    title: str,
    country: str | None = None,
    spreadsheet: bool = False,
) -> bytes:
    """The events in one of FORMATS, as bytes ready to write or send.

    ``spreadsheet``: the CSV is a document people open (/export), so it starts with a BOM;
    on standard output it is for scripts, where a BOM becomes part of the first column name.
    """
    if fmt == "jsonl":
        return render_jsonl(entries).encode("utf-8")
    if fmt == "csv":
        # A BOM so that spreadsheets open UTF-8 (Cyrillic names) as UTF-8.
        return render_csv(entries).encode("utf-8-sig" if spreadsheet else "utf-8")
    if fmt == "atom":
        return render_atom(entries, title=title, country=country)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
