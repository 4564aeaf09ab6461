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
