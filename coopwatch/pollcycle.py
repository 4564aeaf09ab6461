"""`coopwatch poll [--all]`: one real poll cycle, as the running bot does it, for cron.

The same parts as `coopwatch run`, from the same `Coopwatch`: its `FeedPoller` (validators,
politeness limits, parsing in worker processes) with its `EventPipeline` as the new-items
hook (classify, group, store events and their outbox rows in one transaction). Nothing is
sent from here: the running bot's sender drains the outbox. Telegram is never imported.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from coopwatch.polling import PollReport
from storage import feedrows
from storage.records import StoredItem

if TYPE_CHECKING:
    from coopwatch.app import Coopwatch

log = logging.getLogger(__name__)


@dataclass
class PollSummary:
    """What one `coopwatch poll` did; ``line()`` is the summary it prints."""

    reports: list[PollReport] = field(default_factory=list)
    events_created: int = 0
    events_joined: int = 0
    alerts_queued: int = 0
    seconds: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(report.outcome == outcome for report in self.reports)

    @property
    def all_failed(self) -> bool:
        return bool(self.reports) and self.count("error") == len(self.reports)

    def line(self) -> str:
        if not self.reports:
            return f"no feed was due; nothing polled ({self.seconds:.1f} s)"
        new_items = sum(report.new_count for report in self.reports)
        return (
            f"polled {len(self.reports)} feeds: {self.count('ok')} ok, "
            f"{self.count('not_modified')} not modified, {self.count('error')} failed; "
            f"{new_items} new items; {self.events_created} new events, "
            f"{self.events_joined} reports joined events; "
            f"{self.alerts_queued} alerts queued; {self.seconds:.1f} s"
        )


@dataclass
class _CountingHook:
    """The pipeline as the poller's hook, remembering which events this cycle touched.

    The application makes its pipeline (and imports the classifier's and the grouping's
    modules) on the first new items: a cycle answered by 304s never pays for them.
    """

    app: Coopwatch
    summary: PollSummary
    event_ids: set[int] = field(default_factory=set)

    async def __call__(self, items: Sequence[StoredItem]) -> None:
        # As EventPipeline.on_new_items: a failure is not the feed's; the items stay
        # unclassified and the bot's backlog job takes them up.
        try:
            result = await self.app.pipeline.process(items)
        except Exception:
            log.exception("classifying new items failed; they stay in the backlog")
            return
        self.summary.events_created += len(result.created)
        self.summary.events_joined += len(result.joined)
        self.event_ids.update(event.id for event in (*result.created, *result.joined))


async def poll_once(app: Coopwatch, *, every_feed: bool) -> PollSummary:
    """Poll the due feeds (``every_feed``: every enabled feed) once, as the bot would."""
    started, wall_start = time.perf_counter(), datetime.now(UTC)
    summary = PollSummary()
    hook = _CountingHook(app, summary)
    poller = app.new_poller(on_new_items=hook)
    if every_feed:
        # What /pollnow does: every enabled feed due now, then the ordinary due poll.
        await app.db.write(feedrows.schedule_all_now, now=poller.clock())
    summary.reports = await poller.poll_due()
    if hook.event_ids:
        # Only a cycle that made or joined events can have queued alerts; the outbox's
        # module (and the ORM) is not imported by one that did not.
        from storage import deliveries as delivery_store

        summary.alerts_queued = await app.db.run(
            delivery_store.count_queued, event_ids=sorted(hook.event_ids), since=wall_start
        )
    summary.seconds = time.perf_counter() - started
    return summary
