"""Feed parsing in worker processes with a time limit and a memory bound (issues 10 and 18).

feedparser is pure Python: 8 MB of nested elements keep it busy for minutes, unclosed tags
take it past a gigabyte. So every parse runs in a worker process (`news.parse_worker`) whose
address space is capped, and the parent gives each parse a wall-clock limit: a worker that
runs over is killed with SIGKILL and a fresh one started for the next feed. With at least two
workers, one hostile feed never stops the others from being parsed. The processes, pipes and
limits are `news.worker_pool`'s.

Waiting parses take a free worker smallest body first, so a healthy feed is not queued behind
megabytes of hostile ones that arrived at the same time.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from news.errors import FeedParseError, ParseLimitError
from news.worker_pool import WorkerGone, WorkerPool

if TYPE_CHECKING:
    # The workers import news.parse; this process only needs it once a body arrives.
    from news.parse import ParsedFeed

log = logging.getLogger(__name__)

PARSE_TIMEOUT = 20.0  # s; a 10 MiB feed of real articles parses in 1-3 s
# The address space of one worker; ~32 MB of it is Python. A real 10 MiB feed (the fetch cap)
# of Cyrillic text, or 5 MiB with emoji, parses within it. 120 rather than 128 MiB since the
# analysis worker (news.analysis_pool, ~50 MB) joined the process tree: two parse workers at
# their cap, it and the bot stay under the 400 MB of bench/hostile.py.
MEMORY_LIMIT = 120 * 1024 * 1024
# The largest reply parse_feed's caps allow (security review 3, finding 2): 200 items whose
# key, link, title and text are full of 4-byte characters (18.5 MB pickled, see the test),
# plus the feed's own bounded fields. A longer frame means a bug or corruption: the worker is
# dropped rather than its reply read into the bot's memory.
MAX_REPLY = 32 * 1024 * 1024


def default_workers() -> int:
    """Two at least, so one stuck feed never stops the others; at most four."""
    return max(2, min(4, os.cpu_count() or 1))


class ParsePool(WorkerPool):
    """Parses feeds in up to `workers` processes, each under `timeout` and `memory_limit`.

    Safe to share between event loops and threads; `close()` kills every worker at once
    (a later `parse` starts new ones).
    """

    module = "news.parse_worker"
    name = "parse worker"
    max_reply = MAX_REPLY

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = PARSE_TIMEOUT,
        memory_limit: int = MEMORY_LIMIT,
    ) -> None:
        super().__init__(workers or default_workers(), timeout=timeout, memory_limit=memory_limit)

    async def parse(
        self, body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
    ) -> ParsedFeed:
        """Parse in a worker; `FeedParseError` for a bad feed, `ParseLimitError` past a limit."""
        header = pickle.dumps((url, dict(headers), fetched_at, len(body)))
        try:
            status, value = await self.call(header, body, size=len(body))
        except TimeoutError:
            raise ParseLimitError(
                # Not "until it changes": a refused body has no stored fingerprint, so it is
                # parsed again, at polls spaced out by the failure back-off.
                f"parsing took longer than {self.timeout:g} s; refused (a real feed parses in "
                "a few seconds); tried again at later polls, less and less often"
            ) from None
        except WorkerGone as exc:
            raise FeedParseError(f"{exc}; the feed will be tried again at its next poll") from exc
        if status != "ok":
            raise value
        if value.warning:
            log.info("parse %s: %s", url, value.warning)
        parsed: ParsedFeed = value
        return parsed

    def stopped(self) -> Exception:
        return FeedParseError("parsing stopped: shutting down")


_shared: ParsePool | None = None
_shared_lock = threading.Lock()


def shared_pool() -> ParsePool:
    """The process-wide pool for callers without their own (`parse_feed_async`)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ParsePool()
        return _shared
