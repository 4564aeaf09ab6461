"""`coopwatch eval`: metrics and the error list on a small labelled file of our own."""

from __future__ import annotations

import io
import json
from pathlib import Path

from news.evaluate import evaluate_file

ITEMS = [
    {
        "id": "p1",
        "date": "2024-05-01",
        "language": "en",
        "title": "",
        "text": "Kyrgyz President Sadyr Japarov held talks with Turkish President Erdogan.",
        "label": True,
        "event_type": "meeting",
        "countries": ["KG", "TR"],
    },
    {
        "id": "p2",
        "date": "2024-05-02",
        "language": "ru",
        "title": "Рахмон и Путин провели телефонный разговор",
        "text": "Президенты Таджикистана и России обсудили сотрудничество.",
        "label": True,
        "event_type": "call",
        "countries": ["RU", "TJ"],
    },
    {
        "id": "n1",
        "date": "2024",
        "language": "en",
        "title": "",
        "text": "Heavy snow is expected in Astana this weekend.",
        "label": False,
        "event_type": "none",
        "countries": [],
    },
    {
        # labelled positive on purpose with a pair we cannot find: must show up as an error
        "id": "missed",
        "date": "",
        "language": "en",
        "title": "",
        "text": "Officials discussed cooperation.",
        "label": True,
        "event_type": "meeting",
        "countries": ["KZ", "UZ"],
    },
]


def test_report_gives_the_figures_and_lists_every_error(tmp_path: Path) -> None:
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in ITEMS), "utf-8")
    out = io.StringIO()
    report = evaluate_file(path, out)
    overall = report.overall
    assert (overall.tp, overall.fp, overall.fn) == (2, 0, 1)
    assert overall.precision == 1.0
    assert round(overall.recall, 3) == 0.667
    assert overall.country_accuracy == 1.0
    assert set(report.by_language()) == {"en", "ru"}
    text = out.getvalue()
    for figure in ("P=1.000", "R=0.667", "language ru", "type call", "confidence >= 0.8"):
        assert figure in text
    assert "- missed [en] expected True meeting ['KZ', 'UZ']; got False" in text
    assert "errors: 1" in text


def test_doubtful_items_are_scored_apart_and_types_confused(tmp_path: Path) -> None:
    doubtful = {**ITEMS[2], "id": "d1", "label": True, "event_type": "visit", "doubtful": True}
    doubtful["countries"] = ["KZ", "UZ"]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in [*ITEMS, doubtful]))
    out = io.StringIO()
    report = evaluate_file([path], out)
    assert report.overall.fn == 1  # the doubtful miss is not counted
    assert report.with_doubtful.fn == 2
    assert report.confusion()[("meeting", "meeting")] == 1
    assert report.confusion()[("call", "call")] == 1
    assert report.confusion()[("meeting", "none")] == 1
    text = out.getvalue()
    assert "1 doubtful" in text and "with doubtful" in text and "confusion" in text


def test_grouping_scores_bcubed_over_reports(tmp_path: Path) -> None:
    clusters = tmp_path / "clusters.jsonl"
    reports = [
        ("a1", "A", "2024-05-02", "Japarov and Erdogan held talks in Ankara on May 2."),
        ("a2", "A", "2024-05-03", "Kyrgyz President Japarov met Turkish President Erdogan."),
        ("b1", "B", "2024-05", "Heavy snow is expected in Astana this weekend."),
    ]
    rows = [
        {"id": i, "cluster": c, "date": d, "language": "en", "title": "", "text": t}
        for i, c, d, t in reports
    ]
    clusters.write_text("\n".join(json.dumps(r) for r in rows), "utf-8")
    out = io.StringIO()
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(json.dumps(ITEMS[0]), "utf-8")
    evaluate_file([labelled], out, grouping=clusters)
    text = out.getvalue()
    # the two reports of A share one key; the weather report is no event (a cluster of one)
    assert "grouping: 3 reports, 2 events, 1 predicted, 1 not recognised" in text
    assert "grouping B-cubed P=1.000 R=1.000 F1=1.000" in text


def test_push_threshold_is_the_pipelines() -> None:
    from coopwatch.pipeline import ALERT_CONFIDENCE
    from news.evaluate import PUSH_CONFIDENCE

    assert PUSH_CONFIDENCE == ALERT_CONFIDENCE
