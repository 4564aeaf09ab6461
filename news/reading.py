"""Fetch a feed, then parse it: the one way polling, scan, feed adding and the doctor read one.

Each caller words the failure its own way (a feed row's last error, an operator's refusal, a
doctor's advice), so this returns what happened rather than a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from news.errors import FeedError

if TYPE_CHECKING:
    from news.fetch import FeedFetcher, FetchResult
    from news.parse import ParsedFeed, UnchangedFeed
    from news.parse_pool import ParsePool


@dataclass(frozen=True, slots=True)
class FeedRead:
    """The fetch's result and, when the feed answered 200, what parsing made of the body."""

    result: FetchResult
    # None: an error, a 304, a body that is no feed, or an unchanged one. Its `fingerprint` is
    # the body's, to store with its items.
    parsed: ParsedFeed | None = None
    parse_error: FeedError | None = None
    # A 200 whose body has the fingerprint the caller passed: not parsed, nothing to store.
    unchanged: UnchangedFeed | None = None

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
    body_fingerprint: str | None = None,
) -> FeedRead:
    """Fetch ``url`` (conditionally, given validators) and parse a 200's body.

    Parsing runs in ``parser``'s worker processes, or the shared pool's: feedparser is pure
    Python and holds the GIL, and a hostile feed is killed there (news/parse_pool.py). Given
    ``body_fingerprint`` (the poller's, of the body last stored), a 200 with that body again
    is not parsed (`FeedRead.unchanged`); without it (scan, feed adding, the doctor) every
    200 is parsed.
    """
    result = await fetcher.fetch(url, etag=etag, last_modified=last_modified)
    if result.outcome != "ok":
        # An error, or a 304: nothing to parse (RFC 9110 §15.4.5).
        return FeedRead(result)
    # Imported on the first body: feedparser and the parser's modules cost a cycle answered
    # only by 304s a tenth of its start-up (issue 14).
    from news.parse import UnchangedFeed, parse_if_changed

    base = result.final_url or url
    when = fetched_at or datetime.now(UTC)
    try:
        parsed = await parse_if_changed(
            result.body,
            result.headers,
            url=base,
            fetched_at=when,
            previous=body_fingerprint,
            pool=parser,
        )
    except FeedError as exc:
        return FeedRead(result, parse_error=exc)
    if isinstance(parsed, UnchangedFeed):
        return FeedRead(result, unchanged=parsed)
    return FeedRead(result, parsed)
