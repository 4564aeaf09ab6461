"""Alerts, event details and event lists as Telegram HTML, valid whatever the feed text says.

Every piece of feed text (summary, outlet, place, evidence) is escaped with `html.escape`;
the markup is ours and always closed; links are http(s) only; the message stays within
Telegram's 4096 characters (UTF-16 code units, measured on the HTML we send, which is never
shorter than what Telegram counts) by cutting the feed text, never the markup; callback data
stays within 64 bytes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.i18n import LANGUAGES, t
from bot.terms import localised_terms
from news import data as bundled
from news.months import EN_MONTHS, RU_MONTHS_GENITIVE
from news.records import CENTRAL_ASIA, Facts, Figure

if TYPE_CHECKING:
    from telegram import InlineKeyboardMarkup

MAX_MESSAGE = 4096  # UTF-16 code units
MAX_CALLBACK = 64  # bytes
PAGE_SIZE = 5
_MAX_FIELD = 120  # outlet names, places: a hostile feed cannot fill the message with them
_MAX_URL = 1024

# Control characters and bidi overrides are dropped: they can reorder what a link says.
_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_CODE = re.compile(r"^[A-Z]{2}$")

_MONTHS = {
    "en": tuple(month.capitalize() for month in EN_MONTHS),
    "ru": RU_MONTHS_GENITIVE,
}


@dataclass(frozen=True, slots=True)
class Source:
    """One outlet's report of the event."""

    outlet: str
    url: str | None
    language: str | None = None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventView:
    """What a subscriber sees of an event (built by the caller from storage)."""

    key: str
    countries: tuple[str, ...]
    event_type: str
    event_date: date | None
    place: str | None
    summary: str
    facts: Facts = field(default_factory=Facts)
    sources: tuple[Source, ...] = ()  # first report first
    evidence: str | None = None
    topics: tuple[str, ...] = ()  # keys of news/data/topics.json
    id: int | None = None  # the short id people type: /event 42


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message ready to send: HTML text and inline buttons as (label, callback data)."""

    text: str
    buttons: list[list[tuple[str, str]]]


def _s(lang: str, key: str, **values: object) -> str:
    """An alert's word from the locale files (keys ``alert_*``)."""
    text = t(lang, f"alert_{key}")
    return text.format(**values) if values else text


def event_type_name(event_type: str, lang: str) -> str:
    """ "visit", "talks", "phone call", "agreement" in ``lang``: one wording for the alerts,
    the web page and the exports (the locale keys ``event_type_*``; /settings lists the
    plural of the same words, ``type_*``)."""
    return t(lang, f"event_type_{event_type}", default=event_type)


def utf16_len(text: str) -> int:
    """The length Telegram counts: characters outside the BMP take two units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str | None, limit: int | None = None) -> str:
    """Feed text made safe to escape: no lone surrogates, control or bidi-override characters."""
    if not text:
        return ""
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = " ".join(_UNSAFE.sub("", text).split())
    return _cut(text, limit) if limit is not None and len(text) > limit else text


def _cut(text: str, limit: int) -> str:
    room = text[: max(0, limit - 1)]
    if " " in room[len(room) // 2 :]:
        room = room.rsplit(" ", 1)[0]
    return room.rstrip(" ,;:") + "…"


def esc(text: str | None, limit: int | None = None) -> str:
    return html.escape(clean(text, limit), quote=False)


def _countries() -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = bundled.countries()
    return found


def country_name(code: str, lang: str) -> str:
    names = _countries().get(code, {}).get("name")
    if isinstance(names, dict):
        return str(names.get(lang) or names.get("en") or code)
    return code


def localised_place(place: str, lang: str) -> str:
    """A capital named in the other language, in `lang` ("Ташкент" -> "Tashkent"); other places
    as written (the gazetteer aligns only the first capital of each language)."""
    other = "ru" if lang == "en" else "en"
    for entry in _countries().values():
        capitals = entry.get("capitals") if isinstance(entry, dict) else None
        if not (isinstance(capitals, dict) and capitals.get(other) and capitals.get(lang)):
            continue
        if capitals[other][0] == place:
            return str(capitals[lang][0])
    return place


def flag(code: str) -> str:
    """The country's flag emoji, or nothing for a code without one."""
    return str(_countries().get(code, {}).get("flag") or "")


