"""`coopwatch eval PATH…`: measure the classifier (and grouping) on labelled JSON Lines files.

The files have the format of data/dev.jsonl: ``id, date, language, title, text, label,
event_type, countries`` and optionally ``doubtful``. The report gives precision, recall, F1,
country-set and type accuracy overall, per language and per event type, the type confusion,
the calibration of the confidence, and every error. Items marked ``doubtful`` (a label that is
genuinely arguable) are left out of the figures and scored apart. ``--grouping`` runs a
clusters file (clusters_dev.jsonl) through `coopwatch group` and adds B-cubed figures.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from news.classify import Classifier, classify_item, parse_published
from news.jsonlines import read_json_lines
from news.records import Classification

HIGH_CONFIDENCE = 0.8  # the calibration target: >= 90% of items above this are right
# coopwatch.pipeline.ALERT_CONFIDENCE: positives below it are listed, not pushed.
PUSH_CONFIDENCE = 0.7


class EvaluationError(Exception):
    """The labelled file cannot be read."""


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """One labelled item and the classifier's answer."""

    item_id: str
    language: str
    expected_label: bool
    expected_type: str
    expected_countries: tuple[str, ...]
    got: Classification
    doubtful: bool = False

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


def score(outcomes: Iterable[ScoredItem]) -> Scores:
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

    outcomes: tuple[ScoredItem, ...]

    @property
    def scored(self) -> tuple[ScoredItem, ...]:
        """The outcomes the figures are computed on: every item not marked doubtful."""
        return tuple(o for o in self.outcomes if not o.doubtful)

    @property
    def overall(self) -> Scores:
        return score(self.scored)

    @property
    def with_doubtful(self) -> Scores:
        return score(self.outcomes)

    def confusion(self) -> Counter[tuple[str, str]]:
        """(expected type, predicted type) counts; "none" for a negative label."""
        return Counter(
            (
                o.expected_type if o.expected_label else "none",
                o.got.event_type if o.got.label else "none",
            )
            for o in self.scored
        )

    def by_language(self) -> dict[str, Scores]:
        languages = sorted({o.language for o in self.scored})
        return {lang: score(o for o in self.scored if o.language == lang) for lang in languages}

    def by_type(self) -> dict[str, Scores]:
        """Per expected event type (recall, countries, type); precision per predicted type."""
        types = sorted({o.expected_type for o in self.scored if o.expected_label})
        return {
            t: score(o for o in self.scored if t in (o.expected_type, o.got.event_type))
            for t in types
        }

    def calibration(self, threshold: float = HIGH_CONFIDENCE) -> tuple[int, float]:
        """How many items have confidence >= threshold, and the share of them fully right."""
        high = [o for o in self.scored if o.got.confidence >= threshold]
        return len(high), (sum(o.fully_right for o in high) / len(high) if high else 1.0)

    def pushed(self, doubtful: bool) -> tuple[int, int]:
        """Positives confident enough to be pushed, and how many of them are true events."""
        rows = [o for o in self.outcomes if o.doubtful == doubtful and o.got.label]
        pushed = [o for o in rows if o.got.confidence >= PUSH_CONFIDENCE]
        return len(pushed), sum(o.expected_label for o in pushed)

    def errors(self) -> list[ScoredItem]:
        return [o for o in self.outcomes if not o.fully_right or not _type_right(o)]


def _type_right(o: ScoredItem) -> bool:
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
            ScoredItem(
                item_id=str(item.get("id", number)),
                language=str(item.get("language") or got.language),
                expected_label=bool(item.get("label")),
                expected_type=str(item.get("event_type") or "none"),
                expected_countries=tuple(sorted(item.get("countries") or ())),
                got=got,
                doubtful=bool(item.get("doubtful")),
            )
        )
    return EvalReport(tuple(outcomes))


def read_labelled(path: Path) -> list[dict[str, Any]]:
    """A labelled file's items; a file whose items lack a true/false ``label`` is refused."""
    items = _read_items(path)
    # Without labels every item would be scored as a negative: figures that mean nothing.
    for n, item in items:
        if not isinstance(item.get("label"), bool):
            raise EvaluationError(
                f'{path} line {n} has no "label" (true or false): eval needs a labelled '
                "file in the format of data/dev.jsonl; `coopwatch classify` reads unlabelled items"
            )
    return [item for _, item in items]


