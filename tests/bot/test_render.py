"""Alert rendering against hostile feed text, checked with the fake Bot API's HTML parser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from telegram import Bot
from telegram.constants import ParseMode

from bot.render import (
    EventView,
    Rendered,
    Source,
    keyboard,
    render_alert,
    render_event_details,
    render_event_list,
)
from news.facts import Facts
from tests.fakebot.html import utf16_len
from tests.fakebot.server import FakeTelegram
from tests.fakebot.validate import check_reply_markup, format_text

SOURCES = (
    Source(
        "Steppe Wire",
        "https://steppewire.example/a?x=1&y=2",
        "en",
        datetime(2021, 5, 19, 8, tzinfo=UTC),
    ),
    Source("Pamir Post", "https://pamirpost.example/b", "en"),
    Source("Вести Азии", "https://vestiasii.example/c", "ru"),
)
EVENT = EventView(
    key="KZ-TJ-2021-05-19-visit",
    countries=("KZ", "TJ"),
    event_type="visit",
    event_date=date(2021, 5, 19),
    place="Dushanbe",
    summary="Tokayev began a two-day visit to Dushanbe and held talks with Rahmon.",
    facts=Facts(
        event_date=date(2021, 5, 19),
        event_end=date(2021, 5, 20),
        documents=("agreements",),
        sectors=("healthcare", "trade"),
        money=("$1 billion",),
        counts=("15 documents",),
    ),
    sources=SOURCES,
    evidence="Tokayev began his two-day state visit to Dushanbe on May 19.",
)
HOSTILE = [
    "<script>alert('x')</script> & friends",
    "Trade < 5% & rising; a && b <<>> c",
    "<b>unclosed bold <i>and italic",
    "&amp; &lt; &#x41; &bogus; &",
    "Лидеры 🤝🇰🇿 обсудили 😀 сотрудничество",
    "الرئيس توكاييف يزور دوشانبي \u202eevil\u202c שלום",
    'quote " and apostrophe \' in <a href="javascript:alert(1)">link</a>',
    "lone surrogate \ud800 here",
]


def seen(rendered: Rendered) -> str:
    """What the subscriber sees, as the fake server parses it (raises on invalid HTML)."""
    check_reply_markup(
        {
            "inline_keyboard": [
                [{"text": t, "callback_data": d} for t, d in row] for row in rendered.buttons
            ]
        }
    )
    return format_text(rendered.text, "HTML").text


def test_alert_header_names_pair_type_date_and_place_in_english() -> None:
    text = seen(render_alert(EVENT, lang="en"))
    first = text.splitlines()[0]
    assert first.startswith("🇰🇿🇹🇯 Kazakhstan – Tajikistan")
    assert "visit" in first and "19–20 May 2021" in first and "Dushanbe" in first
    assert "Tokayev began a two-day visit" in text
    assert "Source: Steppe Wire (+2 more)" in text


def test_alert_speaks_russian_to_a_russian_subscriber() -> None:
    rendered = render_alert(EVENT, lang="ru")
    text = seen(rendered)
    assert "Казахстан – Таджикистан" in text and "визит" in text and "19–20 мая 2021" in text
    assert "Источник: Steppe Wire (ещё 2)" in text
    labels = [label for label, _ in rendered.buttons[0]]
    assert labels == ["Подробнее", "События: Таджикистан", "Не присылать: Казахстан"]


def test_alert_links_the_first_source_with_an_escaped_url() -> None:
    rendered = render_alert(EVENT, lang="en")
    assert '<a href="https://steppewire.example/a?x=1&amp;y=2">Steppe Wire</a>' in rendered.text
    entities = format_text(rendered.text, "HTML").entities
    assert [e.url for e in entities if e.type == "text_link"] == [
        "https://steppewire.example/a?x=1&y=2"
    ]


def test_buttons_open_details_the_partner_and_mute_the_followed_country() -> None:
    rendered = render_alert(EVENT, lang="en", subscribed={"TJ"})
    assert rendered.buttons == [
        [
            ("Details", "ev:KZ-TJ-2021-05-19-visit"),
            ("Kazakhstan events", "cc:KZ:0"),
            ("Mute Tajikistan", "mute:TJ"),
        ]
    ]
    assert keyboard(rendered) is not None


@pytest.mark.parametrize("feed_text", HOSTILE)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_hostile_feed_text_always_gives_valid_telegram_html(feed_text: str, lang: str) -> None:
    event = replace(
        EVENT,
        summary=feed_text,
        place=feed_text[:30],
        evidence=feed_text,
        sources=(Source(feed_text, "javascript:alert(1)"), Source(feed_text, feed_text)),
    )
    for rendered in (
        render_alert(event, lang=lang),
        render_event_details(event, lang=lang),
        render_event_list([event] * 3, lang=lang, country="TJ", has_more=True),
    ):
        text = seen(rendered)
        links = format_text(rendered.text, "HTML").entities
        assert all(e.url and e.url.startswith("https://") for e in links if e.type == "text_link")
        if "<script>" in feed_text:
            assert "<script>" in text  # shown to the reader as text, never as markup
        assert "\u202e" not in text


def test_a_100_kb_text_is_cut_in_the_summary_and_keeps_the_markup() -> None:
    huge = ("Tokayev & Rahmon <discussed> trade " * 3000)[:100_000]
    event = replace(EVENT, summary=huge, evidence=huge)
    alert = render_alert(event, lang="en")
    assert utf16_len(alert.text) <= 4096
    text = seen(alert)
    assert "…" in text and "Source: Steppe Wire (+2 more)" in text
    details = render_event_details(event, lang="en")
    assert utf16_len(details.text) <= 4096
    assert "Pamir Post" in seen(details)


def test_emoji_count_as_two_utf16_units_towards_the_limit() -> None:
    event = replace(EVENT, summary="🇰🇿🤝🇹🇯 " * 5000)
    rendered = render_alert(event, lang="en")
    assert utf16_len(rendered.text) <= 4096
    seen(rendered)


def test_callback_data_stays_within_64_bytes_even_for_a_long_key() -> None:
    rendered = render_alert(replace(EVENT, key="K" * 100), lang="en")
    assert all(len(d.encode()) <= 64 for row in rendered.buttons for _, d in row)
    assert not any(d.startswith("ev:") for row in rendered.buttons for _, d in row)
    odd = render_alert(replace(EVENT, countries=("<x>", "TJ")), lang="ru")
    assert all(
        d in ("ev:KZ-TJ-2021-05-19-visit", "cc:TJ:0", "mute:TJ")
        for row in odd.buttons
        for _, d in row
    )
    seen(odd)


def test_details_list_every_source_the_facts_and_the_evidence() -> None:
    text = seen(render_event_details(EVENT, lang="en"))
    for outlet in ("Steppe Wire", "Pamir Post", "Вести Азии"):
        assert outlet in text
    for fact in ("agreements", "healthcare, trade", "$1 billion", "15 documents", "Dushanbe"):
        assert fact in text
    assert "Tokayev began his two-day state visit to Dushanbe on May 19." in text


def test_details_with_hundreds_of_sources_stay_within_the_limit() -> None:
    many = tuple(Source(f"Outlet {n}", f"https://o{n}.example/{'x' * 80}") for n in range(300))
    rendered = render_event_details(replace(EVENT, sources=many), lang="en")
    assert utf16_len(rendered.text) <= 4096
    text = seen(rendered)
    assert "Outlet 0" in text and "more" in text


def test_event_list_shows_five_per_page_with_a_more_button() -> None:
    events = [replace(EVENT, key=f"KZ-TJ-2021-05-{n:02d}-visit") for n in range(1, 8)]
    rendered = render_event_list(events, lang="en", country="TJ", has_more=True)
    text = seen(rendered)
    assert text.startswith("Latest events: Tajikistan")
    assert text.count("Kazakhstan – Tajikistan") == 5
    assert rendered.buttons[-1] == [("More", "cc:TJ:1")]
    assert len(rendered.buttons[0]) == 5
    latest = render_event_list([], lang="ru")
    assert seen(latest) == "Последние события\nСобытий пока нет."


async def test_the_fake_bot_api_accepts_a_hostile_alert(fake_telegram: FakeTelegram) -> None:
    event = replace(EVENT, summary=" ".join(HOSTILE) * 200)
    rendered = render_alert(event, lang="en")
    fake_telegram.add_chat(42, "private", first_name="Subscriber")
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        await bot.send_message(
            chat_id=42,
            text=rendered.text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rendered),
        )
    message = fake_telegram.messages(42)[-1]
    assert message.text.startswith("🇰🇿🇹🇯 Kazakhstan – Tajikistan")
    assert "Source: Steppe Wire (+2 more)" in message.text


def test_a_capital_is_named_in_the_subscribers_language() -> None:
    assert "Душанбе" in seen(render_alert(EVENT, lang="ru")).splitlines()[0]
    assert "Tashkent" in seen(render_alert(replace(EVENT, place="Ташкент"), lang="en"))


def test_a_deadline_reads_as_one_and_russian_sums_in_words() -> None:
    from bot.render import figures_line
    from news.facts import Facts, Figure

    facts = Facts(
        figures=(
            Figure("$800 million", "trade", "result", "last year", 8e8, "USD"),
            Figure("$2 billion", "trade", "target", "by 2025", 2e9, "USD"),
        )
    )
    assert figures_line(facts, "en") == "Trade: $800 million last year, target $2 billion by 2025"
    assert figures_line(facts, "ru") == (
        "Товарооборот: 800 млн долларов за прошлый год, цель — 2 млрд долларов к 2025 году"
    )
