"""`coopwatch eval PATH`: measure the classifier on a labelled JSON Lines file.

The file has the format of data/dev.jsonl: ``id, date, language, title, text, label,
event_type, countries``. The report gives precision, recall, F1, country-set and type accuracy
overall, per language and per event type, the calibration of the confidence, and every error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from news.classify import Classifier, classify_item, parse_published
from news.records import Classification

HIGH_CONFIDENCE = 0.8  # the calibration target: >= 90% of items above this are right


class EvaluationError(Exception):
    """The labelled file cannot be read."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One labelled item and the classifier's answer."""

    item_id: str
    language: str
    expected_label: bool
    expected_type: str
    expected_countries: tuple[str, ...]
    got: Classification

    @property
    def label_right(self) -> bool:
        return self.expected_label == self.got.label

    @property
    def fully_right(self) -> bool:
        """Label right and, for a positive, the country pair right too."""
        if not self.label_right:
            return False
        return not self.expected_label or self.expected_countries == self.got.countries


@dataclass(frozen=True, slots=True)
class Scores:
    """Detection scores over a group of outcomes."""

    items: int
    tp: int
    fp: int
    fn: int
    countries_right: int
    types_right: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def country_accuracy(self) -> float:
        return self.countries_right / self.tp if self.tp else 1.0

    @property
    def type_accuracy(self) -> float:
        return self.types_right / self.tp if self.tp else 1.0


def score(outcomes: Iterable[Outcome]) -> Scores:
    rows = list(outcomes)
    tps = [o for o in rows if o.expected_label and o.got.label]
    return Scores(
        items=len(rows),
        tp=len(tps),
        fp=sum(1 for o in rows if not o.expected_label and o.got.label),
        fn=sum(1 for o in rows if o.expected_label and not o.got.label),
        countries_right=sum(1 for o in tps if o.expected_countries == o.got.countries),
        types_right=sum(1 for o in tps if o.expected_type == o.got.event_type),
    )


@dataclass(frozen=True, slots=True)
class EvalReport:
    """All outcomes of one evaluation run, with the summary figures derived from them."""

    outcomes: tuple[Outcome, ...]

    @property
    def overall(self) -> Scores:
        return score(self.outcomes)

    def by_language(self) -> dict[str, Scores]:
        languages = sorted({o.language for o in self.outcomes})
        return {lang: score(o for o in self.outcomes if o.language == lang) for lang in languages}

    def by_type(self) -> dict[str, Scores]:
        """Per expected event type (recall, countries, type); precision per predicted type."""
        types = sorted({o.expected_type for o in self.outcomes if o.expected_label})
        return {
            t: score(o for o in self.outcomes if t in (o.expected_type, o.got.event_type))
            for t in types
        }

    def calibration(self, threshold: float = HIGH_CONFIDENCE) -> tuple[int, float]:
        """How many items have confidence >= threshold, and the share of them fully right."""
        high = [o for o in self.outcomes if o.got.confidence >= threshold]
        return len(high), (sum(o.fully_right for o in high) / len(high) if high else 1.0)

    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.fully_right or not _type_right(o)]


def _type_right(o: Outcome) -> bool:
    return not (o.expected_label and o.got.label) or o.expected_type == o.got.event_type


def evaluate_items(
    items: Sequence[dict[str, Any]], classifier: Classifier | None = None
) -> EvalReport:
    """Classify labelled items (dicts in the dev.jsonl format)."""
    outcomes = []
    for number, item in enumerate(items, start=1):
        published = parse_published(str(item.get("date") or ""))
        title, text = str(item.get("title") or ""), str(item.get("text") or "")
        if classifier is None:
            got = classify_item(title, text, published=published)
        else:
            got = classifier.classify(title, text, published=published)
        outcomes.append(
            Outcome(
                item_id=str(item.get("id", number)),
                language=str(item.get("language") or got.language),
                expected_label=bool(item.get("label")),
                expected_type=str(item.get("event_type") or "none"),
                expected_countries=tuple(sorted(item.get("countries") or ())),
                got=got,
            )
        )
    return EvalReport(tuple(outcomes))


def read_labelled(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        items = [(n, json.loads(line)) for n, line in enumerate(lines, 1) if line.strip()]
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"cannot read labelled items from {path}: {exc}") from exc
    # Without labels every item would be scored as a negative: figures that mean nothing.
    for n, item in items:
        if not isinstance(item, dict) or not isinstance(item.get("label"), bool):
            raise EvaluationError(
                f'{path} line {n} has no "label" (true or false): eval needs a labelled '
                "file in the format of data/dev.jsonl; `coopwatch classify` reads unlabelled items"
            )
    if not items:
        raise EvaluationError(f"{path} holds no items")
    return [item for _, item in items]


def evaluate_file(path: Path, out: TextIO) -> EvalReport:
    """`coopwatch eval PATH`: classify every labelled item and print the report to ``out``."""
    report = evaluate_items(read_labelled(Path(path)))
    write_report(report, out)
    return report


def write_report(report: EvalReport, out: TextIO) -> None:
    out.write(f"items: {len(report.outcomes)}\n")
    out.write(_line("overall", report.overall))
    for lang, scores in report.by_language().items():
        out.write(_line(f"language {lang}", scores))
    for event_type, scores in report.by_type().items():
        out.write(_line(f"type {event_type}", scores))
    count, share = report.calibration()
    out.write(f"confidence >= {HIGH_CONFIDENCE}: {count} items, {share:.1%} right\n")
    errors = report.errors()
    out.write(f"errors: {len(errors)}\n")
    for o in errors:
        out.write(_error(o))


def _line(name: str, s: Scores) -> str:
    return (
        f"{name:<16} n={s.items:<4} P={s.precision:.3f} R={s.recall:.3f} F1={s.f1:.3f} "
        f"countries={s.country_accuracy:.3f} type={s.type_accuracy:.3f} "
        f"(tp={s.tp} fp={s.fp} fn={s.fn})\n"
    )


def _error(o: Outcome) -> str:
    expected = f"{o.expected_label} {o.expected_type} {list(o.expected_countries)}"
    got = f"{o.got.label} {o.got.event_type} {list(o.got.countries)} conf={o.got.confidence}"
    lines = [f"- {o.item_id} [{o.language}] expected {expected}; got {got}\n"]
    for ev in o.got.evidence[:2]:
        spans = ", ".join(f"{s.kind}:{s.value}={s.text!r}" for s in ev.spans)
        lines.append(f"    evidence: {ev.sentence[:160]!r}\n    spans: {spans}\n")
    for note in o.got.notes[:4]:
        lines.append(f"    note: {note}\n")
    return "".join(lines)