def ordered_parties(countries: Sequence[str]) -> list[str]:
    """Central Asian states first (the reason for the alert), each group in code order."""
    return sorted(countries, key=lambda c: (c not in CENTRAL_ASIA, c))


def format_date(day: date, lang: str, end: date | None = None) -> str:
    months = _MONTHS.get(lang, _MONTHS["en"])
    if end is None or end <= day:
        return f"{day.day} {months[day.month - 1]} {day.year}"
    if (end.year, end.month) == (day.year, day.month):
        return f"{day.day}–{end.day} {months[day.month - 1]} {day.year}"
    return f"{format_date(day, lang)} – {format_date(end, lang)}"


def safe_url(url: str | None) -> str | None:
    """The URL when Telegram may link it (http/https with a host, not huge), else None."""
    if not url or len(url) > _MAX_URL or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _link(source: Source) -> str:
    outlet = esc(source.outlet, _MAX_FIELD) or esc(urlsplit(source.url or "").hostname) or "?"
    url = safe_url(source.url)
    if url is None:
        return outlet
    return f'<a href="{html.escape(clean(url), quote=True)}">{outlet}</a>'


def _header(event: EventView, lang: str) -> str:
    parties = ordered_parties(event.countries)
    flags = "".join(flag(c) for c in parties)
    names = " – ".join(esc(country_name(c, lang)) for c in parties)
    parts = [f"<b>{names}</b>"]
    visit_kind = event.facts.visit_kind
    if event.event_type == "visit" and visit_kind in ("state", "official", "working"):
        parts.append(t(lang, f"visit_kind_{visit_kind}"))
    elif event.event_type in ("visit", "meeting", "call", "agreement"):
        parts.append(event_type_name(event.event_type, lang))
    if event.event_date is not None:
        parts.append(format_date(event.event_date, lang, event.facts.event_end))
    if event.place:
        parts.append(esc(localised_place(event.place, lang), 60))
    return f"{flags} " * bool(flags) + " · ".join(parts)


_SCALES = {
    "en": ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand")),
    "ru": ((10**12, "трлн"), (10**9, "млрд"), (10**6, "млн"), (10**3, "тыс.")),
}
_SYMBOLS = {"USD": "$", "EUR": "€"}
_EN_CURRENCIES = {
    "RUB": "roubles",
    "KZT": "tenge",
    "UZS": "soums",
    "TJS": "somoni",
    "KGS": "soms",
    "CNY": "yuan",
}
_RU_CURRENCIES = {
    "USD": "долларов",
    "EUR": "евро",
    "RUB": "руб.",
    "KZT": "тенге",
    "UZS": "сумов",
    "TJS": "сомони",
    "KGS": "сомов",
    "CNY": "юаней",
}


def format_amount(figure: Figure, lang: str) -> str:
    """A sum in the reader's language: "$800 million", "800 млн долларов" (as written when
    unknown)."""
    if figure.amount is None or figure.currency is None:
        return clean(figure.written, 40)
    value, word = figure.amount, ""
    for scale, name in _SCALES.get(lang, _SCALES["en"]):
        if value >= scale:
            value, word = value / scale, name
            break
    number = f"{value:.2f}".rstrip("0").rstrip(".")
    if lang == "ru":
        number = number.replace(".", ",")
        # "800 млн долларов", as Russian outlets write it, not "800 млн $".
        unit = _RU_CURRENCIES.get(figure.currency) if word else None
        unit = unit or _SYMBOLS.get(figure.currency) or _RU_CURRENCIES.get(figure.currency)
        return " ".join(p for p in (number, word, unit or figure.currency) if p)
    symbol = _SYMBOLS.get(figure.currency)
    if symbol:
        return f"{symbol}{number}" + (f" {word}" if word else "")
    unit = _EN_CURRENCIES.get(figure.currency, figure.currency)
    return " ".join(p for p in (number, word, unit) if p)


