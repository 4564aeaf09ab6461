"""`coopwatch group`: classification and grouping over a JSON Lines file, offline.

Items are taken in publication order, as the live pipeline meets them, and answered in input
order. Candidates are built by news/candidates.py, as in the live pipeline, so both group
alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from news.candidates import event_candidate, is_event
from news.facts import Facts, month_end
from news.grouping import EventState, Grouper
from news.jsonlines import JsonLine, read_json_lines
from news.records import Classification

OPEN_DAYS = timedelta(days=45)  # an event no report has joined for this long is closed


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


def _read(line: JsonLine) -> _Row:
    if line.error is not None:
        raise line.error
    data, number = line.item, line.number
    if data is None:
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
    for line in read_json_lines(lines):
        try:
            rows.append(_read(line))
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            number = line.number
            errors[number] = {"id": _guess_id(line), "line": number, "error": str(exc)}
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


def _guess_id(line: JsonLine) -> Any:
    return line.item.get("id", line.number) if line.item is not None else line.number
