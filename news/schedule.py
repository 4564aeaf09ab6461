"""The polling decider: when to fetch a feed next, and whether to give up on it.

Pure functions of their arguments (clock and randomness are injected), kept apart from the
I/O as in lemon24/reader's update pipeline, so every rule is tested without a server or a
database: the caller stores the returned `PollDecision` on the feed row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

PollOutcome = Literal["ok", "not_modified", "error"]

JITTER = 0.10  # ±10 %: feeds added together drift apart instead of hitting a site at once
MAX_BACKOFF = timedelta(hours=24)
MAX_INTERVAL = timedelta(days=365)
DISABLE_AFTER = timedelta(days=7)
# Past 2**20 intervals the 24 h cap has long applied; the bound keeps the float finite.
_MAX_EXPONENT = 20


@dataclass(frozen=True, slots=True)
class PollDecision:
    """What to store on the feed after one poll."""

    next_poll_at: datetime
    disable: bool
    consecutive_failures: int
    failing_since: datetime | None


def next_poll(
    now: datetime,
    outcome: PollOutcome,
    *,
    interval: float,
    consecutive_failures: int,
    failing_since: datetime | None,
    retry_after: float | None,
    max_age: float | None,
    rng: random.Random,
) -> PollDecision:
    """Decide the next poll of a feed after a poll that ended with `outcome` at `now`.

    - success (`ok`, `not_modified`): `interval` seconds with ±10 % jitter; failures reset;
    - an error the server asked us to wait for (429/503 with Retry-After or Cache-Control
      max-age): the later of the two, never sooner than `interval` nor later than 24 h;
    - any other error: exponential backoff, `interval * 2**(n-1)` for the n-th failure in a
      row, with jitter, capped at 24 h;
    - a feed failing without a break for 7 days is disabled.
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive, got {interval}")
    # POLL_INTERVAL accepts any positive number; past a year it means "hardly ever", and a
    # larger delay would overflow datetime arithmetic.
    interval = min(interval, MAX_INTERVAL.total_seconds())
    now = as_utc(now)
    if outcome != "error":
        delay = _jittered(interval, rng)
        return PollDecision(now + timedelta(seconds=delay), False, 0, None)

    failures = consecutive_failures + 1
    since = as_utc(failing_since) if failing_since is not None else now
    waits = [w for w in (retry_after, max_age) if w is not None]
    if waits:
        # The server named a time: never earlier than it asked, so jitter only adds.
        delay = max(interval, *waits) * (1 + rng.uniform(0, JITTER))
    else:
        delay = _jittered(interval * 2.0 ** min(failures - 1, _MAX_EXPONENT), rng)
    delay = min(delay, MAX_BACKOFF.total_seconds())
    disable = now - since >= DISABLE_AFTER
    return PollDecision(now + timedelta(seconds=delay), disable, failures, since)


def _jittered(seconds: float, rng: random.Random) -> float:
    return seconds * rng.uniform(1 - JITTER, 1 + JITTER)


def is_fresh(published: datetime | None, first_seen: datetime, max_age_hours: float) -> bool:
    """True when an item may be alerted: published at most `max_age_hours` before first seen.

    An item without a date counts as published when first seen, so it is fresh. Stale items are
    still stored (lookups list them) but never pushed, so a new feed's backlog does not flood
    subscribers.
    """
    if published is None:
        return True
    return as_utc(first_seen) - as_utc(published) <= timedelta(hours=max_age_hours)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime; a naive one is taken to be UTC already.

    SQLite hands timezone-aware columns back naive, so the decider accepts both.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