def read_clusters(path: Path) -> list[dict[str, Any]]:
    """A grouping file's reports; each must name its ``cluster`` (the gold event)."""
    items = _read_items(path)
    for n, item in items:
        if not item.get("cluster"):
            raise EvaluationError(
                f'{path} line {n} has no "cluster": --grouping needs reports grouped by event, '
                "in the format of data/clusters_dev.jsonl"
            )
    return [item for _, item in items]


def _read_items(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
        lines = list(read_json_lines(text.splitlines(), skip_blank=True))
    except OSError as exc:
        raise EvaluationError(f"cannot read items from {path}: {exc}") from exc
    for line in lines:
        if line.error is not None:
            raise EvaluationError(f"cannot read items from {path}: {line.error}") from line.error
    items: list[tuple[int, dict[str, Any]]] = []
    for line in lines:
        if line.item is None:
            raise EvaluationError(f"{path} line {line.number} is not a JSON object")
        items.append((line.number, line.item))
    if not items:
        raise EvaluationError(f"{path} holds no items")
    return items


def evaluate_file(
    path: Path | Sequence[Path], out: TextIO, *, grouping: Path | None = None
) -> EvalReport:
    """`coopwatch eval PATH…`: classify every labelled item and print the report to ``out``."""
    paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
    report = evaluate_items([item for p in paths for item in read_labelled(p)])
    write_report(report, out)
    if grouping is not None:
        write_grouping(evaluate_grouping(read_clusters(Path(grouping))), out)
    return report


def write_report(report: EvalReport, out: TextIO) -> None:
    doubtful = len(report.outcomes) - len(report.scored)
    out.write(f"items: {len(report.outcomes)} ({doubtful} doubtful, scored apart)\n")
    out.write(_line("overall", report.overall))
    if doubtful:
        out.write(_line("with doubtful", report.with_doubtful))
    for lang, scores in report.by_language().items():
        out.write(_line(f"language {lang}", scores))
    for event_type, scores in report.by_type().items():
        out.write(_line(f"type {event_type}", scores))
    out.write(_confusion(report.confusion()))
    count, share = report.calibration()
    out.write(f"confidence >= {HIGH_CONFIDENCE}: {count} items, {share:.1%} right\n")
    for apart in (False, True) if doubtful else (False,):
        positives = sum(1 for o in report.outcomes if o.doubtful == apart and o.got.label)
        pushed, right = report.pushed(apart)
        out.write(
            f"pushed (confidence >= {PUSH_CONFIDENCE}){' doubtful' if apart else ''}: "
            f"{pushed} of {positives} positives, {right} true events\n"
        )
    errors = report.errors()
    out.write(f"errors: {len(errors)}\n")
    for o in errors:
        out.write(_error(o))


_TYPES = ("visit", "meeting", "call", "agreement", "none")


def _confusion(counts: Counter[tuple[str, str]]) -> str:
    """Rows: the labelled type; columns: the type the classifier gave ("none": negative)."""
    head = "confusion (row: labelled, column: classified)\n"
    lines = [f"  {'':<10}" + "".join(f"{t:>10}" for t in _TYPES) + "\n"]
    for expected in _TYPES:
        cells = "".join(f"{counts.get((expected, got), 0):>10}" for got in _TYPES)
        lines.append(f"  {expected:<10}{cells}\n")
    return head + "".join(lines)


@dataclass(frozen=True, slots=True)
class GroupingReport:
    """B-cubed figures of `coopwatch group` over reports labelled with their event cluster."""

    reports: int
    events: int
    predicted_events: int
    not_recognised: int
    precision: float
    recall: float
    f1: float
    split: tuple[str, ...]  # gold clusters spread over several keys (or missed)
    merged: tuple[str, ...]  # keys holding reports of several gold clusters


def evaluate_grouping(items: Sequence[dict[str, Any]]) -> GroupingReport:
    """Run labelled reports through `coopwatch group` (publication order) and score B-cubed.

    The reports go through ``group_stream`` itself, the code behind `coopwatch group`, so the
    figure is the command's. A report the classifier does not take as an event (key None) is
    a cluster of its own: a missed report costs recall.
    """
    from news.group_stream import group_stream

    lines = [json.dumps(_group_input(item), ensure_ascii=False) for item in items]
    out = io.StringIO()
    group_stream(lines, out)
    answers = [line.value for line in read_json_lines(out.getvalue().splitlines())]
    gold = [str(item.get("cluster") or "") or None for item in items]
    keys = [str(a["event"]) if a.get("event") else None for a in answers]
    precision, recall, f1 = bcubed(gold, keys)
    by_gold: dict[str, set[str | None]] = {}
    by_key: dict[str, set[str | None]] = {}
    for g, k in zip(gold, keys, strict=True):
        if g is not None:
            by_gold.setdefault(g, set()).add(k)
        if k is not None:
            by_key.setdefault(k, set()).add(g)
    return GroupingReport(
        reports=len(items),
        events=len(by_gold),
        predicted_events=len(by_key),
        not_recognised=sum(1 for g, k in zip(gold, keys, strict=True) if g and k is None),
        precision=precision,
        recall=recall,
        f1=f1,
        split=tuple(sorted(g for g, ks in by_gold.items() if len(ks) > 1 or ks == {None})),
        merged=tuple(sorted(k for k, gs in by_key.items() if len(gs) > 1)),
    )


def _group_input(item: dict[str, Any]) -> dict[str, Any]:
    """A labelled report as `coopwatch group` input; a partial date becomes mid-period."""
    day: date | None = parse_published(str(item.get("published") or item.get("date") or ""))
    return {
        "id": item.get("id"),
        "title": str(item.get("title") or ""),
        "text": str(item.get("text") or ""),
        "published": day.isoformat() if day else None,
        "url": item.get("source_url") or item.get("url"),
        "source": item.get("outlet") or item.get("source"),
    }


def bcubed(
    gold: Sequence[str | None], predicted: Sequence[str | None]
) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 over items; a None label is a cluster of its own."""
    if not gold:
        return 1.0, 1.0, 1.0
    g = [c if c is not None else f"\0gold{i}" for i, c in enumerate(gold)]
    p = [c if c is not None else f"\0pred{i}" for i, c in enumerate(predicted)]
    pairs = Counter(zip(g, p, strict=True))
    gold_sizes, pred_sizes = Counter(g), Counter(p)
    precision = sum(pairs[(gi, pi)] / pred_sizes[pi] for gi, pi in zip(g, p, strict=True))
    recall = sum(pairs[(gi, pi)] / gold_sizes[gi] for gi, pi in zip(g, p, strict=True))
    precision, recall = precision / len(g), recall / len(g)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def write_grouping(report: GroupingReport, out: TextIO) -> None:
    out.write(
        f"grouping: {report.reports} reports, {report.events} events, "
        f"{report.predicted_events} predicted, {report.not_recognised} not recognised as events\n"
        f"grouping B-cubed P={report.precision:.3f} R={report.recall:.3f} F1={report.f1:.3f}\n"
    )
    if report.split:
        out.write(f"  split or missed: {' '.join(report.split)}\n")
    if report.merged:
        out.write(f"  merged: {' '.join(report.merged)}\n")


def _line(name: str, s: Scores) -> str:
    return (
        f"{name:<16} n={s.items:<4} P={s.precision:.3f} R={s.recall:.3f} F1={s.f1:.3f} "
        f"countries={s.country_accuracy:.3f} type={s.type_accuracy:.3f} "
        f"(tp={s.tp} fp={s.fp} fn={s.fn})\n"
    )


def _error(o: ScoredItem) -> str:
    expected = f"{o.expected_label} {o.expected_type} {list(o.expected_countries)}"
    got = f"{o.got.label} {o.got.event_type} {list(o.got.countries)} conf={o.got.confidence}"
    tag = " (doubtful)" if o.doubtful else ""
    lines = [f"- {o.item_id} [{o.language}]{tag} expected {expected}; got {got}\n"]
    for ev in o.got.evidence[:2]:
        spans = ", ".join(f"{s.kind}:{s.value}={s.text!r}" for s in ev.spans)
        lines.append(f"    evidence: {ev.sentence[:160]!r}\n    spans: {spans}\n")
    for note in o.got.notes[:4]:
        lines.append(f"    note: {note}\n")
    return "".join(lines)
