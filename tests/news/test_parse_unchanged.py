"""A body equal to the last one parsed and stored is not parsed again (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from news.errors import EntityDeclarationError
from news.parse import (
    ParsedFeed,
    UnchangedFeed,
    feed_fingerprint,
    parse_feed,
    parse_if_changed,
)
from news.parse_pool import ParsePool
from tests.feedserver import make_rss
from tests.hostile import quadratic

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
URL = "https://news.example.kz/rss"
XML = {"Content-Type": "application/rss+xml"}


def test_the_fingerprint_covers_what_the_parse_reads() -> None:
    body = make_rss("Fingerprint", 3)
    same = feed_fingerprint(body, XML, url=URL)
    assert feed_fingerprint(body, {"content-type": "application/rss+xml"}, url=URL) == same
    assert feed_fingerprint(body + b" ", XML, url=URL) != same
    assert feed_fingerprint(body, {"Content-Type": "text/xml; charset=koi8-r"}, url=URL) != same
    assert feed_fingerprint(body, {**XML, "Content-Language": "ru"}, url=URL) != same
    assert feed_fingerprint(body, XML, url=URL + "?page=2") != same  # links resolve against it


async def test_a_new_body_is_parsed_and_an_unchanged_one_is_not() -> None:
    pool = ParsePool(1)
    try:
        body = make_rss("Unchanged", 5)
        first = await parse_if_changed(body, XML, url=URL, fetched_at=NOW, previous=None, pool=pool)
        assert isinstance(first, ParsedFeed)
        assert first.items == parse_feed(body, XML, url=URL, fetched_at=NOW).items
        assert first.fingerprint == feed_fingerprint(body, XML, url=URL)
        pids = pool.pids
        pool.close()  # an unchanged body must not need a worker at all
        again = await parse_if_changed(
            body, XML, url=URL, fetched_at=NOW, previous=first.fingerprint, pool=pool
        )
        assert again == UnchangedFeed(first.fingerprint)
        assert pool.pids == [] and pids
        changed = make_rss("Unchanged", 6)
        third = await parse_if_changed(
            changed, XML, url=URL, fetched_at=NOW, previous=first.fingerprint, pool=pool
        )
        assert isinstance(third, ParsedFeed) and len(third.items) == 6
    finally:
        pool.close()


async def test_a_refused_body_is_refused_again_not_skipped() -> None:
    pool = ParsePool(1)
    try:
        body = quadratic("utf-8")
        for _ in range(2):  # nothing to store after a failure: the caller keeps `previous`
            with pytest.raises(EntityDeclarationError):
                await parse_if_changed(body, XML, url=URL, fetched_at=NOW, previous=None, pool=pool)
    finally:
        pool.close()