def _figure_text(figure: Figure, lang: str) -> str:
    amount = format_amount(figure, lang)
    period = figure.period
    when = t(lang, f"period_{period.replace(' ', '_')}", default="") if period else ""
    year = period[3:] if period and period.startswith("by ") else period
    dated = bool(year and year.isdigit())  # "2025", or a deadline "by 2025"
    if period and not when and dated:
        if period.startswith("by "):  # a deadline stays one: "by 2025", "к 2025 году"
            when = period if lang == "en" else f"к {year} году"
        else:
            when = f"in {period}" if lang == "en" else f"за {period} год"
    if figure.role == "target":
        goal = f"target {amount}" if lang == "en" else f"цель — {amount}"
        return f"{goal} {when}".strip() if when and dated else goal
    return f"{amount} {when}".strip()


def figures_line(facts: Facts, lang: str) -> str:
    """ "Trade: $800 million last year, target $1 billion": what each sum measures and means."""
    lang = lang if lang in LANGUAGES else "en"
    if not facts.figures:
        money = ", ".join(esc(m, 40) for m in facts.money[:3])
        return f"{_s(lang, 'figures')}: {money}" if money else ""
    groups: dict[str | None, list[str]] = {}
    for figure in facts.figures[:4]:
        groups.setdefault(figure.measure, []).append(_figure_text(figure, lang))
    parts = []
    for measure, texts in list(groups.items())[:3]:
        label = t(lang, f"measure_{measure}", default="") if measure else ""
        label = label or _s(lang, "figures")
        parts.append(f"{label}: {esc(', '.join(texts))}")
    return "; ".join(parts)


def _fit(build: Callable[[str], str], text: str) -> str:
    """`build(escaped text)` with `text` cut (on a word) until the message fits Telegram."""
    message = build(esc(text))
    if utf16_len(message) <= MAX_MESSAGE:
        return message
    low, high = 0, min(len(text), MAX_MESSAGE)
    while low < high:  # the longest prefix that fits; escaping makes the size non-linear
        mid = (low + high + 1) // 2
        if utf16_len(build(esc(text, mid))) <= MAX_MESSAGE:
            low = mid
        else:
            high = mid - 1
    return build(esc(text, low) if low else "")


def _callback(data: str) -> str | None:
    return data if 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK else None


def _buttons(
    event: EventView, lang: str, subscribed: Collection[str], details: bool
) -> list[list[tuple[str, str]]]:
    parties = [c for c in ordered_parties(event.countries) if _CODE.match(c)]
    followed = [c for c in parties if c in subscribed] or parties[:1]
    mute = followed[0] if followed else None
    partner = next((c for c in parties if c != mute), mute)
    row: list[tuple[str, str]] = []
    candidates = [
        (_s(lang, "details"), f"ev:{event.key}") if details else None,
        (_s(lang, "country_events", country=country_name(partner, lang)), f"cc:{partner}:0")
        if partner
        else None,
        (_s(lang, "mute", country=country_name(mute, lang)), f"mute:{mute}") if mute else None,
    ]
    for candidate in candidates:
        if candidate and _callback(candidate[1]):
            row.append((clean(candidate[0], 64), candidate[1]))
    return [row] if row else []


def _topics_line(event: EventView, lang: str) -> str | None:
    if not event.topics:
        return None
    # Imported here: the topic tables (≈ 40 ms of start-up) are for messages that name a
    # topic; `coopwatch export` imports this module for clean() and the country names only.
    from news.topics import topic_label

    names = ", ".join(esc(topic_label(key, lang), 40) for key in event.topics[:8])
    return f"{_s(lang, 'topics')}: {names}"


