"""The poller does not parse a 200 whose body it stored last time (issue 14).

Feeds of the local feed server without validators, as the many sites that answer every poll
200 with the same bytes; parses are counted at the pool, where they would cost a worker.
"""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from coopwatch.feedadmin import add_feed_checked
from coopwatch.polling import FeedPoller, PollReport
from coopwatch.scan import scan
from news.fetch import FeedFetcher
from news.parse import ParsedFeed, feed_fingerprint
from news.parse_pool import ParsePool
from storage import Database, feedrows
from storage import feeds as feed_store
from storage.feeds import FeedInfo
from tests.feedserver import HTML_PAGE, RSS_TYPE, FeedServer, make_rss

START = datetime.now(UTC).replace(microsecond=0)
BODY = make_rss("Steppe Wire", 2, start=START)
CHANGED = make_rss("Steppe Wire", 3, start=START + timedelta(minutes=10))  # one more, on top


class CountingPool(ParsePool):
    """The real pool (limits and all), counting the bodies handed to a worker."""

    def __init__(self) -> None:
        super().__init__(1)
        self.parses = 0

    async def parse(
        self, body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
    ) -> ParsedFeed:
        self.parses += 1
        return await super().parse(body, headers, url=url, fetched_at=fetched_at)


@dataclass
class Polling:
    """A poller over one feed, with a clock that makes it due again at each `poll`."""

    db: Database
    poller: FeedPoller
    pool: CountingPool
    fetcher: FeedFetcher
    feed_id: int
    now: datetime

    async def poll(self) -> PollReport:
        self.now += timedelta(hours=1)
        [report] = await self.poller.poll_due()
        return report

    def feed(self) -> FeedInfo:
        info = self.db.call(feed_store.get_feed, feed_id=self.feed_id)
        assert info is not None
        return info


@pytest.fixture
async def polling(sqlite_db: Database, feed_server: FeedServer) -> AsyncIterator[Polling]:
    url = feed_server.add("/wire", BODY, validators=False)
    feed = sqlite_db.call(feed_store.add_feed, url=url)
    pool = CountingPool()
    async with FeedFetcher(allow_private=True) as fetcher:
        state = Polling(sqlite_db, None, pool, fetcher, feed.id, START)  # type: ignore[arg-type]
        state.poller = FeedPoller(
            db=sqlite_db,
            fetcher=fetcher,
            interval=600,
            max_item_age=timedelta(hours=48),
            clock=lambda: state.now,
            rng=random.Random(1),
            parser=pool,
        )
        try:
            yield state
        finally:
            pool.close()


async def test_identical_200_is_parsed_once_and_reported_unchanged(
    polling: Polling, feed_server: FeedServer
) -> None:
    first = await polling.poll()
    assert first.outcome == "ok" and first.new_count == 2 and polling.pool.parses == 1
    assert polling.feed().body_fingerprint == feed_fingerprint(
        BODY, {"Content-Type": RSS_TYPE}, url=feed_server.url("/wire")
    )
    second = await polling.poll()
    assert feed_server.count("/wire") == 2  # fetched again, answered 200: no validators
    assert second.outcome == "not_modified" and second.new_count == 0
    assert polling.pool.parses == 1
    feed = polling.feed()
    assert feed.item_count == 2 and feed.status == "ok" and feed.last_success_at == polling.now
    assert feed.next_poll_at is not None and feed.next_poll_at > polling.now  # scheduled on
    # /metrics and `coopwatch poll` count it with the 304s: nothing new, nothing parsed.
    assert polling.poller.outcomes == {"ok": 1, "not_modified": 1}


async def test_a_changed_body_is_parsed_and_its_new_item_stored(
    polling: Polling, feed_server: FeedServer
) -> None:
    await polling.poll()
    await polling.poll()
    feed_server.add("/wire", CHANGED, validators=False)
    changed = await polling.poll()
    assert changed.outcome == "ok" and changed.new_count == 1 and polling.pool.parses == 2
    assert polling.feed().item_count == 3
    again = await polling.poll()
    assert again.outcome == "not_modified" and polling.pool.parses == 2


async def test_a_body_that_fails_to_parse_keeps_the_old_fingerprint(
    polling: Polling, feed_server: FeedServer
) -> None:
    await polling.poll()
    stored = polling.feed().body_fingerprint
    feed_server.add("/wire", HTML_PAGE, content_type="text/html", validators=False)
    for parses in (2, 3):  # a failed parse is tried again, not skipped
        report = await polling.poll()
        assert report.outcome == "error" and "HTML" in (report.error or "")
        assert polling.pool.parses == parses and polling.feed().body_fingerprint == stored
    # The old body is back: its items are stored, so it needs no parse.
    feed_server.add("/wire", BODY, validators=False)
    back = await polling.poll()
    assert back.outcome == "not_modified" and polling.pool.parses == 3
    assert polling.feed().status == "ok"


async def test_a_poll_whose_store_fails_keeps_the_old_fingerprint(
    polling: Polling, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    await polling.poll()
    stored = polling.feed().body_fingerprint
    feed_server.add("/wire", CHANGED, validators=False)

    def failing_store(*args: object, **kwargs: object) -> list[feed_store.StoredItem]:
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(feedrows, "store_items", failing_store)
        failed = await polling.poll()
    assert failed.outcome == "error" and "disk full" in (failed.error or "")
    assert polling.feed().body_fingerprint == stored and polling.feed().item_count == 2
    retried = await polling.poll()  # the same body again: parsed, and stored this time
    assert retried.outcome == "ok" and retried.new_count == 1 and polling.pool.parses == 3
    assert polling.feed().body_fingerprint != stored


async def test_scan_and_feed_adding_parse_every_time(
    polling: Polling, feed_server: FeedServer
) -> None:
    await polling.poll()
    for parses in (2, 3):  # a dry run reads what the feed holds now, fingerprint or not
        out = io.StringIO()
        await scan(polling.db, polling.fetcher, out, parser=polling.pool)
        assert "2 items" in out.getvalue() and polling.pool.parses == parses
    other = feed_server.add("/other", BODY, validators=False)
    added = await add_feed_checked(
        db=polling.db,
        fetcher=polling.fetcher,
        url=other,
        title=None,
        allow_private=True,
        interval=600,
        max_item_age=timedelta(hours=48),
        parser=polling.pool,
    )
    assert added.item_count == 2 and polling.pool.parses == 4
    assert added.feed.body_fingerprint is None  # its first poll parses it once more
