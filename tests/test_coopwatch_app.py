"""The application object (coopwatch/app.py), used as the bot, the CLI and the web use it.

Real parts throughout: a migrated database on each backend, the local feed server, the real
fetcher, parse workers, classifier and pipeline.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from coopwatch.app import CLI, Actor, Coopwatch, FeedRefused, default_feeds, open_coopwatch
from coopwatch.settings import Settings, load_settings
from storage import audit
from tests.bot.test_event_flow import rss
from tests.feedserver import FeedServer

ADMIN = Actor(user_id=77)


def talks(hours_ago: float = 1.0) -> bytes:
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    return rss(
        [
            (
                "Kazakh and Tajik presidents hold talks in Dushanbe",
                "President of Kazakhstan Kassym-Jomart Tokayev held talks with President of "
                "Tajikistan Emomali Rahmon in Dushanbe. The sides signed agreements on trade "
                "and energy.",
                when,
            ),
            ("Snow expected in Almaty", "Forecasters expect heavy snow in Almaty tonight.", when),
        ]
    )


def settings_for(database_url: str, **changes: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "default_feeds": False,
        "allow_private_feeds": True,
    }
    return load_settings(**(values | changes))


@pytest.fixture
async def coopwatch(database_url: str) -> AsyncIterator[Coopwatch]:
    app = await open_coopwatch(settings_for(database_url))
    yield app
    await app.aclose()


async def test_feeds_are_added_and_removed_with_their_audit_record(
    coopwatch: Coopwatch, feed_server: FeedServer
) -> None:
    url = feed_server.add("/wire", talks())
    added = await coopwatch.add_feed(url, title="Wire", actor=ADMIN)
    assert (added.feed.title, added.item_count) == ("Wire", 2)
    assert [f.url for f in await coopwatch.list_feeds()] == [url]
    # Added from Telegram: the new items became an event at once.
    events = await coopwatch.events()
    assert [e.countries for e in events] == [("KZ", "TJ")]

    with pytest.raises(FeedRefused, match="already in the list"):
        await coopwatch.add_feed(url, actor=ADMIN)
    assert await coopwatch.remove_feed(999, actor=CLI) is None
    removed = await coopwatch.remove_feed(added.feed.id, actor=CLI)
    assert removed is not None and await coopwatch.list_feeds() == []

    entries = await coopwatch.db.run(audit.recent, limit=10)
    assert [(e.action, e.user_id, e.source) for e in reversed(entries)] == [
        ("addfeed", 77, "telegram"),
        ("removefeed", None, "cli"),
    ]


async def test_added_from_the_command_line_the_items_wait_for_the_bot(
    coopwatch: Coopwatch, feed_server: FeedServer
) -> None:
    url = feed_server.add("/wire", talks())
    await coopwatch.add_feed(url, actor=CLI, classify=False)
    assert await coopwatch.events() == []
    # The running bot's backlog job takes them up (once they are past the poll's grace).
    coopwatch.pipeline.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)
    result = await coopwatch.process_backlog()
    assert (result.classified, len(result.created)) == (2, 1)
    assert await coopwatch.count_events(country="TJ") == 1


async def test_opml_round_trip(coopwatch: Coopwatch, feed_server: FeedServer) -> None:
    good = feed_server.add("/good", talks())
    missing = feed_server.url("/missing")
    opml = (
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline type="rss" text="Good" xmlUrl="{good}"/>'
        f'<outline type="rss" text="Gone" xmlUrl="{missing}"/>'
        "</body></opml>"
    ).encode()
    results = await coopwatch.import_opml(opml, actor=CLI)
    assert [r.url for r in results] == [good, missing]
    assert results[0].added is not None and results[0].refused is None
    assert results[1].added is None and "could not fetch it" in (results[1].refused or "")
    exported = await coopwatch.export_opml()
    assert good.encode() in exported and missing.encode() not in exported


async def test_polls_and_the_cycle_of_coopwatch_poll(
    coopwatch: Coopwatch, feed_server: FeedServer
) -> None:
    url = feed_server.add("/wire", talks())
    await coopwatch.add_feed(url, actor=CLI, classify=False)
    # Just added: not due yet; poll_all makes it due and polls it with its validators.
    assert await coopwatch.poll_due() == []
    reports = await coopwatch.poll_all(actor=ADMIN)
    assert [r.outcome for r in reports] == ["not_modified"]
    assert feed_server.last_request("/wire").get("if-none-match")
    summary = await coopwatch.poll_cycle(every_feed=True)
    assert summary.line().startswith("polled 1 feeds: 0 ok, 1 not modified, 0 failed")
    assert (await coopwatch.db.run(audit.recent, limit=1))[0].action == "pollnow"


async def test_scan_prints_and_stores_nothing(
    coopwatch: Coopwatch, feed_server: FeedServer
) -> None:
    url = feed_server.add("/wire", talks())
    await coopwatch.add_feed(url, actor=CLI, classify=False)
    out = io.StringIO()
    assert await coopwatch.scan(out) == 0
    assert "KZ-TJ" in out.getvalue() and "1 event(s) in 2 item(s)" in out.getvalue()
    assert await coopwatch.events() == []


async def test_default_feeds_only_into_an_empty_database_and_only_when_asked(
    database_url: str,
) -> None:
    off = await open_coopwatch(settings_for(database_url))
    try:
        assert await off.seed_default_feeds() == 0
    finally:
        await off.aclose()
    on = await open_coopwatch(settings_for(database_url, default_feeds=True))
    try:
        assert await on.seed_default_feeds() == len(default_feeds())
        assert await on.seed_default_feeds() == 0  # not empty any more
    finally:
        await on.aclose()


async def test_prune_follows_retention_days(database_url: str) -> None:
    kept = await open_coopwatch(settings_for(database_url, retention_days=0))
    try:
        assert await kept.prune() is None
    finally:
        await kept.aclose()
    pruning = await open_coopwatch(settings_for(database_url, retention_days=30))
    try:
        pruned = await pruning.prune()
        assert pruned is not None and (pruned.items, pruned.deliveries) == (0, 0)
    finally:
        await pruning.aclose()
