"""`coopwatch classify` contract: one JSON line out per line in, errors per line."""

from __future__ import annotations

import io
import json
from typing import Any

from news.classify import classify_stream


def run(lines: list[str]) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    errors = classify_stream(lines, out)
    return errors, [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_line_gets_an_answer_in_order_and_bad_lines_do_not_stop_the_run() -> None:
    event = {
        "id": "a1",
        "title": "Tokayev and Mirziyoyev held talks in Tashkent",
        "text": "The presidents of Kazakhstan and Uzbekistan discussed water and energy.",
        "published": "2025-03-04T10:00:00Z",
    }
    lines = [
        json.dumps(event),
        "{not json",
        json.dumps({"id": "no-text", "title": "Only a title"}),
        json.dumps({"title": "Weather", "text": "Snow is expected in Bishkek."}),
    ]
    errors, answers = run(lines)
    assert errors == 2
    assert [a["id"] for a in answers] == ["a1", 2, "no-text", 4]
    first = answers[0]
    assert first["label"] is True
    assert first["event_type"] == "meeting"
    assert first["countries"] == ["KZ", "UZ"]
    assert 0 <= first["confidence"] <= 1
    assert first["evidence"][0]["spans"][0].keys() == {"text", "kind", "value"}
    assert answers[1]["line"] == 2 and "error" in answers[1]
    assert answers[2]["line"] == 3 and "title" in answers[2]["error"]
    assert answers[3]["label"] is False and answers[3]["event_type"] == "none"


def test_a_json_value_that_is_not_an_object_is_an_error_line() -> None:
    errors, answers = run(["[1, 2]", "42"])
    assert errors == 2
    assert all("error" in a for a in answers)
