"""Feed management from Telegram (admins only) and the poller, against local servers."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coopwatch.leadership import instance_name
from coopwatch.polling import FeedPoller
from coopwatch.settings import Settings
from news.fetch import FeedFetcher
from storage import Database, feedrows
from storage import feeds as feed_store
from storage.feeds import StoredItem
from tests.bot.harness import running_bot
from tests.fakebot.server import FakeTelegram
from tests.feedserver import HTML_PAGE, FeedServer, make_rss

ADMIN, STRANGER = 1001, 2002


def _admin_settings(settings: Settings, *, private: bool = True) -> Settings:
    return settings.model_copy(
        update={"admin_ids": frozenset({ADMIN}), "allow_private_feeds": private}
    )


async def _ask(fake: FakeTelegram, user: int, text: str, count: int) -> str:
    fake.send_user_message(user, text)
    return (await fake.wait_for_messages(user, count, timeout=15))[-1].text


async def test_non_admin_is_refused_and_nothing_changes(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    url = feed_server.add("/rss", make_rss("Steppe News", 3))
    async with running_bot(_admin_settings(settings), fake_telegram) as app:
        for n, command in enumerate(
            [f"/addfeed {url}", "/removefeed 1", "/feeds", "/pollnow"], start=1
        ):
            reply = await _ask(fake_telegram, STRANGER, command, n)
            assert reply == "Sorry, only the operators of this bot can do that."
        db: Database = app.bot_data.opened().db
        assert await db.run(feed_store.list_feeds) == []
    assert feed_server.count("/rss") == 0


@pytest.mark.slow
async def test_admin_adds_lists_polls_and_removes_a_feed(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    url = feed_server.add("/rss", make_rss("Steppe News", 3))
    async with running_bot(_admin_settings(settings), fake_telegram):
        reply = await _ask(fake_telegram, ADMIN, f"/addfeed {url}", 2)
        assert reply == "Added feed 1: Steppe News with 3 items."
        reply = await _ask(fake_telegram, ADMIN, f"/addfeed {url}", 4)
        assert "already in the list" in reply
        reply = await _ask(fake_telegram, ADMIN, "/feeds", 5)
        assert "1. Steppe News — ok" in reply and "items: 3" in reply
        reply = await _ask(fake_telegram, ADMIN, "/pollnow", 6)
        assert reply.startswith("Polled 1 feed: 0 ok, 1 unchanged, 0 failed")  # not "1 feeds"
        reply = await _ask(fake_telegram, ADMIN, "/removefeed 1", 7)
        assert reply == "Removed feed 1: Steppe News."
        reply = await _ask(fake_telegram, ADMIN, "/removefeed 1", 8)
        assert "There is no feed with id 1" in reply
        reply = await _ask(fake_telegram, ADMIN, "/removefeed", 9)
        assert reply.startswith("Usage: /removefeed ID")


async def test_addfeed_refuses_what_is_not_a_feed(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    page = feed_server.add("/page", HTML_PAGE, content_type="text/html")
    broken = feed_server.add("/broken", b"oops", status=500)
    async with running_bot(_admin_settings(settings), fake_telegram):
        reply = await _ask(fake_telegram, ADMIN, f"/addfeed {page}", 2)
        assert reply.startswith("I can't add that feed: not a usable feed")
        reply = await _ask(fake_telegram, ADMIN, f"/addfeed {broken}", 4)
        assert reply.startswith("I can't add that feed: could not fetch it")
        reply = await _ask(fake_telegram, ADMIN, "/addfeed", 5)
        assert reply.startswith("Usage: /addfeed URL")


async def test_addfeed_refuses_private_addresses_by_default(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    url = feed_server.add("/rss", make_rss("Local", 1))
    async with running_bot(_admin_settings(settings, private=False), fake_telegram):
        for n, target in enumerate(
            [url, "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd"]
        ):
            reply = await _ask(fake_telegram, ADMIN, f"/addfeed {target}", 2 * n + 2)
            assert reply.startswith("I can't add that feed"), reply
    assert feed_server.count("/rss") == 0


def _poller(db: Database, fetcher: FeedFetcher, **options: Any) -> FeedPoller:
    """A poller as these tests need it: a 10-minute interval, items fresh for 48 hours."""
    return FeedPoller(
        db=db, fetcher=fetcher, interval=600, max_item_age=timedelta(hours=48), **options
    )


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def test_poller_isolates_failures_and_persists_schedule(
    sqlite_db: Database, feed_server: FeedServer
) -> None:
    good = feed_server.add("/good", make_rss("Good", 2, start=datetime.now(UTC)))
    bad = feed_server.add("/bad", b"", status=500)
    for url in (good, bad):
        sqlite_db.call(feed_store.add_feed, url=url)
    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    async with FeedFetcher(allow_private=True) as fetcher:
        poller = _poller(sqlite_db, fetcher, clock=clock, rng=random.Random(1))
        reports = {r.url: r for r in await poller.poll_due()}
        assert reports[good].outcome == "ok" and reports[good].new_count == 2
        assert reports[bad].outcome == "error" and "500" in (reports[bad].error or "")
        # Nothing is due again right away: the schedule lives in the database.
        assert await poller.poll_due() == []
        feeds = {f.url: f for f in sqlite_db.call(feed_store.list_feeds)}
        assert feeds[good].status == "ok" and feeds[good].etag
        assert feeds[bad].status == "failing" and feeds[bad].consecutive_failures == 1
        assert feeds[bad].next_poll_at is not None
        # Second poll of the good feed: conditional GET answered 304, nothing new.
        clock.now += timedelta(hours=1)
        reports = {r.url: r for r in await poller.poll_due()}
        assert reports[good].outcome == "not_modified" and not reports[good].new_count
        assert feed_server.last_request("/good").get("if-none-match") == feeds[good].etag


async def test_a_cycle_holds_only_a_few_feeds_between_fetching_and_classifying(
    sqlite_db: Database, feed_server: FeedServer
) -> None:
    # Classifying is slower than fetching: unbounded, a cycle over many feeds would fetch
    # them all and hold every article in memory while they wait for the hook.
    for n in range(6):
        url = feed_server.add(f"/many{n}", make_rss(f"Feed {n}", 2, start=datetime.now(UTC)))
        sqlite_db.call(feed_store.add_feed, url=url)
    waiting = peak = 0

    async def slow_hook(items: Sequence[StoredItem]) -> None:
        nonlocal waiting, peak
        waiting += 1
        peak = max(peak, waiting)
        # Wait for a second poll to arrive (a loaded machine fetches slower than 50 ms), so
        # that the bound, not the timing, decides how many are here at once.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                while waiting < 2:
                    await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # room for a third, were the bound broken
        waiting -= 1

    async with FeedFetcher(allow_private=True) as fetcher:
        poller = _poller(sqlite_db, fetcher, on_new_items=slow_hook, max_polls_at_once=2)
        reports = await poller.poll_due()
    assert [r.outcome for r in reports] == ["ok"] * 6
    assert sum(r.new_count for r in reports) == 12
    assert peak == 2


async def test_backlog_is_stored_but_not_alertable(
    sqlite_db: Database, feed_server: FeedServer
) -> None:
    old = datetime.now(UTC) - timedelta(days=5)
    url = feed_server.add("/old", make_rss("Archive", 3, start=old))
    sqlite_db.call(feed_store.add_feed, url=url)
    stored: list[StoredItem] = []

    async def hook(items: Sequence[StoredItem]) -> None:
        stored.extend(items)

    async with FeedFetcher(allow_private=True) as fetcher:
        poller = _poller(sqlite_db, fetcher, on_new_items=hook)
        [report] = await poller.poll_due()
    assert report.new_count == 3
    assert len(stored) == 3 and not any(item.alertable for item in stored)


async def test_feed_failing_for_seven_days_is_disabled_and_admins_told(
    sqlite_db: Database, feed_server: FeedServer
) -> None:
    url = feed_server.add("/down", b"", status=503)
    sqlite_db.call(feed_store.add_feed, url=url)
    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    told: list[int] = []

    async def on_disabled(feed: feed_store.FeedInfo) -> None:
        told.append(feed.id)

    async with FeedFetcher(allow_private=True) as fetcher:
        poller = _poller(sqlite_db, fetcher, clock=clock, on_disabled=on_disabled)
        for _ in range(12):
            for feed in sqlite_db.call(feed_store.list_feeds):
                if feed.enabled and feed.next_poll_at:
                    clock.now = max(clock.now, feed.next_poll_at)
            await poller.poll_due()
            clock.now += timedelta(hours=20)
    [feed] = sqlite_db.call(feed_store.list_feeds)
    assert feed.status == "disabled" and told == [feed.id]
    assert feed.disabled_reason and "failing since" in feed.disabled_reason


async def test_stats_and_audit_for_admins_only(
    settings: Settings, fake_telegram: FakeTelegram, feed_server: FeedServer
) -> None:
    url = feed_server.add("/rss", make_rss("Steppe News", 2))
    async with running_bot(_admin_settings(settings), fake_telegram):
        assert (await _ask(fake_telegram, STRANGER, "/stats", 1)).startswith("Sorry")
        assert (await _ask(fake_telegram, STRANGER, "/audit", 2)).startswith("Sorry")
        assert (await _ask(fake_telegram, ADMIN, "/audit", 1)) == "No admin actions yet."
        await _ask(fake_telegram, ADMIN, f"/addfeed {url}", 3)
        await _ask(fake_telegram, ADMIN, "/removefeed 1", 4)
        log = await _ask(fake_telegram, ADMIN, "/audit", 5)
        assert f"{ADMIN} · removefeed 1 {url}" in log and f"{ADMIN} · addfeed 1 {url}" in log
        assert log.index("removefeed") < log.index("addfeed")  # newest first
        figures = await _ask(fake_telegram, ADMIN, "/stats", 6)
        assert "Subscribers:" in figures and "Deliveries: 0 sent, 0 pending, 0 failed" in figures
        assert "Feeds: 0 ok, 0 failing, 0 disabled" in figures
        assert f"Leader: {instance_name()} (term 1)" in figures  # hostname:pid, this process


async def test_not_modified_polls_that_end_together_share_one_write(
    sqlite_db: Database, feed_server: FeedServer
) -> None:
    urls = [feed_server.add(f"/same{n}", make_rss(f"Same {n}", 1)) for n in range(5)]
    for url in urls:
        sqlite_db.call(feed_store.add_feed, url=url)
    writes: list[int] = []
    real_write = sqlite_db.write

    async def counting_write(fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        if fn is feedrows.record_not_modified_many:
            writes.append(len(args[0]))
            # A slow disk: the polls that end meanwhile must wait for the next write together.
            await asyncio.sleep(0.3)
        return await real_write(fn, *args, **kwargs)

    clock = Clock(datetime.now(UTC) + timedelta(seconds=1))
    async with FeedFetcher(allow_private=True) as fetcher:
        poller = _poller(sqlite_db, fetcher, clock=clock)
        await poller.poll_due()
        sqlite_db.write = counting_write  # type: ignore[method-assign]
        clock.now += timedelta(hours=1)
        reports = await poller.poll_due()
    assert [r.outcome for r in reports] == ["not_modified"] * 5
    assert sum(writes) == 5 and len(writes) < 5
    feeds = sqlite_db.call(feed_store.list_feeds)
    assert all(f.last_success_at is not None and f.last_success_at >= clock.now for f in feeds)
    assert all(f.next_poll_at is not None and f.next_poll_at > clock.now for f in feeds)
