"""Documents and sectors in the reader's language (bot/terms.py)."""

from __future__ import annotations

from bot.render import EventView, render_event_details
from bot.terms import localised_terms
from news.facts import Facts


def test_english_words_for_a_russian_reader_and_back() -> None:
    assert localised_terms(["agreements", "Memorandum of understanding"], "ru") == [
        "соглашения",
        "меморандум о взаимопонимании",
    ]
    assert localised_terms(["healthcare", "public health", "water"], "ru") == [
        "здравоохранение",
        "водные ресурсы",
    ]
    assert localised_terms(["соглашения", "торговли", "газа"], "en") == [
        "agreement",
        "trade",
        "gas",
    ]
    assert localised_terms(["hydrogen", "водород"], "ru") == ["hydrogen", "водород"]  # as written


def test_details_show_facts_in_the_readers_language() -> None:
    event = EventView(
        key="KZ-TJ-2026-11-28-talks",
        countries=("KG", "TJ"),
        event_type="agreement",
        event_date=None,
        place=None,
        summary="Summary.",
        facts=Facts(documents=("agreements",), sectors=("trade", "energy")),
        id=7,
    )
    ru = render_event_details(event, lang="ru").text
    assert "Подписано: соглашения" in ru and "Сферы: торговля, энергетика" in ru
    assert "Кыргызстан – Таджикистан" in ru and "Событие: /event 7" in ru
    en = render_event_details(event, lang="en").text
    assert "Signed: agreements" in en and "Event: /event 7" in en
