"""Items the classifier benchmarks and the identity check read: the labelled sets of
../shared/data, the items of the feed fixtures, and generated "word salad" feed items.

Not a benchmark itself: imported by bench/classify_identical.py and bench/classify_workload.py.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
# Undated items are read against this day, not today: a dump must not change overnight.
FIXED = datetime(2025, 6, 15, 12, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CorpusItem:
    source: str  # "dev.jsonl:12", "fixture:reddit.rss:3", "salad:7:4"
    title: str
    text: str
    published: datetime
    language: str | None


def _day(value: object) -> datetime:
    from news.classify import parse_published

    parsed = parse_published(value) if isinstance(value, str) else None
    if parsed is None:
        return FIXED
    return datetime(parsed.year, parsed.month, parsed.day, 12, tzinfo=UTC)


def labelled(name: str) -> Iterator[CorpusItem]:
    from news.evaluate import read_clusters, read_labelled

    path = DATA / name
    items = read_clusters(path) if name.startswith("clusters") else read_labelled(path)
    for n, item in enumerate(items):
        language = item.get("language")
        yield CorpusItem(
            f"{name}:{n}",
            item.get("title") or "",
            item.get("text") or "",
            _day(item.get("date")),
            language if isinstance(language, str) else None,
        )


def _feed_items(source: str, body: bytes) -> Iterator[CorpusItem]:
    from news.parse import parse_feed

    try:
        parsed = parse_feed(body, {}, url=f"https://example.org/{source}", fetched_at=FIXED)
    except Exception:
        return
    for n, item in enumerate(parsed.items):
        yield CorpusItem(
            f"{source}:{n}", item.title, item.text, item.published or FIXED, item.language
        )


def fixtures() -> Iterator[CorpusItem]:
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix in (".xml", ".rss", ".atom"):
            yield from _feed_items(f"fixture:{path.name}", path.read_bytes())


def word_salad(feeds: int, items: int = 20, content_bytes: int = 0) -> Iterator[CorpusItem]:
    """Items of bench/feedserver_process.py's generated feeds (half Russian)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from feedserver_process import make_feed

    for index in range(feeds):
        body = make_feed(index, items, content_bytes)
        yield from _feed_items(f"salad:{index}:{content_bytes}", body)


def every_item() -> Iterator[CorpusItem]:
    for name in ("dev.jsonl", "dev2.jsonl", "clusters_dev.jsonl"):
        yield from labelled(name)
    yield from fixtures()
    yield from word_salad(40)
    yield from word_salad(6, content_bytes=3000)
