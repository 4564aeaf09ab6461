"""Abuse guard, run before every other handler: a per-sender rate limit and a check on
command size and odd Unicode.

Every update from a user counts — commands, plain messages, button presses, in any chat — so
a flood of plain text costs as much as a flood of commands. A flood gets one polite notice,
not one reply each: the notice is sent when the user first crosses the limit (where the bot
would have answered: not for chatter in a group), and everything else is dropped until the
window clears.
"""

from __future__ import annotations

import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import Context
from bot.i18n import t
from handlers.common import chat_language, reply_html

# Generous for a person, tight for a script: 15 messages or button presses per 30 seconds.
MAX_ACTIONS = 15
WINDOW_SECONDS = 30.0
MAX_COMMAND_CHARS = 512
# Format characters that can hide or reorder text (bidi overrides, zero-width joiners in
# bulk) and private-use or unassigned code points have no place in a command.
_REFUSED_CATEGORIES = {"Cc", "Co", "Cn", "Cs"}
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


@dataclass
class CommandRateLimit:
    """Sliding-window counter of actions per user."""

    max_actions: int = MAX_ACTIONS
    window: float = WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _warned: set[int] = field(default_factory=set)
    _checks: int = 0

    def check(self, user_id: int) -> str:
        """ "ok", "notify" (first time over the limit) or "drop"."""
        self._checks += 1
        if self._checks % 1000 == 0:
            self.forget_idle()  # the table must not grow with every user ever seen
        now = self.clock()
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        if len(stamps) < self.max_actions:
            stamps.append(now)
            self._warned.discard(user_id)
            return "ok"
        if user_id in self._warned:
            return "drop"
        self._warned.add(user_id)
        return "notify"

    def silenced(self, user_id: int) -> bool:
        """True when the user was told to slow down and the window is still full (read-only)."""
        if user_id not in self._warned:
            return False
        now = self.clock()
        stamps = self._seen.get(user_id, ())
        return sum(1 for stamp in stamps if now - stamp <= self.window) >= self.max_actions

    def forget_idle(self) -> None:
        """Drop users whose window is empty, so the table does not grow for ever."""
        now = self.clock()
        for user_id in [u for u, s in self._seen.items() if not s or now - s[-1] > self.window]:
            self._seen.pop(user_id, None)
            self._warned.discard(user_id)


def odd_text(text: str) -> bool:
    """True for text with control, private-use, unassigned or bidi-override characters."""
    for ch in text:
        if ch in "\n\t":
            continue
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return True
    return False


def _limiter(context: Context) -> CommandRateLimit:
    data = context.bot_data
    if data.rate_limit is None:
        data.rate_limit = CommandRateLimit()
    return data.rate_limit


def sender_key(update: Update) -> int | None:
    """Whose budget an update spends: the user's, or the chat's it was sent on behalf of.

    Anonymous group admins all come "from" GroupAnonymousBot, posts on behalf of a channel
    from Channel_Bot and linked-channel forwards from 777000, in every group: keyed by "from",
    one flooder would silence all of them everywhere (security review 3, finding 3). Their
    `sender_chat` (the group, the channel) is who really speaks. Chat ids are negative and
    user ids positive, so the two share one table. A button press is its user's own.
    """
    sender = update.effective_sender
    if update.effective_user is None or sender is None:
        return None  # channel posts: only the channel's administrators can write them
    return sender.id


def _answered(update: Update, is_command: bool) -> bool:
    """Whether the bot would answer this update (so a notice there makes sense)."""
    chat = update.effective_chat
    return is_command or (chat is not None and chat.type == chat.PRIVATE)


async def guard(update: Update, context: Context) -> None:
    """Stop floods and malformed commands before any handler sees them."""
    sender = sender_key(update)
    message = update.effective_message
    is_command = bool(message and message.text and message.text.startswith("/"))
    if sender is None:
        return
    verdict = _limiter(context).check(sender)
    if verdict != "ok":
        if update.callback_query:
            if verdict == "notify":
                await update.callback_query.answer(
                    t(await chat_language(update, context), "slow_down"), show_alert=True
                )
            else:
                await update.callback_query.answer()
        elif verdict == "notify" and message is not None and _answered(update, is_command):
            await reply_html(update, t(await chat_language(update, context), "slow_down"))
        raise ApplicationHandlerStop
    if is_command and message is not None and message.text is not None:
        if len(message.text) > MAX_COMMAND_CHARS:
            await reply_html(update, t(await chat_language(update, context), "too_long"))
            raise ApplicationHandlerStop
        if odd_text(message.text):
            await reply_html(update, t(await chat_language(update, context), "odd_text"))
            raise ApplicationHandlerStop
