"""The polling decider: jitter, backoff, Retry-After, the 7-day disable, the freshness window."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from news.schedule import PollDecision, is_fresh, next_poll

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
INTERVAL = 900.0
DAY = 24 * 3600


def decide(
    outcome: str = "ok",
    *,
    now: datetime = NOW,
    failures: int = 0,
    since: datetime | None = None,
    retry_after: float | None = None,
    max_age: float | None = None,
    interval: float = INTERVAL,
    seed: int = 1,
) -> PollDecision:
    return next_poll(
        now,
        outcome,  # type: ignore[arg-type]
        interval=interval,
        consecutive_failures=failures,
        failing_since=since,
        retry_after=retry_after,
        max_age=max_age,
        rng=random.Random(seed),
    )


def delay(decision: PollDecision, now: datetime = NOW) -> float:
    return (decision.next_poll_at - now).total_seconds()


@pytest.mark.parametrize("outcome", ["ok", "not_modified"])
def test_success_polls_again_after_the_interval_with_jitter_and_clears_failures(
    outcome: str,
) -> None:
    decision = decide(outcome, failures=4, since=NOW - timedelta(days=2))
    assert 0.9 * INTERVAL <= delay(decision) <= 1.1 * INTERVAL
    assert decision.consecutive_failures == 0
    assert decision.failing_since is None
    assert not decision.disable


def test_jitter_spreads_feeds_added_together() -> None:
    delays = {round(delay(decide(seed=seed))) for seed in range(20)}
    assert len(delays) > 10
    assert min(delays) >= 0.9 * INTERVAL and max(delays) <= 1.1 * INTERVAL


@pytest.mark.parametrize("failures_before", [0, 1, 2, 3, 4])
def test_errors_back_off_exponentially(failures_before: int) -> None:
    decision = decide("error", failures=failures_before, since=NOW)
    expected = INTERVAL * 2**failures_before
    assert 0.9 * expected <= delay(decision) <= 1.1 * expected
    assert decision.consecutive_failures == failures_before + 1


def test_backoff_is_capped_at_24_hours_even_after_thousands_of_failures() -> None:
    for failures in (7, 50, 10_000):
        assert delay(decide("error", failures=failures, since=NOW)) <= DAY


def test_first_error_starts_the_failing_clock() -> None:
    decision = decide("error")
    assert decision.failing_since == NOW
    assert decision.consecutive_failures == 1


def test_retry_after_delays_beyond_the_interval() -> None:
    decision = decide("error", retry_after=3600)
    assert 3600 <= delay(decision) <= 3600 * 1.1


def test_the_later_of_retry_after_and_max_age_wins() -> None:
    assert 7200 <= delay(decide("error", retry_after=3600, max_age=7200)) <= 7200 * 1.1
    assert 5000 <= delay(decide("error", retry_after=5000, max_age=60)) <= 5000 * 1.1


def test_a_short_retry_after_never_polls_sooner_than_the_interval() -> None:
    assert delay(decide("error", retry_after=5)) >= INTERVAL


def test_retry_after_is_capped_at_24_hours() -> None:
    assert delay(decide("error", retry_after=30 * DAY)) <= DAY


def test_a_feed_failing_for_seven_days_is_disabled_and_not_before() -> None:
    """Drive the decider with an injected clock, polling whenever it says, until it gives up."""
    now, failures, since = NOW, 0, None
    first_failure = NOW
    while True:
        decision = decide("error", now=now, failures=failures, since=since)
        if decision.disable:
            break
        assert now - first_failure < timedelta(days=7)
        now, failures, since = decision.next_poll_at, decision.consecutive_failures, since or now
    assert timedelta(days=7) <= now - first_failure <= timedelta(days=8)


def test_a_success_in_between_restarts_the_seven_days() -> None:
    recovered = decide("ok", now=NOW + timedelta(days=6), failures=20, since=NOW)
    later = decide(
        "error",
        now=NOW + timedelta(days=8),
        failures=recovered.consecutive_failures,
        since=recovered.failing_since,
    )
    assert not later.disable
    assert later.failing_since == NOW + timedelta(days=8)


def test_naive_datetimes_from_sqlite_are_taken_as_utc() -> None:
    decision = decide("error", now=NOW.replace(tzinfo=None), since=NOW.replace(tzinfo=None))
    assert decision.failing_since == NOW
    assert decision.next_poll_at.tzinfo is not None


def test_a_non_positive_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        decide(interval=0)


def test_fresh_items_are_within_the_window() -> None:
    assert is_fresh(NOW - timedelta(hours=47), NOW, 48)
    assert is_fresh(NOW - timedelta(hours=48), NOW, 48)


def test_items_older_than_the_window_when_first_seen_are_not_fresh() -> None:
    assert not is_fresh(NOW - timedelta(hours=49), NOW, 48)
    assert not is_fresh(NOW - timedelta(days=400), NOW, 48)


def test_the_window_is_configurable() -> None:
    published = NOW - timedelta(hours=5)
    assert not is_fresh(published, NOW, 4)
    assert is_fresh(published, NOW, 6)


def test_items_without_a_date_and_future_dates_count_as_fresh() -> None:
    assert is_fresh(None, NOW, 48)
    assert is_fresh(NOW + timedelta(hours=3), NOW, 48)
