"""Facts round-trip through the JSON form events store (news.facts.Facts.to_dict/from_dict)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from news.facts import Facts, Figure, extract_facts


def test_round_trip_through_json() -> None:
    facts = Facts(
        event_date=date(2021, 5, 19),
        event_end=date(2021, 5, 20),
        place="Dushanbe",
        place_country="TJ",
        documents=("agreements",),
        money=("$1 billion",),
        figures=(Figure(written="$1 billion", measure="trade", role="target"),),
        visit_kind="state",
    )
    stored = json.loads(json.dumps(facts.to_dict()))
    assert stored["event_date"] == "2021-05-19"
    assert stored["documents"] == ["agreements"]
    assert Facts.from_dict(stored) == facts


def test_extracted_facts_survive_storage() -> None:
    facts = extract_facts(
        "Tokayev begins state visit to Dushanbe",
        "Kazakh President Tokayev began his two-day state visit to Dushanbe on May 19.",
        language="en",
        published=datetime(2021, 5, 19, 9, tzinfo=UTC),
    )
    assert Facts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


def test_unknown_keys_from_older_rows_are_ignored() -> None:
    assert Facts.from_dict({"place": "Tashkent", "retired_field": 1}) == Facts(place="Tashkent")
