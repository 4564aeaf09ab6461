"""What the event pipeline needs to know of a stored item before it groups and stores it.

Per item: the classifier's verdict (with its evidence as stored) and, for a report of an event,
its facts, grouping view and topics; per new event, its summary. All of it is pure and
picklable, so the pipeline can run it in a worker process (`news.analysis_pool`) while the
process that stores and groups goes on with the next feed: on a first poll of many feeds this
reading is half of the CPU time, and the storing process was the bottleneck (issue 14).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from news.candidates import event_candidate, is_event
from news.classify import classify_item, evidence_dicts
from news.facts import Facts
from news.grouping import Candidate
from news.records import Classification
from news.summary import summarise
from news.topics import find_topics, report_terms


@dataclass(frozen=True, slots=True)
class ItemText:
    """The part of a stored item the analysis reads."""

    id: int
    title: str
    text: str
    published: datetime  # the feed's date, else first seen
    language: str | None


@dataclass(frozen=True, slots=True)
class ReportReading:
    """What the pipeline reads from one positive report before grouping it."""

    facts: Facts
    candidate: Candidate
    topics: tuple[str, ...]
    terms: frozenset[str]


@dataclass(frozen=True, slots=True)
class ItemAnalysis:
    """One item's verdict; ``report`` only for a report of an event (`is_event`)."""

    classification: Classification
    evidence: str  # the verdict's evidence as JSON, as stored with the item
    report: ReportReading | None


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    """The summary of the report that opens an event (only those need one)."""

    title: str
    text: str
    language: str
    countries: tuple[str, ...]


def evidence_json(result: Classification) -> str:
    return json.dumps(evidence_dicts(result), ensure_ascii=False)


def analyse_item(item: ItemText) -> ItemAnalysis:
    result = classify_item(item.title, item.text, published=item.published, language=item.language)
    report = read_report(item, result) if is_event(result) else None
    return ItemAnalysis(result, evidence_json(result), report)


def analyse_items(items: Sequence[ItemText]) -> list[ItemAnalysis]:
    return [analyse_item(item) for item in items]


def read_report(item: ItemText, result: Classification) -> ReportReading:
    """The report's facts, grouping view and topics."""
    facts, candidate = event_candidate(
        str(item.id),
        item.title,
        item.text,
        published=item.published,
        classification=result,
        fallback_day=item.published.date(),
    )
    return ReportReading(
        facts=facts,
        candidate=candidate,
        topics=find_topics(item.title, item.text),
        terms=report_terms(item.title, item.text),
    )


def summarise_report(request: SummaryRequest) -> str:
    return summarise(
        request.title, request.text, language=request.language, countries=request.countries
    )
