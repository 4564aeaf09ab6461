"""Telegram's flood control, simplified to deterministic token buckets.

Telegram publishes only rules of thumb (https://core.telegram.org/bots/faq#my-bot-is-hitting-
limits-how-do-i-avoid-this): about one message per second in a private chat, with short bursts
tolerated; twenty per minute in a group; about thirty per second overall. A token bucket per
chat plus one global bucket gives exactly that shape, and with an injectable clock a test can
step time instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Refill is floating point: a full token after exactly 1/rate seconds must count as full.
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Rate:
    """`limit` sends per `period` seconds sustained, up to `burst` at once (default: limit)."""

    limit: int
    period: float
    burst: int | None = None

    @property
    def capacity(self) -> float:
        return float(self.burst if self.burst is not None else self.limit)

    @property
    def per_second(self) -> float:
        return self.limit / self.period


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Which limits apply and to which methods; `RateLimits.off()` disables them all."""

    global_rate: Rate | None = Rate(30, 1.0)
    private_rate: Rate | None = Rate(1, 1.0, burst=5)
    group_rate: Rate | None = Rate(20, 60.0)
    # Telegram's advice is about messages; edits and chat actions are left out by default so a
    # handler test that edits a keyboard a few times is not throttled. Add them per test.
    methods: frozenset[str] = frozenset({"sendMessage"})

    @classmethod
    def off(cls) -> RateLimits:
        return cls(global_rate=None, private_rate=None, group_rate=None, methods=frozenset())


@dataclass(frozen=True, slots=True)
class Throttle:
    """One 429 the fake answered."""

    method: str
    chat_id: int
    scope: str  # "global", "private" or "group"
    retry_after: int


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(slots=True)
class FloodControl:
    """Decides whether a send is allowed now; consumes nothing when it refuses."""

    limits: RateLimits = field(default_factory=RateLimits)
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, int], _Bucket] = field(default_factory=dict)

    def reset(self, limits: RateLimits | None = None) -> None:
        if limits is not None:
            self.limits = limits
        self._buckets.clear()

    def check(self, method: str, chat_id: int, private: bool) -> Throttle | None:
        """None when the send may go ahead (its tokens are taken), else the Throttle to answer."""
        if method not in self.limits.methods:
            return None
        scoped = self._scoped_rate(chat_id, private)
        candidates = [("global", 0, self.limits.global_rate), scoped]
        now = self.clock()
        applicable = [(scope, key, rate) for scope, key, rate in candidates if rate is not None]
        waits: list[tuple[float, str]] = []
        for scope, key, rate in applicable:
            assert rate is not None
            bucket = self._refill((scope, key), rate, now)
            if bucket.tokens < 1.0 - _EPSILON:
                waits.append(((1.0 - bucket.tokens) / rate.per_second, scope))
        if waits:
            wait, scope = max(waits)
            return Throttle(method, chat_id, scope, max(1, math.ceil(wait)))
        for scope, key, _rate in applicable:
            self._buckets[(scope, key)].tokens -= 1.0
        return None

    def _scoped_rate(self, chat_id: int, private: bool) -> tuple[str, int, Rate | None]:
        if private:
            return ("private", chat_id, self.limits.private_rate)
        return ("group", chat_id, self.limits.group_rate)

    def _refill(self, key: tuple[str, int], rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate.capacity, now)
        elapsed = max(now - bucket.updated, 0.0)
        bucket.tokens = min(rate.capacity, bucket.tokens + elapsed * rate.per_second)
        bucket.updated = now
        return bucket