def render_alert(event: EventView, *, lang: str, subscribed: Collection[str] = ()) -> Rendered:
    """The push alert: header, summary, the first source "(+N more)", three buttons.

    `subscribed`: the chat's countries; the [Mute] button names the one it follows here.
    """
    header = _header(event, lang)
    lines_after: list[str] = []
    figures = figures_line(event.facts, lang)
    if figures:
        lines_after.append(figures)
    topics = _topics_line(event, lang)
    if topics:
        lines_after.append(topics)
    if event.sources:
        more = len(event.sources) - 1
        extra = f" ({_s(lang, 'more_sources', n=more)})" if more else ""
        lines_after.append(f"{_s(lang, 'source')}: {_link(event.sources[0])}{extra}")
    if event.id is not None:
        lines_after.append(f"/event {event.id}")
    tail = "\n".join(lines_after)

    def build(summary: str) -> str:
        return "\n".join(p for p in (header, summary, tail) if p)

    text = _fit(build, event.summary)
    return Rendered(text, _buttons(event, lang, subscribed, details=True))


def _fact_lines(event: EventView, lang: str) -> list[str]:
    facts, lines = event.facts, []
    if event.id is not None:
        lines.append(f"{_s(lang, 'event_id')}: /event {event.id}")
    if event.event_date is not None:
        lines.append(f"{_s(lang, 'date')}: {format_date(event.event_date, lang, facts.event_end)}")
    if event.place:
        lines.append(f"{_s(lang, 'place')}: {esc(localised_place(event.place, lang), 60)}")
    for label, values in (
        ("signed", facts.documents),
        ("sectors", facts.sectors),
        ("counts", facts.counts),
    ):
        if values and label in ("signed", "sectors"):
            values = tuple(localised_terms(values, lang))  # "agreements" -> "соглашения"
        if values:
            lines.append(f"{_s(lang, label)}: {', '.join(esc(v, 60) for v in values[:12])}")
    figures = figures_line(facts, lang)
    if figures:
        lines.append(figures)
    topics = _topics_line(event, lang)
    if topics:
        lines.append(topics)
    return lines


def _source_line(source: Source) -> str:
    when = f" · {source.published:%Y-%m-%d %H:%M}" if source.published else ""
    language = f" · {esc(source.language, 5)}" if source.language else ""
    return f"• {_link(source)}{language}{when}"


def render_event_details(
    event: EventView, *, lang: str, subscribed: Collection[str] = ()
) -> Rendered:
    """`/event ID`: header, summary, facts, the evidence sentence and every source."""
    fixed = [_header(event, lang), *(_fact_lines(event, lang))]
    evidence = clean(event.evidence, 1000)
    sources = [_source_line(s) for s in event.sources]
    # Sources go first into the budget: every outlet and link matters more than the summary.
    budget = MAX_MESSAGE - utf16_len("\n".join(fixed)) - 600
    kept: list[str] = []
    for line in sources:
        if utf16_len("\n".join([*kept, line])) > budget:
            kept.append(t(lang, "list_more", n=len(sources) - len(kept)))
            break
        kept.append(line)
    source_block = f"<b>{_s(lang, 'sources')}</b>\n" + "\n".join(kept) if kept else ""
    quote = html.escape(evidence, quote=False)
    evidence_block = (
        f"<b>{_s(lang, 'evidence')}</b>\n<blockquote>{quote}</blockquote>" if evidence else ""
    )

    def build(summary: str) -> str:
        parts = [fixed[0], summary, "\n".join(fixed[1:]), evidence_block, source_block]
        return "\n\n".join(p for p in parts if p)

    text = _fit(build, event.summary)
    if utf16_len(text) > MAX_MESSAGE:  # a huge evidence sentence: drop it, keep the sources
        evidence_block = ""
        text = _fit(build, event.summary)
    return Rendered(text, _buttons(event, lang, subscribed, details=False))


