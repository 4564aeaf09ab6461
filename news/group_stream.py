"""`coopwatch group`: classification and grouping over a JSON Lines file, offline.

Items are taken in publication order, as the live pipeline meets them, and answered in input
order. `candidate_for` is what the live pipeline calls too, so both group alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from news.facts import Facts, announced_window, extract_facts, month_end, reports_arrival
from news.grouping import Candidate, EventState, Grouper
from news.records import CENTRAL_ASIA, Classification

OPEN_DAYS = timedelta(days=45)  # an event no report has joined for this long is closed
_WORD = re.compile(r"[^\W\d_]{4,}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:[  ]\d{3})*")
_SCALES = {
    "trillion": 10**12,
    "трлн": 10**12,
    "billion": 10**9,
    "bn": 10**9,
    "млрд": 10**9,
    "миллиард": 10**9,
    "million": 10**6,
    "mln": 10**6,
    "m": 10**6,
    "млн": 10**6,
    "миллион": 10**6,
    "thousand": 10**3,
    "тыс": 10**3,
    "тысяч": 10**3,
}
# Words every report of the same pair shares: they say nothing about *which* event it is.
_STOPWORD_TEXT = """
    that this with from have been were will their they which also about after during between
    over into more other said says told according president presidents minister ministers prime
    foreign affairs republic head state states country countries sides side both parties party
    cooperation bilateral relations visit visits official talks meeting held news today year
    years government which where while would could should being there these those agency
    service press ministry report reported republic's что этот этого того также который которые
    было были будет будут между после время президент президента президентом министр министра
    министров премьер глава главы республики республика страны стран стороны сторон
    сотрудничества сотрудничество двусторонних двустороннего отношений визит визита визитом
    переговоры переговоров встреча встречи сообщает сообщили пресс службы службе году года
    сегодня
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    item_id: Any  # as given (a string or a number); the line number when absent
    title: str
    text: str
    published: datetime | None
    # "2021-10" or "2021": published some time then. Not a time to order or group by, but the
    # year that "on October 24-25" means.
    period_end: date | None = None


def content_tokens(text: str, language: str, limit: int = 80) -> tuple[str, ...]:
    """Distinct content stems of `text`, prefixed by language ("en:dushan")."""
    stems: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS:
            continue
        stems.setdefault(f"{language}:{word[:6]}", None)
        if len(stems) >= limit:
            break
    return tuple(stems)


def _figure(span: str) -> str | None:
    """The value of a written figure ("$1.5 billion", "800 млн долларов") as digits."""
    number = _NUMBER.search(span)
    if number is None:
        return None
    value = _number_value(number.group(0))
    rest = span[number.end() :].lower()
    for word, scale in _SCALES.items():
        if re.match(rf"\s*{word}", rest):
            value *= scale
            break
    return f"{value:.0f}"


def _number_value(written: str) -> float:
    digits = written.replace(" ", "").replace("\u00a0", "")
    if "," in digits and "." in digits:
        digits = digits.replace(",", "")  # 1,500.5
    elif digits.count(",") == 1 and len(digits.split(",")[1]) != 3:
        digits = digits.replace(",", ".")  # 1,5 (Russian decimal comma)
    else:
        digits = digits.replace(",", "")  # 1,500
    if digits.count(".") > 1:
        digits = digits.replace(".", "")  # 1.000.000
    return float(digits)


def is_event(result: Classification) -> bool:
    """A positive that names two parties, one of them Central Asian: what gets grouped."""
    return (
        result.label
        and result.event_type != "none"
        and len(result.countries) >= 2
        and bool(CENTRAL_ASIA.intersection(result.countries))
    )


def event_candidate(
    item_id: str,
    title: str,
    text: str,
    *,
    published: datetime | None,
    classification: Classification,
    fallback_day: date,
    reference: date | None = None,
) -> tuple[Facts, Candidate]:
    """The facts of a positive item and its grouping view (the pipeline, scan and group).

    `reference`: for an item with no publication time, a day it was published by (a month
    or year given alone), against which its dates are read.
    """
    when = published
    if when is None and reference is not None:
        when = datetime(reference.year, reference.month, reference.day, 12, tzinfo=UTC)
    facts = extract_facts(title, text, language=classification.language, published=when)
    candidate = candidate_for(
        item_id,
        title,
        text,
        published=published,
        classification=classification,
        facts=facts,
        fallback_day=fallback_day,
    )
    return facts, candidate


def candidate_for(
    item_id: str,
    title: str,
    text: str,
    *,
    published: datetime | None,
    classification: Classification,
    facts: Facts,
    fallback_day: date,
) -> Candidate:
    """The grouping view of one positive item."""
    spans = [s for ev in classification.evidence for s in ev.spans]
    day = published.date() if published else fallback_day
    language = classification.language
    # An announcement with no day ("in the coming weeks", "in November") stays open for the
    # reports of the visit itself; its date is still not a stated one.
    window = announced_window(title, text, published=published)
    ahead = window[1] if window and facts.event_date is None else None
    figures = [f"${f.amount:.0f}" for f in facts.figures if f.amount is not None]
    figures += [f"#{v}" for v in map(_figure, facts.counts) if v]
    return Candidate(
        item_id=item_id,
        published=published,
        countries=tuple(sorted(classification.countries)),
        event_type=classification.event_type,
        event_start=facts.event_date or day,
        event_end=facts.event_end or facts.event_date or ahead or day,
        date_stated=facts.event_date is not None,
        officials=tuple(dict.fromkeys(s.value for s in spans if s.kind == "person")),
        place=facts.place_country,
        numbers=tuple(dict.fromkeys(figures)),
        documents=tuple(k for k in facts.document_kinds if k != "documents"),
        tokens=content_tokens(f"{title}\n{text[:600]}", language),
        announced=ahead is not None,
        arrival=facts.event_date is None and reports_arrival(title, text),
    )


