"""Topics in alerts and event details, in the reader's language."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.render import EventView, render_alert, render_event_details

EVENT = EventView(
    key="42",
    countries=("TJ", "UZ"),
    event_type="meeting",
    event_date=date(2026, 11, 20),
    place=None,
    summary="The ministers discussed gas supplies and a new railway.",
    topics=("energy", "transport"),
)


def test_the_alert_names_the_topics_in_english_and_russian() -> None:
    assert "Topics: energy, transport and logistics" in render_alert(EVENT, lang="en").text
    assert "Темы: энергетика, транспорт и логистика" in render_alert(EVENT, lang="ru").text


def test_the_details_name_the_topics() -> None:
    assert "Темы: энергетика" in render_event_details(EVENT, lang="ru").text


def test_an_event_without_topics_has_no_topics_line() -> None:
    plain = replace(EVENT, topics=())
    assert "Topics" not in render_alert(plain, lang="en").text
