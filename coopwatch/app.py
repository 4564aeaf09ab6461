"""The application object: built once from settings, the one place that wires the parts.

`open_coopwatch(settings)` builds a `Coopwatch` (as lemon24/reader's `make_reader()` builds
its `Reader`): it owns the database, the feed fetcher, the parse pool, the feed poller and the
event pipeline. The bot (`bot/app.py`'s `post_init`) and every CLI command that touches the
database open it; handlers, jobs and CLI commands call its methods and never put parts
together themselves (the web server reads the archive through its database). Telegram is
never imported here.

Parts are built on first use: `coopwatch feeds list` or `coopwatch export` must not pay for
the HTTP client, feedparser or the classifier (issue 14: a fast CLI start).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from coopwatch.settings import Settings
from news import data as news_data
from storage import Database

# The storage modules are imported by the methods that use them: `db upgrade` needs none,
# `feeds list` only storage.feeds; storage.deliveries and storage.events (with the outbox,
# the lease and the topic tables behind them) are for the commands that read events.
if TYPE_CHECKING:
    from coopwatch.feedadmin import AddedFeed
    from coopwatch.pipeline import EventPipeline, PipelineResult
    from coopwatch.pollcycle import PollSummary
    from coopwatch.polling import FeedPoller, PollReport
    from coopwatch.retention import Pruned
    from news.analysis_pool import Analyser, AnalysisPool
    from news.fetch import FeedFetcher
    from news.parse_pool import ParsePool
    from storage.audit import Figures
    from storage.deliveries import DeliveryStats
    from storage.records import EventInfo, FeedInfo, StoredItem

DisabledHook = Callable[["FeedInfo"], Awaitable[None]]
NewItemsHook = Callable[[Sequence["StoredItem"]], Awaitable[None]]


class FeedRefused(Exception):
    """The feed cannot be added; the message says why, for the operator."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changed something, for the audit log: a Telegram user, or the command line."""

    user_id: int | None
    source: str = "telegram"


CLI = Actor(user_id=None, source="cli")


@dataclass(frozen=True, slots=True)
class ImportedFeed:
    """One feed of an OPML file: added, or refused with the reason."""

    url: str
    added: AddedFeed | None = None
    refused: str | None = None


def default_feeds() -> list[tuple[str, str, str | None]]:
    """The bundled list of Central Asian outlets (news/data/default_feeds.json)."""
    return list(news_data.default_feeds())