_REDUCED = re.compile(r"^(?P<y>\d{4})(?:-(?P<m>\d{2}))?$")


def _period_end(value: Any) -> date | None:
    """The last day of an ISO 8601 month or year ("2021-10", "2021"), else None."""
    m = _REDUCED.match(value) if isinstance(value, str) else None
    if m is None:
        return None
    year, month = int(m.group("y")), int(m.group("m") or 12)
    if not 1 <= month <= 12:
        raise ValueError("published has no such month")
    return month_end(date(year, month, 1))


def _parse_published(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("published must be an ISO 8601 string")
    if _REDUCED.match(value):
        return None  # a month or a year: see _period_end
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _read(number: int, line: str) -> _Row:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object")
    title, text = data.get("title", ""), data.get("text")
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("title and text must be strings")
    return _Row(
        line=number,
        item_id=data.get("id", number),
        title=title,
        text=text,
        published=_parse_published(data.get("published")),
        period_end=_period_end(data.get("published")),
    )


@dataclass(frozen=True, slots=True)
class Grouped:
    """One item after classification and grouping: what `coopwatch group` and the benches see."""

    item_id: Any
    line: int
    classification: Classification
    facts: Facts | None  # None for an item that is not an event
    event: str | None  # the event key, or None
    new: bool  # True when this item opened the event


def group_rows(
    rows: Iterable[_Row],
    grouper: Grouper | None = None,
    *,
    relabel: Callable[[Any, Classification], Classification] | None = None,
) -> Iterator[Grouped]:
    """Classify and group `rows` in publication order, as the live pipeline meets them.

    `relabel(item_id, classification)`: a benchmark's way to group with gold labels, which
    tells grouping's own misses from the classifier's.
    """
    from news.classify import classify_item  # the classifier loads its gazetteer on first use

    rows = list(rows)
    grouper = grouper if grouper is not None else Grouper()
    dated = [r.published for r in rows if r.published]
    clock = min(dated).date() if dated else datetime.now(UTC).date()
    # Undated items sort last, as the live pipeline stamps them when first seen.
    ordered = sorted(rows, key=lambda r: (r.published is None, r.published or datetime.min, r.line))
    seen: dict[str, EventState] = {}  # every event as it last stood, closed ones too
    for row in ordered:
        if row.published is None and seen:
            # Undated items come last and may report any event of the file (live, they are
            # stamped when first seen): closed events are opened again for them.
            grouper.reopen(seen.values())
            seen = {}
        if row.published:
            clock = max(clock, row.published.date())
            # As the live pipeline loads only recent events.
            grouper.prune(clock - OPEN_DAYS)
        result = classify_item(row.title, row.text, published=row.published)
        if relabel is not None:
            result = relabel(row.item_id, result)
        if not is_event(result):
            yield Grouped(row.item_id, row.line, result, None, None, False)
            continue
        facts, candidate = event_candidate(
            str(row.item_id),
            row.title,
            row.text,
            published=row.published,
            classification=result,
            fallback_day=clock,
            reference=row.period_end,
        )
        key, new = grouper.assign(candidate)
        if row.published:
            seen[key] = grouper.event(key)
        yield Grouped(row.item_id, row.line, result, facts, key, new)


def read_rows(lines: Iterable[str]) -> tuple[list[_Row], dict[int, dict[str, Any]]]:
    """The readable rows of a JSON Lines input, and an error answer for each unreadable line."""
    errors: dict[int, dict[str, Any]] = {}
    rows: list[_Row] = []
    for number, line in enumerate(lines, start=1):
        try:
            rows.append(_read(number, line))
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            errors[number] = {"id": _guess_id(line, number), "line": number, "error": str(exc)}
    return rows, errors


def group_stream(lines: Iterable[str], out: TextIO) -> int:
    """Run `coopwatch group`: JSON Lines in, one JSON line out per input line, in input order.

    Returns the number of lines that could not be read (each answered with an error object).
    """
    rows, answers = read_rows(lines)
    errors = len(answers)
    for done in group_rows(rows):
        result = done.classification
        answers[done.line] = {
            "id": done.item_id,
            "event": done.event,
            "label": result.label,
            "event_type": result.event_type,
            "countries": list(result.countries),
        }
    for number in sorted(answers):
        out.write(json.dumps(answers[number], ensure_ascii=False) + "\n")
    out.flush()
    return errors


def _guess_id(line: str, number: int) -> Any:
    try:
        data = json.loads(line)
    except ValueError:
        return number
    return data.get("id", number) if isinstance(data, dict) else number
