"""Sums in reports: what they measure, and what is done with sums no report really states."""

from __future__ import annotations

from datetime import UTC, datetime

from news.facts import extract_facts, figures

PUBLISHED = datetime(2021, 5, 20, tzinfo=UTC)


def test_a_number_of_hundreds_of_digits_is_an_unknown_amount() -> None:
    body = (
        "Trade reached $" + "9" * 300 + " billion last year. "
        "Investment was $" + "8" * 300 + " million. Loans reached $2,000,000,000,000,000."
    )
    facts = extract_facts("Tokayev visited Dushanbe", body, language="en", published=PUBLISHED)
    assert [(f.measure, f.amount) for f in facts.figures] == [
        ("trade", None),
        ("investment", None),
        ("loan", None),  # two quadrillion dollars: more than any state's economy
    ]


def test_real_sums_keep_their_amount() -> None:
    found = figures("Trade reached $800 million; the target is 1,5 трлн сумов and $950 billion.")
    assert [(f.amount, f.currency) for f in found] == [
        (800e6, "USD"),
        (1.5e12, "UZS"),
        (950e9, "USD"),
    ]
