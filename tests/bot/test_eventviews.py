"""Which summary a reader gets when the event was first reported in another language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.eventviews import summary_in
from storage.events import EventInfo, SourceInfo

WHEN = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ENGLISH = SourceInfo(
    item_id=1,
    feed_title="The Astana Times",
    url="https://example.org/en/1",
    title="Tokayev and Mirziyoyev hold phone call",
    language="en",
    published_at=WHEN,
    text="Kazakh President Kassym-Jomart Tokayev and Uzbek President Shavkat Mirziyoyev spoke "
    "by phone on Tuesday.",
)
RUSSIAN = SourceInfo(
    item_id=2,
    feed_title="Kazinform",
    url="https://example.org/ru/2",
    title="Неделя дипломатии в Астане",
    # Declared English by a careless feed: the text decides.
    language="en",
    published_at=WHEN,
    text="На прошлой неделе президент Казахстана провёл переговоры с премьер-министром Индии в "
    "Астане. Президент Казахстана Касым-Жомарт Токаев и президент Узбекистана Шавкат Мирзиёев "
    "провели телефонный разговор во вторник.",
)


def _event(*sources: SourceInfo) -> EventInfo:
    return EventInfo(
        id=7,
        key="KZ-UZ-2026-11-24-call",
        event_type="call",
        countries=("KZ", "UZ"),
        event_date=date(2026, 11, 24),
        place=None,
        summary="Kazakh President Kassym-Jomart Tokayev and Uzbek President Shavkat Mirziyoyev "
        "spoke by phone on Tuesday.",
        facts={},
        evidence=None,
        language="en",
        confidence=0.95,
        source_count=len(sources),
        alerted=True,
        created_at=WHEN,
        sources=sources,
    )


def test_a_russian_reader_gets_the_russian_report_opened_by_this_events_parties() -> None:
    summary = summary_in(_event(ENGLISH, RUSSIAN), "ru")
    # Not the report's first event sentence, which is about Kazakhstan and India.
    assert summary.startswith("Президент Казахстана Касым-Жомарт Токаев и президент Узбекистана")
    assert "Индии" not in summary


def test_the_events_own_summary_when_no_report_is_in_the_readers_language() -> None:
    event = _event(ENGLISH)
    assert summary_in(event, "ru") == event.summary
    assert summary_in(_event(ENGLISH, RUSSIAN), "en") == event.summary
