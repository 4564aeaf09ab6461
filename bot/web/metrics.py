"""`GET /metrics`: Prometheus text format, every name prefixed `coopwatch_`.

Two kinds of figures. Counters of this process since it started (polls by outcome, new items,
Telegram's flood waits) are read from the poller and the sender, which only count. Gauges of
what is stored (items, events, deliveries by status, feeds) are read from the database (at
most once per 5 s, bot/web/reads.py), so every instance on one database reports the same
totals. Each scrape renders into its own registry: nothing is global, so two Applications in
one process (the tests) never mix their figures.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from telegram.error import RetryAfter

from bot.fairness import ChatRateLimiter, retry_seconds
from storage.archive import ArchiveFigures

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
POLL_OUTCOMES = ("ok", "not_modified", "error")


class FloodCountingRateLimiter(ChatRateLimiter):
    """The bot's rate limiter (`bot.fairness.ChatRateLimiter`), counting every 429 Telegram answers.

    Every Bot API call of the application passes through here, including the 429s the
    limiter waits out itself and never lets the sender see, so this is the one place that
    sees them all.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flood_waits = 0
        self.flood_wait_seconds = 0.0

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        async def counted(*call_args: Any, **call_kwargs: Any) -> Any:
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                self.flood_waits += 1
                self.flood_wait_seconds += retry_seconds(exc)
                raise

        return await super().process_request(counted, args, kwargs, endpoint, data, rate_limit_args)


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    """What this process counted since it started."""

    polls: dict[str, int] = field(default_factory=dict)  # by outcome
    new_items: int = 0
    flood_waits: int = 0
    flood_wait_seconds: float = 0.0
    last_poll_at: datetime | None = None
    # coopwatch/leadership.py: the role ("leader", "waiting", …) and this instance's name.
    role: str | None = None
    instance: str = ""


class _Snapshot(Collector):
    def __init__(self, process: ProcessFigures, stored: ArchiveFigures) -> None:
        self.process = process
        self.stored = stored

    def collect(self) -> Iterator[Metric]:
        process, stored = self.process, self.stored
        polls = CounterMetricFamily(
            "coopwatch_polls", "Feed polls since start, by outcome.", labels=["outcome"]
        )
        for outcome in sorted(set(POLL_OUTCOMES) | set(process.polls)):
            polls.add_metric([outcome], process.polls.get(outcome, 0))
        yield polls
        yield CounterMetricFamily(
            "coopwatch_items_new", "New feed items stored by polls since start.", process.new_items
        )
        yield CounterMetricFamily(
            "coopwatch_flood_waits",
            "Flood-limit answers (429) from Telegram to the sender since start.",
            process.flood_waits,
        )
        yield CounterMetricFamily(
            "coopwatch_flood_wait_seconds",
            "Seconds of pause Telegram's flood-limit answers asked for since start.",
            process.flood_wait_seconds,
        )
        if process.last_poll_at is not None:
            yield GaugeMetricFamily(
                "coopwatch_last_poll_timestamp_seconds",
                "When the scheduler last completed a poll run (Unix time).",
                process.last_poll_at.timestamp(),
            )
        if process.role is not None:
            leader = GaugeMetricFamily(
                "coopwatch_leader",
                "1 when this instance leads (polls Telegram and feeds, sends), 0 while it waits.",
                labels=["instance"],
            )
            leader.add_metric([process.instance], 1.0 if process.role == "leader" else 0.0)
            yield leader
        yield GaugeMetricFamily("coopwatch_items", "Feed items stored.", stored.items)
        yield GaugeMetricFamily(
            "coopwatch_items_classified",
            "Feed items the classifier has judged.",
            stored.items_classified,
        )
        yield GaugeMetricFamily("coopwatch_events", "Events stored.", stored.events)
        yield GaugeMetricFamily(
            "coopwatch_events_alerted", "Events pushed to subscribers.", stored.events_alerted
        )
        deliveries = GaugeMetricFamily(
            "coopwatch_deliveries",
            "Outbox rows by status (pending, sent, failed, digest, digested).",
            labels=["status"],
        )
        for status, count in sorted(stored.deliveries.items()):
            deliveries.add_metric([status], count)
        yield deliveries
        yield GaugeMetricFamily("coopwatch_feeds_enabled", "Enabled feeds.", stored.feeds_enabled)
        yield GaugeMetricFamily(
            "coopwatch_feeds_failing",
            "Enabled feeds whose last poll failed.",
            stored.feeds_failing,
        )


def render_metrics(process: ProcessFigures, stored: ArchiveFigures) -> bytes:
    """The Prometheus text exposition of these figures."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(process, stored))
    return generate_latest(registry)
