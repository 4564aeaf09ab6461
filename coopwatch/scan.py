"""`coopwatch scan`: one dry pass over the feeds, printing the events found.

Nothing is written: feeds are fetched without validators (so a 304 cannot hide what a feed
holds now), every item is classified and grouped in memory, and no delivery is queued.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from news.candidates import event_candidate, is_event
from news.classify import classify_item
from news.fetch import FeedFetcher
from news.grouping import Grouper
from news.parse_pool import ParsePool
from news.reading import read_feed
from news.records import FeedItem
from storage import Database
from storage import events as event_store
from storage import feeds as feed_store
from storage.feeds import FeedInfo


@dataclass
class ScannedEvent:
    key: str
    event_type: str
    countries: tuple[str, ...]
    titles: list[str] = field(default_factory=list)
    outlets: list[str] = field(default_factory=list)
    confidence: float = 0.0


async def _fetch_items(
    fetcher: FeedFetcher, feed: FeedInfo, parser: ParsePool | None
) -> tuple[list[FeedItem], str]:
    read = await read_feed(fetcher, feed.url, parser=parser)
    if read.result.outcome != "ok":
        return [], f"error: {read.result.message or read.result.error_kind}"
    if read.parsed is None:
        return [], f"error: {read.parse_error}"
    return list(read.parsed.items), f"{len(read.parsed.items)} items"


async def scan(
    db: Database, fetcher: FeedFetcher, out: TextIO, *, parser: ParsePool | None = None
) -> int:
    """Fetch every enabled feed, classify and group its items, print what was found."""
    feeds = [f for f in await db.run(feed_store.list_feeds) if f.enabled]
    fetched = await asyncio.gather(*(_fetch_items(fetcher, feed, parser) for feed in feeds))
    found: list[tuple[datetime, str, FeedItem]] = []
    for feed, (items, status) in zip(feeds, fetched, strict=True):
        out.write(f"feed {feed.id} {feed.title or feed.url}: {status}\n")
        now = datetime.now(UTC)
        found += [(item.published or now, feed.title or feed.url, item) for item in items]
    found.sort(key=lambda entry: entry[0])
    grouper = Grouper()
    events: dict[str, ScannedEvent] = {}
    for n, (published, outlet, item) in enumerate(found):
        result = await asyncio.to_thread(classify_item, item.title, item.text, published=published)
        if not is_event(result):
            continue
        _, candidate = event_candidate(
            str(n),
            item.title,
            item.text,
            published=published,
            classification=result,
            fallback_day=published.date(),
        )
        key, _ = grouper.assign(candidate)
        event = events.setdefault(key, ScannedEvent(key, result.event_type, result.countries))
        event.titles.append(item.title)
        event.outlets.append(outlet)
        event.confidence = max(event.confidence, result.confidence)
    out.write("\n")
    for event in events.values():
        # An event the bot already stored is named by the id people type (/event 42).
        stored = await db.run(event_store.get_event, key=event.key)
        known = f"\t/event {stored.id}" if stored is not None else ""
        out.write(
            f"{event.key}\t{event.event_type}\t{'-'.join(event.countries)}\t"
            f"confidence {event.confidence:.2f}\t{len(event.titles)} report(s){known}\n"
        )
        for title, outlet in zip(event.titles, event.outlets, strict=True):
            out.write(f"    {outlet}: {title}\n")
    out.write(f"{len(events)} event(s) in {len(found)} item(s); nothing was stored or sent\n")
    readable = sum(not status.startswith("error") for _, status in fetched)
    if not readable:
        # Nothing was scanned: a script (cron, CI) must see that as a failure, not as "no news".
        why = "no enabled feeds" if not feeds else f"none of the {len(feeds)} feeds could be read"
        out.write(f"{why}; `coopwatch doctor` says why\n")
        return 1
    return 0
