"""The summary opens with the event, then what came of it, in English and Russian."""

from __future__ import annotations

from news.summary import MAX_SUMMARY, summarise


def test_background_before_the_event_is_skipped() -> None:
    text = (
        "Kazakhstan and Uzbekistan have a long history of good-neighbourly relations. "
        "Uzbek President Shavkat Mirziyoyev held talks with Kazakh President Kassym-Jomart "
        "Tokayev in Tashkent on Friday. The weather in the capital was sunny. "
        "The two leaders signed a roadmap on water resources and transport."
    )
    summary = summarise("", text, language="en", countries=("KZ", "UZ"))
    assert summary.startswith("Uzbek President Shavkat Mirziyoyev held talks with Kazakh")
    assert summary.endswith("signed a roadmap on water resources and transport.")
    assert "weather" not in summary and "long history" not in summary


def test_a_russian_report_opens_with_the_visit_not_the_dateline_or_background() -> None:
    text = (
        "БИШКЕК, 3 июня — Sputnik. Отношения двух стран развиваются динамично. "
        "Президент Кыргызстана Садыр Жапаров прибыл в Астану с государственным визитом и "
        "провёл переговоры с Касым-Жомартом Токаевым. По итогам переговоров стороны подписали "
        "соглашения в сфере энергетики и транспорта."
    )
    summary = summarise("", text, language="ru", countries=("KG", "KZ"))
    assert summary.startswith("Президент Кыргызстана Садыр Жапаров прибыл в Астану")
    assert "подписали соглашения" in summary
    assert "Sputnik" not in summary and "динамично" not in summary


def test_titles_of_honour_are_dropped_and_the_summary_stays_short() -> None:
    text = (
        "On May 15, the Founder of Peace and National Unity – Leader of the Nation, President "
        "of the Republic of Tajikistan, Honorable Emomali Rahmon, had a telephone conversation "
        "with President of Uzbekistan Shavkat Mirziyoyev. " + "They discussed many things. " * 40
    )
    summary = summarise("", text, language="en", countries=("TJ", "UZ"))
    assert "Founder of Peace" not in summary and "Honorable" not in summary
    assert summary.startswith("On May 15, President of the Republic of Tajikistan, Emomali")
    assert len(summary) <= MAX_SUMMARY
