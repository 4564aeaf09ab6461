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


# -- review 4, finding 8: figures in multi-clause sentences ---------------------------------


def test_a_clause_boundary_ends_what_a_figure_measures_and_when() -> None:
    found = figures(
        "Trade between the two countries reached $1.5 billion last year, and the presidents "
        "agreed to raise it to $2 billion by 2025; Kazakhstan will invest $500 million in a "
        "new plant."
    )
    assert [(f.written, f.measure, f.role, f.period) for f in found] == [
        ("$1.5 billion", "trade", "result", "last year"),
        ("$2 billion", "trade", "target", "by 2025"),  # a deadline, not "in 2025"
        ("$500 million", "investment", "target", None),
    ]


def test_a_russian_deadline_stays_a_deadline() -> None:
    found = figures(
        "Товарооборот в прошлом году составил 1,5 млрд долларов, стороны намерены довести его "
        "до 2 млрд долларов к 2025 году; а Казахстан направит 500 млн долларов инвестиций в завод."
    )
    assert [(f.measure, f.period) for f in found] == [
        ("trade", "last year"),
        ("trade", "by 2025"),
        ("investment", None),
    ]
