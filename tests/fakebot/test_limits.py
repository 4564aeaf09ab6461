"""Flood control of the fake, stepped with a manual clock instead of sleeping."""

from __future__ import annotations

from tests.fakebot.limits import FloodControl, Rate, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_private_chat_allows_a_burst_then_one_per_second() -> None:
    clock = Clock()
    flood = FloodControl(RateLimits(private_rate=Rate(1, 1.0, burst=3)), clock)

    allowed = [flood.check("sendMessage", 42, private=True) is None for _ in range(3)]
    refused = flood.check("sendMessage", 42, private=True)
    clock.now += 1.0
    after_a_second = flood.check("sendMessage", 42, private=True)

    assert allowed == [True, True, True]
    assert refused is not None
    assert (refused.scope, refused.retry_after) == ("private", 1)
    assert after_a_second is None


def test_group_limit_is_per_minute_and_retry_after_says_when() -> None:
    clock = Clock()
    flood = FloodControl(RateLimits(), clock)

    for _ in range(20):
        assert flood.check("sendMessage", -5, private=False) is None
    refused = flood.check("sendMessage", -5, private=False)

    assert refused is not None
    assert (refused.scope, refused.retry_after) == ("group", 3)  # 20/min = one every 3 s
    assert flood.check("sendMessage", -6, private=False) is None  # other groups unaffected


def test_global_limit_spans_chats_and_a_refusal_consumes_nothing() -> None:
    clock = Clock()
    flood = FloodControl(RateLimits(global_rate=Rate(30, 1.0)), clock)

    results = [flood.check("sendMessage", chat, private=True) for chat in range(1, 32)]
    refused = results[-1]
    clock.now += 1 / 30

    assert all(result is None for result in results[:30])
    assert refused is not None and refused.scope == "global"
    # The refused send took no token from chat 31, so it goes through once the window moves.
    assert flood.check("sendMessage", 31, private=True) is None


def test_only_listed_methods_count_and_off_disables_everything() -> None:
    limited = FloodControl(RateLimits(private_rate=Rate(1, 60.0)), Clock())
    unlimited = FloodControl(RateLimits.off(), Clock())

    edits = [limited.check("editMessageText", 1, private=True) for _ in range(10)]
    sends = [unlimited.check("sendMessage", 1, private=True) for _ in range(100)]

    assert edits == [None] * 10
    assert sends == [None] * 100
