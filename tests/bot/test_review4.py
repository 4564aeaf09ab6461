"""What the user-experience review (review 4) saw, as a user sees it: the fake Bot API,
the console from a pipe, the real pipeline."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from coopwatch.settings import Settings
from storage import events as event_store
from tests.bot.harness import running_bot
from tests.bot.test_first_hour import (
    AZ_TM,
    CN_UZ,
    KG_TR,
    KZ_TJ,
    RU_UZ,
    USER,
    App,
    _db,
    add_feed,
    console,
    feed,
    quiet,
    say,
)
from tests.fakebot.server import FakeTelegram
from tests.feedserver import FeedServer

KZ_CN = (
    "Tokayev and Xi Jinping hold talks in Beijing",
    "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of China Xi "
    "Jinping in Beijing.",
)
TJ_UZ = (
    "Rahmon and Mirziyoyev talk by phone",
    "President of Tajikistan Emomali Rahmon held a telephone conversation with President of "
    "Uzbekistan Shavkat Mirziyoyev.",
)
SEVEN = (KZ_TJ, CN_UZ, KG_TR, AZ_TM, RU_UZ, KZ_CN, TJ_UZ)


@pytest.fixture
async def bot_app(
    settings: Settings, fake_telegram: FakeTelegram
) -> AsyncIterator[tuple[App, FakeTelegram]]:
    settings = settings.model_copy(
        update={
            "admin_ids": frozenset({1001}),
            "allow_private_feeds": True,
            "max_item_age": 24.0 * 7,
        }
    )
    async with running_bot(settings, fake_telegram) as app:
        yield app, fake_telegram


@pytest.mark.slow
async def test_a_burst_of_seven_events_is_one_message_with_a_command_per_event(
    bot_app: tuple[App, FakeTelegram], feed_server: FeedServer
) -> None:
    app, fake = bot_app
    await say(fake, USER, "/start")
    url = feed_server.add("/seven", feed(*((report, 1 + n / 2) for n, report in enumerate(SEVEN))))
    await add_feed(fake, url)
    messages = await quiet(fake, USER, 2)
    assert len(messages) == 2, messages  # the welcome and one digest, no "(page 2)"
    digest = messages[1]
    assert digest.startswith("7 new events") and "page" not in digest
    events, _ = await _db(app).run(event_store.latest_events, limit=20)
    assert len(events) == 7
    assert all(f"/event {event.id}" in digest for event in events), digest


@pytest.mark.slow
async def test_latest_shows_the_command_on_each_item_not_a_list_number(
    bot_app: tuple[App, FakeTelegram], feed_server: FeedServer
) -> None:
    app, fake = bot_app
    await say(fake, USER, "/start")
    await add_feed(fake, feed_server.add("/one", feed((KZ_TJ, 1))))
    await quiet(fake, USER, 2)
    [event], _ = await _db(app).run(event_store.latest_events)
    for command in ("/latest", "/country Tajikistan"):
        listing = await say(fake, USER, command)
        assert f"/event {event.id}" in listing, listing
        assert not re.search(r"^\d+\. ", listing, re.M), listing  # no "7. 🇰🇿🇹🇯"
        assert "/event ID" not in listing and "НОМЕР" not in listing


def test_a_burst_digest_fits_one_message_however_many_events() -> None:
    from bot.render import MAX_MESSAGE, EventView, render_burst, utf16_len

    views = [
        EventView(
            key=f"K{n}",
            countries=("KZ", "TJ"),
            event_type="visit",
            event_date=None,
            place="Dushanbe" * 7,
            summary="Tokayev began a two-day visit to Dushanbe. " + "Long background. " * 40,
            id=n,
        )
        for n in range(1, 60)
    ]
    text = render_burst(views, lang="en", heading="59 new events")
    assert utf16_len(text) <= MAX_MESSAGE
    assert "/event 1 " in text and text.endswith("more: /latest")
    assert "Long background" not in text  # one line of summary per event


# -- console mode from a pipe --------------------------------------------------------------


@pytest.mark.slow
def test_console_answers_every_one_of_twenty_piped_lines(tmp_path: Path) -> None:
    process = console(tmp_path)
    lines = ["/start"] + [f"/country {name}" for name in ("Tajikistan", "China") * 10]
    out, err = process.communicate("\n".join(lines) + "\n", timeout=120)
    assert process.returncode == 0, err
    assert "very fast" not in out  # the person at the terminal is not a flood
    assert out.count("Latest events: Tajikistan") == 10, out
    assert out.count("Latest events: China") == 10, out


@pytest.mark.slow
def test_console_runs_piped_admin_commands_in_order(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    first = feed_server.add("/a", feed((KZ_TJ, 1)))
    second = feed_server.add("/b", feed((KG_TR, 1)))
    process = console(tmp_path, ALLOW_PRIVATE_FEEDS="true")
    out, err = process.communicate(f"/addfeed {first}\n/addfeed {second}\n/pollnow\n", timeout=120)
    assert process.returncode == 0, err
    added = [int(n) for n in re.findall(r"Added feed (\d+)", out)]
    assert added == sorted(added) and len(added) == 2, out
    assert "Polled 0 feeds" not in out
    assert out.rindex("Added feed") < out.index("Polled"), out  # the poll came after both
