"""Fetch a feed, then parse it: the one way polling, scan, feed adding and the doctor read one.

Each caller words the failure its own way (a feed row's last error, an operator's refusal, a
doctor's advice), so this returns what happened rather than a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from news.errors import FeedError
from news.fetch import FeedFetcher, FetchResult
from news.parse import ParsedFeed, parse_feed_async
from news.parse_pool import ParsePool


@dataclass(frozen=True, slots=True)
class FeedRead:
    """The fetch's result and, when the feed answered 200, what parsing made of the body."""

    result: FetchResult
    parsed: ParsedFeed | None = None  # None: an error, a 304, or a body that is no feed
    parse_error: FeedError | None = None

    @property
    def ok(self) -> bool:
        return self.parsed is not None


async def read_feed(
    fetcher: FeedFetcher,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    parser: ParsePool | None = None,
    fetched_at: datetime | None = None,
) -> FeedRead:
    """Fetch ``url`` (conditionally, given validators) and parse a 200's body.

    Parsing runs in ``parser``'s worker processes, or the shared pool's: feedparser is pure
    Python and holds the GIL, and a hostile feed is killed there (news/parse_pool.py).
    """
    result = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
    if result.outcome != "ok":
        # An error, or a 304: nothing to parse (RFC 9110 §15.4.5).
        return FeedRead(result)
    base = result.final_url or url
    when = fetched_at or datetime.now(UTC)
    try:
        if parser is None:
            parsed = await parse_feed_async(result.body, result.headers, url=base, fetched_at=when)
        else:
            parsed = await parser.parse(result.body, result.headers, url=base, fetched_at=when)
    except FeedError as exc:
        return FeedRead(result, parse_error=exc)
    return FeedRead(result, parsed)