def render_event_list(
    events: Sequence[EventView],
    *,
    lang: str,
    country: str | None = None,
    page: int = 0,
    has_more: bool = False,
    heading: str | None = None,
) -> Rendered:
    """`/country` and `/latest`: one page of up to five events, newest first, with [More].

    ``heading``: instead of "Latest events" (a digest of new events says how many)."""
    heading = heading or (
        _s(lang, "latest_country", country=esc(country_name(country, lang)))
        if country
        else _s(lang, "latest")
    )
    if page:
        heading += f" ({_s(lang, 'page', n=page + 1)})"
    shown = list(events[:PAGE_SIZE])
    if not shown:
        return Rendered(f"<b>{heading}</b>\n{_s(lang, 'no_events')}", [])
    per_item = (MAX_MESSAGE - 200) // len(shown)
    blocks = []
    for event in shown:
        # The command itself under each item, as alerts show it: a bare "7." read as list
        # numbering, and a generic "/event ID" hint made people copy the wrong number.
        head = _header(event, lang)
        ref = f"/event {event.id}" if event.id is not None else ""
        room = max(0, per_item - utf16_len(head) - 60)
        summary = esc(event.summary, min(room // 2, 280)) if room else ""
        blocks.append("\n".join(p for p in (head, summary, ref) if p))
    text = f"<b>{heading}</b>\n\n" + "\n\n".join(blocks)
    detail_row = [
        (_list_number(e, n), f"ev:{e.key}")
        for n, e in enumerate(shown, 1)
        if _callback(f"ev:{e.key}")
    ]
    buttons = [detail_row] if detail_row else []
    target = f"cc:{country}:{page + 1}" if country and _CODE.match(country) else f"lt:{page + 1}"
    if has_more and _callback(target):
        buttons.append([(_s(lang, "more"), target)])
    return Rendered(text, buttons)


BURST_LISTED = 15  # a burst digest names this many events; the rest wait behind /latest
_BURST_LINE = 110  # characters of summary per event in a burst digest


def render_burst(events: Sequence[EventView], *, lang: str, heading: str) -> str:
    """Many new events at once (first run, a new feed) as one short message, oldest first.

    One line of header and one of summary per event, each with the `/event N` that opens it:
    a burst is a list to pick from, not N alerts (review 4, finding 1). Past BURST_LISTED
    events, "… and N more: /latest"; whatever is listed, the message fits Telegram's limit.
    """
    blocks: list[str] = []
    for event in events[:BURST_LISTED]:
        ref = f"/event {event.id} · " if event.id is not None else ""
        summary = esc(first_line(event.summary), _BURST_LINE)
        blocks.append("\n".join(p for p in (ref + _header(event, lang), summary) if p))
    rest = len(events) - len(blocks)
    while blocks:
        tail = f"\n\n{t(lang, 'list_more', n=rest)}: /latest" if rest else ""
        text = f"<b>{esc(heading)}</b>\n\n" + "\n\n".join(blocks) + tail
        if utf16_len(text) <= MAX_MESSAGE:
            return text
        blocks.pop()  # hostile headers (long place names): fewer events, never a cut tag
        rest += 1
    return f"<b>{esc(heading)}</b>\n\n{t(lang, 'list_more', n=rest)}: /latest"


def first_line(summary: str) -> str:
    """The summary's first sentence (the event itself, by how summaries are built)."""
    match = re.match(r".+?[.!?](?=\s|$)", summary.strip())
    return match.group(0) if match else summary


def _list_number(event: EventView, n: int) -> str:
    return str(event.id) if event.id is not None else str(n)


def keyboard(rendered: Rendered) -> InlineKeyboardMarkup | None:
    """The buttons as python-telegram-bot's inline keyboard (None when there are none)."""
    # Imported here: `coopwatch export` renders without python-telegram-bot (start-up).
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    rows = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row]
        for row in rendered.buttons
        if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None
