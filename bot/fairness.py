"""One user's flood never holds up another user's answer.

Two pieces, both installed by ``bot.app.build_application``:

- ``ChatOrderedProcessor`` handles updates of different chats concurrently and the updates of
  one chat one after the other, in the order Telegram sent them (a handler that reads and then
  writes a chat's settings never races a second press of the same keyboard). Updates of a user
  the guard already silenced are dropped before they queue behind that user's chat.
- ``ChatRateLimiter`` keeps python-telegram-bot's send limits (30 messages/s overall, 20 per
  minute per group) but waits out a 429 only for the chat it was about. PTB's AIORateLimiter
  stops *every* request while any one of them waits out a 429, so a flood in one private chat
  (Telegram allows about one message per second there) paused everybody's replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor
from telegram.warnings import PTBDeprecationWarning

from handlers.guard import CommandRateLimit, sender_key

log = logging.getLogger(__name__)

# Generous: most of them finish in milliseconds (dropped floods, quick look-ups).
MAX_CONCURRENT_UPDATES = 256
_MAX_GROUP_LIMITERS = 512  # and pauses remembered; idle ones are forgotten beyond it


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat; silenced users dropped up front."""

    def __init__(
        self, limiter: CommandRateLimit, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.limiter = limiter
        self._locks: dict[int, asyncio.Lock] = {}
        self._holders: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._silenced(update):
            # The guard would drop it too; dropping it here keeps a flood of thousands from
            # filling the queue of its chat (and the processor's slots) first.
            if isinstance(coroutine, Coroutine):
                coroutine.close()
            return
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # the table holds only chats with updates in hand
                del self._holders[key], self._locks[key]

    def _silenced(self, update: object) -> bool:
        # Button presses still reach the guard, which answers them so the spinner stops.
        if not isinstance(update, Update) or update.callback_query is not None:
            return False
        sender = sender_key(update)
        return sender is not None and self.limiter.silenced(sender)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""


RequestCallback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


class ChatRateLimiter(BaseRateLimiter[int]):
    """Telegram's send limits; a 429 holds back only the chat (or method) it was about."""

    def __init__(
        self,
        *,
        overall_max_rate: float = 30,
        overall_time_period: float = 1.0,
        group_max_rate: float = 20,
        group_time_period: float = 60.0,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = AsyncLimiter(overall_max_rate, overall_time_period)
        self._group_rate = (group_max_rate, group_time_period)
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._paused_until: dict[object, float] = {}
        self.max_retries = max_retries
        self.clock = clock

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: RequestCallback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Send within the limits; after a 429, wait it out (this chat only) and resend."""
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        chat_id = _int_or_str(data.get("chat_id"))
        scope = _pause_scope(chat_id, endpoint, data)
        attempt = 0
        while True:
            await self._wait_out(scope)
            try:
                return await self._send(chat_id, endpoint, callback, args, kwargs)
            except RetryAfter as exc:
                if attempt >= retries:
                    raise
                attempt += 1
                seconds = retry_seconds(exc) + 0.1
                log.info("429 for %s: holding it back %.1f s", scope, seconds)
                now = self.clock()
                if len(self._paused_until) > _MAX_GROUP_LIMITERS:  # forget pauses long over
                    for key in [k for k, end in self._paused_until.items() if end <= now]:
                        del self._paused_until[key]
                until = now + seconds
                self._paused_until[scope] = max(self._paused_until.get(scope, 0.0), until)

    async def _wait_out(self, scope: object) -> None:
        while (until := self._paused_until.get(scope)) is not None:
            left = until - self.clock()
            if left <= 0:
                self._paused_until.pop(scope, None)
                return
            await asyncio.sleep(left)

    async def _send(
        self,
        chat_id: int | str | None,
        endpoint: str,
        callback: RequestCallback,
        args: Any,
        kwargs: Any,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if chat_id is None:  # getUpdates, answerCallbackQuery, setMyCommands…
            return await callback(*args, **kwargs)
        # A group's 20 a minute are messages posted into it: looking up a member (the admin
        # check) or the chat must not use them up and hold back the answer.
        posts = endpoint.startswith(("send", "copyMessage", "forwardMessage"))
        group = self._group_limiter(chat_id) if posts else None
        async with group if group is not None else contextlib.nullcontext(), self._overall:
            return await callback(*args, **kwargs)

    def _group_limiter(self, chat_id: int | str) -> AsyncLimiter | None:
        # Negative ids are groups and channels; a "@name" can only be a channel or supergroup.
        if isinstance(chat_id, int) and chat_id > 0:
            return None
        if len(self._groups) > _MAX_GROUP_LIMITERS:
            rate = self._group_rate[0]
            for key in [k for k, lim in self._groups.items() if lim.has_capacity(rate)]:
                del self._groups[key]
        limiter = self._groups.get(chat_id)
        if limiter is None:
            limiter = self._groups[chat_id] = AsyncLimiter(*self._group_rate)
        return limiter


def _pause_scope(chat_id: int | str | None, endpoint: str, data: dict[str, Any]) -> object:
    """What a 429 on this request holds back: its chat, its button press, else its method.

    answerCallbackQuery names no chat: held back by method, one flooder's 429 paused every
    user's button answers (security review 3, follow-up); each press is its own scope.
    """
    if chat_id is not None:
        return ("chat", chat_id)
    if data.get("callback_query_id") is not None:
        return ("callback", str(data["callback_query_id"]))
    return ("method", endpoint)


def _int_or_str(value: object) -> int | str | None:
    if value is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        return int(str(value))
    return str(value)


def retry_seconds(exc: RetryAfter) -> float:
    """retry_after in seconds, whether PTB gives an int (v22) or a timedelta (later).

    The one reading of it: the limiter, the sender and the flood-wait metric all use it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
