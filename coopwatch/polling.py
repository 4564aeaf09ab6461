"""The feed poller: fetch → parse → store, one feed at a time, never one feed's fault for all.

The decisions (when next, back off, disable) are news.schedule's pure functions; this module
only does the I/O around them and writes the outcome on the feed row.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from news.reading import read_feed
from news.schedule import PollOutcome, next_poll
from storage import Database, feedrows
from storage.records import FeedInfo, StoredItem

if TYPE_CHECKING:
    from news.fetch import FeedFetcher, FetchResult
    from news.parse import ParsedFeed
    from news.parse_pool import ParsePool

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
NewItemsHook = Callable[[Sequence[StoredItem]], Awaitable[None]]
DisabledHook = Callable[[FeedInfo], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PollReport:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    # "not_modified": a 304, or a 200 with the body whose items were stored last time (its
    # fingerprint, issue 14); either way nothing was parsed or stored.
    outcome: PollOutcome
    # How many new items it stored; not the items: a cycle over many feeds keeps every
    # report until its end, and with them every article's text (issue 14's memory bound).
    new_count: int = 0
    error: str | None = None
    disabled: bool = False
    title: str | None = None


class NotModifiedWriter:
    """Group commit for 304s: polls that end while a write is under way are written together.

    Each poll still returns only after its row is committed (a cut poll leaves the feed due,
    as before); what changes is that the 304s of a cycle share transactions and thread hops
    instead of paying one each (issue 14: the all-304 cycle).
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[tuple[int, datetime, datetime], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, feed_id: int, now: datetime, next_poll_at: datetime) -> None:
        done = asyncio.get_running_loop().create_future()
        # A poll cancelled while it waited leaves nobody to read a failure: read it here.
        done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._pending.append(((feed_id, now, next_poll_at), done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="record-304s")
        # Shielded: a cancelled poll must not cancel the write of the others' rows.
        await asyncio.shield(done)

    async def _write(self) -> None:
        # One turn of the loop first, so the polls finishing together join the first batch.
        await asyncio.sleep(0)
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._db.write(feedrows.record_not_modified_many, [row for row, _ in batch])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)


