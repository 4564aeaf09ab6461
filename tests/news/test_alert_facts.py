"""The alert's facts on reports written like the product's seed example (our own wording)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.render import EventView, render_alert
from news.classify import classify_item
from news.facts import extract_facts
from news.group_stream import event_candidate, is_event
from news.summary import summarise

SEED_PUBLISHED = datetime(2021, 5, 20, 9, 0, tzinfo=UTC)
SEED_TITLE = "Tokayev begins state visit to Tajikistan"
SEED_TEXT = (
    "NUR-SULTAN – Kazakh President Kassym-Jomart Tokayev began his two-day state visit to "
    "Dushanbe May 19 meeting with Tajikistan's President Emomali Rahmon. "
    "Relations between the two nations have deep historical roots, the presidents noted. "
    "Following the talks, Kazakh and Tajik ministries signed agreements in healthcare, "
    "culture and sports, aerospace, trade and infrastructure. "
    "Trade between the two countries reached $800 million last year, and the leaders said "
    "trade turnover could reach $1 billion."
)
RU_TEXT = (
    "ДУШАНБЕ, 20 мая — Sputnik. Президент Казахстана Касым-Жомарт Токаев 19–20 мая находится "
    "в Душанбе с государственным визитом и провёл переговоры с президентом Таджикистана "
    "Эмомали Рахмоном. По итогам переговоров министерства двух стран подписали соглашения о "
    "сотрудничестве в здравоохранении, культуре и торговле. Товарооборот в прошлом году "
    "составил 800 млн долларов, стороны намерены довести его до 1 млрд долларов."
)


def _alert(title: str, text: str, lang: str) -> tuple[str, str]:
    result = classify_item(title, text, published=SEED_PUBLISHED)
    assert is_event(result)
    facts, candidate = event_candidate(
        "seed",
        title,
        text,
        published=SEED_PUBLISHED,
        classification=result,
        fallback_day=SEED_PUBLISHED.date(),
    )
    summary = summarise(title, text, language=result.language, countries=result.countries)
    view = EventView(
        key=candidate.item_id,
        countries=result.countries,
        event_type=result.event_type,
        event_date=facts.event_date,
        place=facts.place,
        summary=summary,
        facts=facts,
    )
    return render_alert(view, lang=lang).text, summary


def test_the_seed_report_gives_the_alert_the_product_brief_promises() -> None:
    text, summary = _alert(SEED_TITLE, SEED_TEXT, "en")
    header, first_line = text.split("\n")[:2]
    assert "Kazakhstan – Tajikistan" in header
    assert "state visit" in header
    assert "19 May 2021" in header or "19–20 May 2021" in header
    assert "Dushanbe" in header
    assert first_line.startswith("Kazakh President Kassym-Jomart Tokayev began his two-day")
    assert "Rahmon" in first_line.split(". ")[0]
    assert "signed agreements in healthcare" in summary  # what came of it
    assert "deep historical roots" not in summary  # background is left out
    assert len(summary) <= 600
    assert "Trade: $800 million last year, target $1 billion" in text


def test_a_russian_subscriber_reads_the_figures_in_russian() -> None:
    text, _ = _alert(SEED_TITLE, SEED_TEXT, "ru")
    assert "Товарооборот: 800 млн $ за прошлый год, цель — 1 млрд $" in text
    assert "государственный визит" in text


def test_a_russian_report_gives_the_span_the_visit_and_the_meaning_of_its_figures() -> None:
    text, summary = _alert("", RU_TEXT, "ru")
    assert "19–20 мая 2021" in text
    assert summary.startswith("Президент Казахстана Касым-Жомарт Токаев 19–20 мая")
    assert "Sputnik" not in summary
    assert "Товарооборот: 800 млн $ за прошлый год, цель — 1 млрд $" in text


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