class Coopwatch:
    """coopwatch without Telegram: feeds, polling, events, exports. One per process."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        parse_in_processes: bool = True,
        on_feed_disabled: DisabledHook | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self._parse_in_processes = parse_in_processes
        self._on_feed_disabled = on_feed_disabled
        self._fetcher: FeedFetcher | None = None
        self._pipeline: EventPipeline | None = None
        self._poller: FeedPoller | None = None
        self._parser: ParsePool | None = None
        self._analysis: AnalysisPool | None = None

    # --- the parts, built on first use -------------------------------------------------

    @property
    def fetcher(self) -> FeedFetcher:
        if self._fetcher is None:
            from news.fetch import FeedFetcher

            self._fetcher = FeedFetcher(allow_private=self.settings.allow_private_feeds)
        return self._fetcher

    @property
    def parser(self) -> ParsePool | None:
        """Worker processes with a time and memory limit (news/parse_pool.py), or None."""
        if self._parser is None and self._parse_in_processes:
            from news.parse_pool import shared_pool

            # The process-wide pool: /addfeed and scan (parse_feed_async) share its workers.
            self._parser = shared_pool()
        return self._parser

    @property
    def pipeline(self) -> EventPipeline:
        if self._pipeline is None:
            from coopwatch.pipeline import EventPipeline

            self._pipeline = EventPipeline(db=self.db, analyser=self._analyser())
        return self._pipeline

    def _analyser(self) -> Analyser:
        """Classification and report reading in a worker process (news/analysis_pool.py),
        or in a thread of this process when processes are off."""
        from news.analysis_pool import AnalysisPool, ThreadAnalyser

        if not self._parse_in_processes:
            return ThreadAnalyser()
        if self._analysis is None:
            self._analysis = AnalysisPool()
        return self._analysis

    @property
    def poller(self) -> FeedPoller:
        """The poller whose new items go to the pipeline (the bot's scheduler, /pollnow)."""
        if self._poller is None:
            self._poller = self.new_poller(on_new_items=self.pipeline.on_new_items)
        return self._poller

    def new_poller(self, *, on_new_items: NewItemsHook | None) -> FeedPoller:
        """A poller over this application's database, fetcher and parse pool."""
        from coopwatch.polling import FeedPoller

        return FeedPoller(
            db=self.db,
            fetcher=self.fetcher,
            interval=self.settings.poll_interval,
            max_item_age=timedelta(hours=self.settings.max_item_age),
            on_new_items=on_new_items,
            on_disabled=self._on_feed_disabled,
            parser=self.parser,
        )

    # --- feeds ----------------------------------------------------------------------------

    async def seed_default_feeds(self) -> int:
        """Add the bundled feeds to an empty database when DEFAULT_FEEDS is on; how many."""
        from storage import feedrows

        if not self.settings.default_feeds or await self.db.read(feedrows.has_feeds):
            return 0
        # Only into an empty database, once: the ORM is imported for it then, not by every
        # poll of a database that has feeds.
        from storage import feeds as feed_store

        return await self.db.run(feed_store.add_default_feeds, feeds=default_feeds())

    async def list_feeds(self) -> list[FeedInfo]:
        from storage import feeds as feed_store

        return await self.db.run(feed_store.list_feeds)

    async def add_feed(
        self, url: str, *, title: str | None = None, actor: Actor, classify: bool = True
    ) -> AddedFeed:
        """Check, fetch and parse ``url``; add it with its items and an audit record.

        Raises `FeedRefused` saying why. With ``classify`` the new items go through the
        pipeline at once; without it (the CLI) they wait for the running bot's backlog job,
        so that one grouping state, the bot's, sees every report.
        """
        from coopwatch.feedadmin import add_feed_checked

        added = await add_feed_checked(
            db=self.db,
            fetcher=self.fetcher,
            url=url,
            title=title,
            allow_private=self.settings.allow_private_feeds,
            interval=self.settings.poll_interval,
            max_item_age=timedelta(hours=self.settings.max_item_age),
            parser=self.parser,
        )
        await self._audit(actor, "addfeed", f"{added.feed.id} {added.feed.url}")
        if classify and added.new_items:
            await self.pipeline.on_new_items(added.new_items)
        return added

    async def remove_feed(self, feed_id: int, *, actor: Actor) -> FeedInfo | None:
        """Remove a feed and its items, with an audit record; None when there is no such feed."""
        from storage import feeds as feed_store

        removed = await self.db.run(feed_store.remove_feed, feed_id=feed_id)
        if removed is not None:
            await self._audit(actor, "removefeed", f"{feed_id} {removed.url}")
        return removed

    async def import_opml(
        self, data: bytes, *, actor: Actor, classify: bool = True
    ) -> list[ImportedFeed]:
        """Add every feed of an OPML file, in order (`add_feed` each). Raises `OpmlError`."""
        from news.opml import parse_opml

        return [
            await self._import(entry.url, entry.title or None, actor, classify)
            for entry in parse_opml(data)
        ]

    async def _import(
        self, url: str, title: str | None, actor: Actor, classify: bool
    ) -> ImportedFeed:
        try:
            added = await self.add_feed(url, title=title, actor=actor, classify=classify)
        except FeedRefused as exc:
            return ImportedFeed(url, refused=str(exc))
        return ImportedFeed(url, added=added)

    async def export_opml(self) -> bytes:
        """Every feed as OPML 2.0."""
        from news.opml import OpmlFeed, render_opml

        feeds = await self.list_feeds()
        return render_opml([OpmlFeed(f.url, f.title) for f in feeds], title="coopwatch feeds")

    # --- polling and the pipeline ---------------------------------------------------------

    async def poll_due(self, *, join_in_flight: bool = False) -> list[PollReport]:
        """Poll the feeds that are due (the scheduler's tick); new items become events."""
        return await self.poller.poll_due(join_in_flight=join_in_flight)

    async def poll_all(self, *, actor: Actor | None = None) -> list[PollReport]:
        """Make every enabled feed due and poll it now, joining polls under way (/pollnow)."""
        from storage import feedrows

        await self.db.write(feedrows.schedule_all_now, now=self.poller.clock())
        if actor is not None:
            await self._audit(actor, "pollnow", "")
        return await self.poller.poll_due(join_in_flight=True)

    async def poll_cycle(self, *, every_feed: bool) -> PollSummary:
        """One poll cycle as the running bot does it, counted for `coopwatch poll`."""
        from coopwatch.pollcycle import poll_once

        return await poll_once(self, every_feed=every_feed)

    async def process_backlog(self) -> PipelineResult:
        """Classify and group items stored but never classified (a failure, a restart)."""
        return await self.pipeline.process_backlog()

    async def scan(self, out: TextIO) -> int:
        """A dry pass over every enabled feed, printing the events found; the exit status."""
        from coopwatch.scan import scan

        return await scan(self.db, self.fetcher, out, parser=self.parser)

    # --- events ---------------------------------------------------------------------------

    async def events(
        self,
        *,
        country: str | None = None,
        since: date | None = None,
        limit: int | None = None,
    ) -> list[EventInfo]:
        """Stored events newest first, each with every source (exports, the archive)."""
        # SQLAlchemy Core, no ORM session: `coopwatch export` starts without sqlmodel.
        from storage import eventlist

        return await self.db.read(eventlist.list_events, country=country, since=since, limit=limit)

    async def count_events(self, *, country: str | None = None) -> int:
        from storage import archive

        return await self.db.run(archive.count_events, country=country)

    async def latest_events(self, *, offset: int, limit: int) -> tuple[list[EventInfo], int]:
        """A page of the newest events (by when they were stored), and how many there are."""
        from storage import events as event_store

        return await self.db.run(event_store.latest_events, offset=offset, limit=limit)

    async def country_events(
        self, country: str, *, offset: int, limit: int
    ) -> tuple[list[EventInfo], int]:
        """A page of one country's events, newest first, and how many there are."""
        from storage import events as event_store

        return await self.db.run(
            event_store.events_for_country, country=country, offset=offset, limit=limit
        )

    async def find_events(self, ref: str) -> list[EventInfo]:
        """The events a typed reference names: a short id, a key, or a pair and day."""
        from storage import events as event_store

        return await self.db.run(event_store.find_events, ref=ref)

    async def event_days(
        self, *, since: date, until: date, country: str | None = None
    ) -> list[tuple[date, tuple[str, ...]]]:
        """(day, parties) of the events dated in ``since``..``until`` (/trends)."""
        from storage import events as event_store

        return await self.db.run(event_store.event_dates, since=since, until=until, country=country)

    async def stats(self) -> tuple[Figures, DeliveryStats]:
        """Subscribers, events and feed health; and the deliveries (/stats)."""
        from storage import audit, deliveries

        figures = await self.db.run(audit.figures, now=datetime.now(UTC))
        return figures, await self.db.run(deliveries.delivery_stats)

    async def prune(self) -> Pruned | None:
        """Delete items and finished deliveries older than RETENTION_DAYS; None when it is 0."""
        from coopwatch.retention import prune_old_rows

        days = self.settings.retention_days
        if days <= 0:
            return None
        return await prune_old_rows(self.db, days=days, now=self.poller.clock())

    # --- the end --------------------------------------------------------------------------

    def poll_counts(self) -> tuple[dict[str, int], int]:
        """Polls since start by outcome, and the new items they stored (for /metrics)."""
        if self._poller is None:  # a waiting instance has polled nothing: build nothing
            return {}, 0
        return dict(self._poller.outcomes), self._poller.new_item_count

    async def cancel_polls(self) -> None:
        """Cut the polls under way (at shutdown, before the database closes)."""
        if self._poller is not None:
            await self._poller.cancel_running()

    async def aclose(self) -> None:
        """Kill parse and analysis workers (no wait at SIGTERM); close the HTTP client and
        the database."""
        if self._parser is not None:
            self._parser.close()
        if self._analysis is not None:
            self._analysis.close()
        if self._fetcher is not None:
            await self._fetcher.aclose()
        self.db.close()

    async def _audit(self, actor: Actor, action: str, detail: str) -> None:
        from storage import audit

        await self.db.run(
            audit.record, action=action, detail=detail, user_id=actor.user_id, source=actor.source
        )


async def open_coopwatch(
    settings: Settings,
    *,
    parse_in_processes: bool = True,
    on_feed_disabled: DisabledHook | None = None,
) -> Coopwatch:
    """Open the database (migrated to the code's schema) and build the application on it.

    Default feeds are not seeded here: `seed_default_feeds()` is for the commands that poll,
    and a bot that waits for the lead must not write.
    """
    db = Database(settings.database_url)
    try:
        await asyncio.to_thread(db.upgrade)
    except BaseException:
        db.close()
        raise
    return Coopwatch(
        settings, db, parse_in_processes=parse_in_processes, on_feed_disabled=on_feed_disabled
    )
