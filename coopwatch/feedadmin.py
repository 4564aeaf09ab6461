"""Adding a feed after checking it (`Coopwatch.add_feed`, for /addfeed and the CLI).

A feed is fetched and parsed before it is added, so an operator learns at once that a URL is
unreachable or not a feed, instead of from a failing feed a day later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from coopwatch.app import FeedRefused
from news.errors import FeedError
from news.fetch import FeedFetcher
from news.parse_pool import ParsePool
from news.reading import read_feed
from news.urlguard import check_url
from storage import Database
from storage import feeds as feed_store
from storage.feeds import FeedExistsError, FeedInfo, StoredItem


@dataclass(frozen=True, slots=True)
class AddedFeed:
    feed: FeedInfo
    item_count: int
    new_items: tuple[StoredItem, ...]


async def add_feed_checked(
    *,
    db: Database,
    fetcher: FeedFetcher,
    url: str,
    title: str | None,
    allow_private: bool,
    interval: float,
    max_item_age: timedelta,
    parser: ParsePool | None = None,
) -> AddedFeed:
    """Check, fetch and parse ``url``; add it with its items, or raise FeedRefused."""
    url = url.strip()
    if len(url) > 2000:
        raise FeedRefused("that URL is too long")
    try:
        await check_url(url, allow_private=allow_private)
    except FeedError as exc:
        raise FeedRefused(str(exc)) from exc
    if await db.run(feed_store.find_feed_by_url, url=url) is not None:
        raise FeedRefused("that feed is already in the list")
    now = datetime.now(UTC)
    read = await read_feed(fetcher, url, parser=parser, fetched_at=now)
    result = read.result
    if result.outcome != "ok":
        reason = result.message or result.error_kind or "no answer"
        raise FeedRefused(f"could not fetch it: {reason}")
    if read.parsed is None:
        raise FeedRefused(f"not a usable feed: {read.parse_error}") from read.parse_error
    parsed = read.parsed
    final_url = result.moved_to or url
    try:
        feed, stored = await db.run(
            feed_store.add_feed_with_items,
            url=final_url,
            title=(title or parsed.title or final_url)[:300],
            language=parsed.language,
            now=now,
            next_poll_at=now + timedelta(seconds=interval),
            items=parsed.items,
            max_age=max_item_age,
            etag=result.etag,
            last_modified=result.last_modified,
        )
    except FeedExistsError as exc:
        raise FeedRefused("that feed is already in the list") from exc
    return AddedFeed(feed, len(parsed.items), tuple(stored))
