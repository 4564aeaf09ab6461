"""Event dates as outlets write them, in English and Russian."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from news.facts import extract_facts

PUBLISHED = datetime(2021, 5, 20, 9, 0, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Tokayev visited Dushanbe May 19.", "en", (date(2021, 5, 19), date(2021, 5, 19))),
        ("Tokayev held talks in Dushanbe on 19 May.", "en", (date(2021, 5, 19),) * 2),
        ("Tokayev held talks with Rahmon on Wednesday.", "en", (date(2021, 5, 19),) * 2),
        ("Токаев 19–20 мая посетил Душанбе.", "ru", (date(2021, 5, 19), date(2021, 5, 20))),
        ("В среду Токаев провёл переговоры с Рахмоном.", "ru", (date(2021, 5, 19),) * 2),
        ("Вчера Токаев провёл переговоры с Рахмоном.", "ru", (date(2021, 5, 19),) * 2),
        ("Yesterday Tokayev held talks with Rahmon.", "en", (date(2021, 5, 19),) * 2),
        ("Tokayev will visit Dushanbe on June 3.", "en", (date(2021, 6, 3),) * 2),
        ("Tokayev will visit Dushanbe next week.", "en", (date(2021, 5, 24), date(2021, 5, 30))),
        ("Tokayev is in Dushanbe this week.", "en", (date(2021, 5, 17), date(2021, 5, 23))),
        # The dateline dates the report, not the event: the text's own date wins.
        (
            "Москва. 19 мая. INTERFAX.RU - Путин 21-22 мая посетит Душанбе.",
            "ru",
            (date(2021, 5, 21), date(2021, 5, 22)),
        ),
        # The programme ahead of an arrival is not when the visit began.
        (
            "Lavrov arrived in Tashkent. On Friday he will hold talks with Saidov.",
            "en",
            (None, None),
        ),
        (
            "Putin arrived on Oct. 14. On Oct. 15 he met Tokayev.",
            "en",
            (date(2020, 10, 14), date(2020, 10, 15)),
        ),
    ],
)
def test_the_event_date_is_read_from_the_forms_outlets_write(
    text: str, language: str, expected: tuple[date | None, date | None]
) -> None:
    published = datetime(2020, 10, 16, tzinfo=UTC) if "Oct." in text else PUBLISHED
    facts = extract_facts("", text, language=language, published=published)
    assert (facts.event_date, facts.event_end or facts.event_date) == expected


def test_a_date_in_a_clause_about_another_event_is_not_the_events_date() -> None:
    text = (
        "Lavrov and Saidov discussed by phone the SCO summit, which will take place in China "
        "on 31 August."
    )
    facts = extract_facts("", text, language="en", published=datetime(2025, 8, 27, tzinfo=UTC))
    assert facts.event_date is None


def test_figures_keep_their_noun_role_and_period_once_each() -> None:
    text = (
        "Товарооборот в прошлом году составил 12,5 миллиарда долларов, стороны намерены "
        "довести его до $15 млрд. Объём торговли уже превысил $15 млрд."
    )
    facts = extract_facts("", text, language="ru", published=PUBLISHED)
    found = [(f.measure, f.role, f.period, f.amount, f.currency) for f in facts.figures]
    assert found == [
        ("trade", "result", "last year", 12.5e9, "USD"),
        ("trade", "target", None, 15e9, "USD"),
        ("trade", "result", None, 15e9, "USD"),
    ]
