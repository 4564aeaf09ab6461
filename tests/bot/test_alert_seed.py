"""The alert for reports written like the product's seed example (our own wording)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.render import EventView, figures_line, render_alert
from news.candidates import event_candidate, is_event
from news.classify import classify_item
from news.facts import Facts, Figure, extract_facts
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
    assert "Товарооборот: 800 млн долларов за прошлый год, цель — 1 млрд долларов" in text
    assert "государственный визит" in text


def test_a_russian_report_gives_the_span_the_visit_and_the_meaning_of_its_figures() -> None:
    text, summary = _alert("", RU_TEXT, "ru")
    assert "19–20 мая 2021" in text
    assert summary.startswith("Президент Казахстана Касым-Жомарт Токаев 19–20 мая")
    assert "Sputnik" not in summary
    assert "Товарооборот: 800 млн долларов за прошлый год, цель — 1 млрд долларов" in text


def test_figures_without_a_known_currency_are_shown_as_written() -> None:
    facts = Facts(figures=(Figure(written="300 лари", measure="trade", role="result"),))
    assert figures_line(facts, "en") == "Trade: 300 лари"


def test_old_events_with_sums_only_keep_the_figures_line() -> None:
    assert figures_line(Facts(money=("$5 million",)), "ru") == "Суммы: $5 million"


def test_an_absurd_sum_in_feed_text_is_shown_short_as_written() -> None:
    body = "Trade reached $" + "9" * 300 + " billion last year."
    facts = extract_facts(SEED_TITLE, body, language="en", published=SEED_PUBLISHED)
    line = figures_line(facts, "en")
    assert "inf" not in line and len(line) < 80
    assert line.startswith("Trade: $999")
