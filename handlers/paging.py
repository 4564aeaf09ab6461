"""Keeping replies within Telegram's limits, whatever a feed or a user put in them.

Telegram refuses a message over 4,096 characters (UTF-16 code units of the text after entity
parsing) and a callback answer over 200. We measure the HTML we send, which is never shorter
than what Telegram counts, so a reply that fits here fits there.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from bot.render import MAX_MESSAGE, clean, utf16_len

MAX_CALLBACK_ANSWER = 200
# Room kept for a heading or a "… and N more" line added after the budget is worked out.
_MARGIN = 96


def cut(text: str | None, units: int) -> str:
    """Feed or user text, cleaned and cut (on a word, with "…") to at most `units` UTF-16
    units, then HTML-escaped."""
    cleaned = clean(text)
    if utf16_len(cleaned) > units:
        low, high = 0, len(cleaned)
        while low < high:  # the longest cut whose text fits; astral characters count twice
            mid = (low + high + 1) // 2
            if utf16_len(clean(cleaned, mid)) <= units:
                low = mid
            else:
                high = mid - 1
        cleaned = clean(cleaned, low) if low else ""
    return html.escape(cleaned, quote=False)


def fitting(
    lines: Sequence[str], *, head: str = "", sep: str = "\n", limit: int = MAX_MESSAGE
) -> int:
    """How many of `lines` (from the first) fit in one message after `head`."""
    used = utf16_len(head) + _MARGIN
    for n, line in enumerate(lines):
        used += utf16_len(line) + (utf16_len(sep) if n or head else 0)
        if used > limit:
            return n
    return len(lines)


def join_within(
    lines: Sequence[str],
    *,
    more: Callable[[int], str],
    head: str = "",
    sep: str = "\n",
    limit: int = MAX_MESSAGE,
    left_out: int = 0,
) -> str:
    """`head` and as many `lines` as fit, then `more(how many were left out)` if any were
    (`left_out`: how many the caller left out before)."""
    count = fitting(lines, head=head, sep=sep, limit=limit)
    kept = list(lines[:count])
    if count < len(lines) or left_out:
        kept.append(more(len(lines) - count + left_out))
    return sep.join([head, *kept] if head else kept)