@dataclass
class FeedPoller:
    """Polls due feeds concurrently; the fetcher's limits keep it polite."""

    db: Database
    fetcher: FeedFetcher
    interval: float
    max_item_age: timedelta
    clock: Clock = field(default=lambda: datetime.now(UTC))
    rng: random.Random = field(default_factory=random.Random)
    on_new_items: NewItemsHook | None = None
    on_disabled: DisabledHook | None = None
    # Worker processes with a time and memory limit (news.parse_pool); None: the shared pool.
    parser: ParsePool | None = None
    # Feeds being polled right now. A slow feed must not hold back the others' next polls,
    # so runs may overlap in time, but one feed is never polled twice at once.
    _in_flight: dict[int, asyncio.Future[PollReport]] = field(default_factory=dict, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    # At most this many polls between their fetch and the end of their new-items hook. The
    # hook (classification) is slower than fetching and parsing, so without a bound a cycle
    # over 1,000 feeds parsed them all within seconds and held every article in memory while
    # they queued for it; with one, fetching waits for the hook (issue 14: < 250 MB).
    max_polls_at_once: int = 0  # 0: twice the fetcher's global limit
    _poll_slots: asyncio.Semaphore | None = field(default=None, init=False)
    _not_modified: NotModifiedWriter | None = field(default=None, init=False)
    # Polls since start by outcome, and the new items they stored (read by /metrics).
    outcomes: Counter[str] = field(default_factory=Counter, init=False)
    new_item_count: int = field(default=0, init=False)

    def start_task(self, work: Coroutine[Any, Any, None]) -> None:
        """Run polling work in a background task that ``cancel_running`` can cut."""
        task = asyncio.create_task(work, name="poll-due")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel_running(self) -> None:
        """Cut the polls under way (at shutdown). A feed's outcome and new items are stored in
        one transaction at the end of its poll, so a cut poll either wrote nothing (the feed
        is due again) or wrote its items, which the classification backlog takes up."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def poll_due(self, *, join_in_flight: bool = False) -> list[PollReport]:
        """Poll every feed that is due and not already being polled.

        With ``join_in_flight`` (for /pollnow) the reports of polls already under way for
        due feeds are awaited and included too, instead of being skipped.
        """
        due = await self.db.read(feedrows.due_feeds, now=self.clock())
        # No await between the check and the registration: two runs cannot take one feed.
        joined = [self._in_flight[f.id] for f in due if f.id in self._in_flight]
        mine = [feed for feed in due if feed.id not in self._in_flight]
        loop = asyncio.get_running_loop()
        for feed in mine:
            self._in_flight[feed.id] = loop.create_future()
        try:
            reports = list(await asyncio.gather(*(self._poll_registered(f) for f in mine)))
        finally:
            for feed in mine:
                future = self._in_flight.pop(feed.id, None)
                # A poll that never reported (cancelled at shutdown) must not leave a
                # /pollnow waiting on it for ever.
                if future is not None and not future.done():
                    future.cancel()
        if join_in_flight and joined:
            answers = await asyncio.gather(
                *(asyncio.shield(f) for f in joined), return_exceptions=True
            )
            reports += [a for a in answers if isinstance(a, PollReport)]
        return reports

    async def _poll_registered(self, feed: FeedInfo) -> PollReport:
        if self._poll_slots is None:
            self._poll_slots = asyncio.Semaphore(
                self.max_polls_at_once or max(8, 2 * self.fetcher.global_limit)
            )
        async with self._poll_slots:
            report = await self.poll_feed(feed)
        self.outcomes[report.outcome] += 1
        self.new_item_count += report.new_count
        future = self._in_flight.get(feed.id)
        if future is not None and not future.done():
            future.set_result(report)
        return report

    async def poll_feed(self, feed: FeedInfo) -> PollReport:
        """Fetch, parse and store one feed; record the outcome on its row. Never raises."""
        try:
            return await self._poll(feed)
        except Exception as exc:  # a bug must not stop the other feeds
            log.exception("feed poll crashed", extra={"feed": feed.id, "url": feed.url})
            try:
                return await self._record_error(feed, f"internal error: {exc}", None)
            except Exception:  # the database too: the feed stays due and is tried again
                log.exception("could not record the failure", extra={"feed": feed.id})
                return PollReport(feed.id, feed.url, "error", error=f"internal error: {exc}")

    async def _poll(self, feed: FeedInfo) -> PollReport:
        read = await read_feed(
            self.fetcher,
            feed.url,
            etag=feed.etag,
            last_modified=feed.last_modified,
            parser=self.parser,
            fetched_at=self.clock(),
            body_fingerprint=feed.body_fingerprint,
        )
        result = read.result
        if result.outcome == "error":
            return await self._record_error(feed, _describe(result), result)
        if result.outcome == "not_modified":
            # 304: nothing to parse (RFC 9110 §15.4.5); only the schedule moves.
            return await self._record_ok(feed, result, None, "not_modified")
        if read.parse_error is not None:
            # The stored fingerprint stays: this body is parsed again next time.
            return await self._record_error(feed, str(read.parse_error), result)
        if read.unchanged is not None:
            # A 200 with the very body stored last time: as a 304, plus its validators.
            return await self._record_ok(feed, result, None, "not_modified")
        return await self._record_ok(feed, result, read.parsed, "ok")

    async def _record_ok(
        self, feed: FeedInfo, result: FetchResult, parsed: ParsedFeed | None, outcome: PollOutcome
    ) -> PollReport:
        """A poll that succeeded: ``parsed`` None for a 304 or an unchanged body."""
        now = self.clock()
        decision = next_poll(
            now,
            outcome,
            interval=self.interval,
            consecutive_failures=feed.consecutive_failures,
            failing_since=feed.failing_since,
            retry_after=None,
            max_age=None,
            rng=self.rng,
        )
        # Caching headers are stored from a 2xx only (RFC 9110 §13.1), an unchanged one too.
        answered_2xx = result.outcome == "ok"
        if parsed is None and not result.moved_to:
            if answered_2xx:
                await self.db.write(
                    feedrows.record_not_modified,
                    feed_id=feed.id,
                    now=now,
                    next_poll_at=decision.next_poll_at,
                    validators=(result.etag, result.last_modified),
                )
            else:
                # A 304: written with the others that end meanwhile (group commit).
                if self._not_modified is None:
                    self._not_modified = NotModifiedWriter(self.db)
                await self._not_modified.record(feed.id, now, decision.next_poll_at)
            log.info(
                "feed polled",
                extra={"feed": feed.id, "outcome": outcome, "status": result.status},
            )
            return PollReport(feed.id, feed.url, outcome, title=feed.title)
        # Feed state and new items in one transaction: no half-written poll.
        stored = await self.db.write(
            feedrows.record_success,
            feed_id=feed.id,
            now=now,
            next_poll_at=decision.next_poll_at,
            items=parsed.items if parsed else (),
            max_age=self.max_item_age,
            etag=result.etag,
            last_modified=result.last_modified,
            caching_headers=answered_2xx,
            moved_to=result.moved_to,
            title=parsed.title if parsed else None,
            language=parsed.language if parsed else None,
            # With the items, in their transaction: stored only if they are.
            body_fingerprint=parsed.fingerprint if parsed else None,
        )
        fields: dict[str, object] = {"feed": feed.id, "outcome": outcome, "new": len(stored)}
        if result.moved_to:
            fields["moved_to"] = result.moved_to
        log.info("feed polled", extra=fields)
        if stored and self.on_new_items is not None:
            await self.on_new_items(stored)
        return PollReport(
            feed.id,
            result.moved_to or feed.url,
            outcome,
            len(stored),
            title=parsed.title if parsed else feed.title,
        )

    async def _record_error(
        self, feed: FeedInfo, message: str, result: FetchResult | None
    ) -> PollReport:
        now = self.clock()
        decision = next_poll(
            now,
            "error",
            interval=self.interval,
            consecutive_failures=feed.consecutive_failures,
            failing_since=feed.failing_since,
            retry_after=result.retry_after if result else None,
            max_age=result.max_age if result else None,
            rng=self.rng,
        )
        info = await self.db.write(
            feedrows.record_poll,
            feed_id=feed.id,
            now=now,
            next_poll_at=decision.next_poll_at,
            consecutive_failures=decision.consecutive_failures,
            failing_since=decision.failing_since,
            error=message,
            disable=decision.disable,
        )
        log.warning(
            "feed poll failed",
            extra={
                "feed": feed.id,
                "url": feed.url,
                "failures": decision.consecutive_failures,
                "error": message,
            },
        )
        if decision.disable and info is not None:
            log.error("feed disabled after failing for 7 days", extra={"feed": feed.id})
            if self.on_disabled is not None:
                await self.on_disabled(info)
        return PollReport(feed.id, feed.url, "error", error=message, disabled=decision.disable)


def _describe(result: FetchResult) -> str:
    # The fetcher words every failure; an HTTP status as "HTTP 500 Internal Server Error".
    return result.message or result.error_kind or "error"
