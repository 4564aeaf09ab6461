"""/trends charts: counting by month and partner, and the drawn picture read back."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image

from bot.charts import (
    MAX_CAPTION,
    OTHER,
    country_trends,
    last_months,
    render_chart,
    states_trends,
    summary,
)
from news.facts import month_end

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MONTHS = last_months(date(2026, 11, 30))
PARTNERS = ("TJ", "UZ", "CN", "RU", "TR", "DE", "FR")
EVENTS = [
    (date(2026, month, 10), ("KZ", partner))
    for month in range(1, 12)
    for partner in PARTNERS[: month % len(PARTNERS) + 1]
] + [(date(2025, 1, 5), ("KZ", "TJ"))]  # older than 12 months: left out


def test_the_window_is_twelve_months_ending_now() -> None:
    assert MONTHS[0] == date(2025, 12, 1) and MONTHS[-1] == date(2026, 11, 1)
    assert len(MONTHS) == 12
    assert month_end(date(2026, 2, 1)) == date(2026, 2, 28)
    assert month_end(date(2025, 12, 1)) == date(2025, 12, 31)


def test_top_partners_are_stacked_and_the_rest_is_other() -> None:
    trends = country_trends(EVENTS, "KZ", MONTHS)
    assert [s.key for s in trends.series] == ["TJ", "UZ", "CN", "RU", "TR", OTHER]
    assert trends.total == len(EVENTS) - 1
    assert trends.series[0].counts[MONTHS.index(date(2026, 1, 1))] == 1
    assert sum(s.total for s in trends.series) == trends.total


def test_the_country_chart_is_a_png_with_one_series_per_partner_and_other() -> None:
    chart = render_chart(country_trends(EVENTS, "KZ", MONTHS), "en")
    assert chart.png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(chart.png))
    image.load()
    assert image.format == "PNG" and image.width > 500 and image.height > 300
    assert chart.series == 6
    assert chart.legend == ("Tajikistan", "Uzbekistan", "China", "Russia", "Turkey", "other")
    assert chart.title == "Kazakhstan: events per month by partner"
    assert "\n" not in chart.caption and len(chart.caption) <= MAX_CAPTION
    assert chart.caption.startswith("Kazakhstan: events in 12 months (Dec 2025 – Nov 2026): 42;")


def test_a_chart_with_few_partners_has_no_other_series() -> None:
    few = [(date(2026, 3, 1), ("UZ", "KG")), (date(2026, 4, 1), ("UZ", "KG"))]
    chart = render_chart(country_trends(few, "UZ", MONTHS), "en")
    assert chart.series == 1 and chart.legend == ("Kyrgyzstan",)


def test_without_a_country_the_five_states_stand_side_by_side_in_russian() -> None:
    chart = render_chart(states_trends(EVENTS, MONTHS), "ru")
    assert chart.png.startswith(PNG_SIGNATURE)
    assert chart.series == 5
    assert chart.legend == ("Казахстан", "Кыргызстан", "Таджикистан", "Туркменистан", "Узбекистан")
    assert chart.title == "События по месяцам, пять государств Центральной Азии"
    assert chart.ylabel == "События"
    assert chart.caption.startswith("События за 12 месяцев (дек 2025 – ноя 2026): Казахстан 42")


def test_a_very_long_summary_is_cut_to_telegrams_caption_limit() -> None:
    many = [(date(2026, 5, 1), ("KZ", f"X{n:03d}")) for n in range(400)]
    line = summary(country_trends(many, "KZ", MONTHS, top=400), "en")
    assert MAX_CAPTION - 3 <= len(line) <= MAX_CAPTION and line.endswith("…")


def test_the_busiest_month_counts_an_event_of_two_states_once() -> None:
    events = [
        (date(2026, 3, 4), ("KZ", "UZ")),  # two Central Asian states: one event
        (date(2026, 3, 9), ("KZ", "UZ")),
        (date(2026, 5, 2), ("TJ", "CN")),
        (date(2026, 5, 6), ("KG", "RU")),
        (date(2026, 5, 8), ("TM", "TR")),
    ]
    line = summary(states_trends(events, MONTHS), "en")
    # March: 2 events (4 bars of the states); May: 3 events, the busiest.
    assert line.endswith("busiest month: May 2026 (3).")
