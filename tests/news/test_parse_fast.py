"""The fast path for plain RSS 2.0 (news.rss20) gives exactly what feedparser gives, or declines.

Every test compares the two paths of `news.parse` on the same body: `parse_feed_fast` (None
when it declines) against `parse_feed_with_feedparser`, the path every body took before.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest

import news.parse
from news.errors import FeedParseError
from news.parse import (
    FAST_PATH_MAX_BYTES,
    MAX_ITEMS_PER_FEED,
    ParsedFeed,
    parse_feed,
    parse_feed_fast,
    parse_feed_with_feedparser,
)
from news.parse_pool import ParsePool
from tests.feedserver import FIXTURES
from tests.hostile import MiB, many_items

FETCHED_AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
URL = "https://news.example.kz/rss/main.xml"

Outcome = ParsedFeed | tuple[str, str] | None


def both_paths(body: bytes, headers: dict[str, str], url: str = URL) -> tuple[Outcome, Outcome]:
    """(fast path's outcome, feedparser path's outcome); an error as (its type, its message)."""

    def outcome(parse: Callable[..., ParsedFeed | None]) -> Outcome:
        try:
            return parse(body, headers, url=url, fetched_at=FETCHED_AT)
        except FeedParseError as exc:
            return (type(exc).__name__, str(exc))

    return outcome(parse_feed_fast), outcome(parse_feed_with_feedparser)


# --- the repository's real feed files ----------------------------------------------------------

FAST_FIXTURES = {"rssparser__guardian.rss"}  # dc:, media:content, image: all read alike


@pytest.mark.parametrize(
    "name", sorted(p.name for p in FIXTURES.iterdir() if p.suffix in {".rss", ".atom", ".xml"})
)
def test_each_fixture_reads_the_same_by_the_path_it_takes(name: str) -> None:
    fast, reference = both_paths((FIXTURES / name).read_bytes(), {})
    if name in FAST_FIXTURES:
        assert fast is not None, "the fast path declined a feed it is meant to read"
        assert fast == reference
    else:
        # Atom, RSS 1.0 and 0.9x, ill-formed XML, undeclared charsets, media:title, geo:...
        assert fast is None


def test_a_typical_rss_feed_never_reaches_feedparser(monkeypatch: pytest.MonkeyPatch) -> None:
    body = (FIXTURES / "rssparser__guardian.rss").read_bytes()
    expected = parse_feed_with_feedparser(body, {}, url=URL, fetched_at=FETCHED_AT)

    def no_feedparser(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser was called")

    monkeypatch.setattr(news.parse.feedparser, "parse", no_feedparser)
    assert parse_feed(body, {}, url=URL, fetched_at=FETCHED_AT) == expected


# --- generated documents: random mixtures of the tricky parts --------------------------------

TEXTS = [
    "Plain words",
    "Café déjà vu",
    "Казахстан и Узбекистан подписали соглашение",
    "A &amp; B",
    "&lt;b&gt;bold&lt;/b&gt; and &lt;a href='/x'&gt;a link&lt;/a&gt;",
    "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
    "&lt;p&gt;para&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;&lt;p&gt;two&lt;/p&gt;",
    "<![CDATA[<p>In <b>CDATA</b> & raw <i>markup</i></p>]]>",
    "<![CDATA[   ]]>",
    "  spaced \n\t out \r\n  ",
    "CafÃ© read as Latin-1",  # UTF-8 bytes read as Latin-1: feedparser undoes it
    "&#x93;curly&#x94; &#x80; &#x9f;",  # the windows-1252 range feedparser maps
    "\u202eright-to-left\u202c and \u2066isolate\u2069",
    "it&#8217;s &#160;nbsp &#xFEFF;bom &#x85;nel",
    "emoji 🎉 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "&lt;img src=x onerror=alert(1)&gt;",
    "&amp;amp;",
    "&amp;nbsp;&amp;mdash;",
    "tab\there",
    "",
    "x" * 700,
    " ".join(["word"] * 5000),
]
LINKS = [
    "https://news.example.kz/a/1",
    "https://news.example.kz/a/1?utm_source=rss&amp;utm_medium=feed&amp;id=5",
    "/relative/path?x=1",
    "relative/no-slash",
    "//cdn.example.kz/x",
    "javascript:alert(1)",
    "HTTP://News.Example.KZ:80/b#frag",
    "  https://ws.example.kz/c  ",
    "",
    "https://news.example.kz/q?a=1&amp;amp;b=2",
    "https://news.example.kz/e?x=&amp;copy;&amp;y=&amp;z;",
    "https://пример.рф/путь",
    "http://[::1]:8080/v6",
    "mailto:x@example.kz",
    "https:///three-slashes",
    "https://news.example.kz/" + "p" * 2100,
    "https://news.example.kz/dup",
]
GUIDS = [
    "id-{n}",
    "id-dup",
    "https://news.example.kz/g/{n}",
    "/rel/guid/{n}",
    "",
    " padded ",
    "g" * 600,
]
PERMALINK = ["", ' isPermaLink="true"', ' isPermaLink="false"', ' isPermaLink="True"']
DATES = [
    "Tue, 01 Dec 2026 15:36:53 +0000",
    "Sat, 28 Nov 2026 09:00:00 GMT",
    "28 Nov 2026 09:00:00 GMT",
    "Fri, 27 Nov 2026 10:36:53 EST",
    "2026-11-28T09:00:00Z",
    "2026-11-28T09:00:00+05:00",
    "2026-11-28",
    "Sat, 28 Nov 2026 09:00:00",
    "Sun, 29 Nov 2026 12:00:00 +0300",
    "Sat, 01 Jan 2099 00:00:00 GMT",
    "Mon, 30 Nov 2026 25:61:00 +0000",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "  Sun, 29 Nov 2026 11:00:00 GMT  ",
    "28 ноября 2026",
    "yesterday",
    "",
]
LANGUAGES = ["ru-RU", "en_us", "kk", "", "  RU  ", "xx-invalid-", "ru"]
NAMESPACES = (
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:atom="http://www.w3.org/2005/Atom"'
    ' xmlns:media="http://search.yahoo.com/mrss/"'
)
HEADERS = [
    {},
    {"content-type": "application/rss+xml"},
    {"Content-Type": "application/xml; charset=utf-8"},
    {"content-type": "application/rss+xml", "content-language": "kk-KZ"},
    {"content-type": "text/xml"},  # us-ascii by RFC 3023: any other byte is charset doubt
    {"content-type": "application/atom+xml", "Content-Language": "en_GB"},
    {"content-type": "application/rss+xml", "content-location": "https://mirror.example/x/f"},
]

# Each of these takes a document out of the subset the fast path reads: it must decline.
ODD = {
    "xml:base": lambda d: d.replace("<item>", '<item xml:base="https://other.example/">', 1),
    "dc:title": lambda d: d.replace("<item>", "<item><dc:title>DC</dc:title>", 1),
    "media:title": lambda d: d.replace("<item>", "<item><media:title>M</media:title>", 1),
    "alternate atom:link": lambda d: d.replace(
        "<channel>", '<channel><atom:link href="https://alt.example/" rel="alternate"/>', 1
    ),
    "title twice": lambda d: d.replace("<item>", "<item><title>1</title><title>2</title>", 1),
    "doctype": lambda d: d.replace("<rss", "<!DOCTYPE rss>\n<rss", 1),
    "rss 0.92": lambda d: d.replace('version="2.0"', 'version="0.92"', 1),
    "unknown element": lambda d: d.replace("<item>", "<item><foo>bar</foo>", 1),
    "tag inside a title": lambda d: d.replace("<item>", "<item><title>a <b>b</b></title>", 1),
    "ill-formed": lambda d: d.replace("</channel>", "", 1),
    "default namespace": lambda d: d.replace(
        "<rss", '<rss xmlns="http://backend.userland.com/rss2"', 1
    ),
    "dc bound elsewhere": lambda d: d.replace(
        'xmlns:dc="http://purl.org/dc/elements/1.1/"', 'xmlns:dc="http://example.com/dc"', 1
    ),
    "typed title": lambda d: d.replace("<item>", '<item><title type="html">T</title>', 1),
    "lower-case ispermalink": lambda d: d.replace(
        "<item>", '<item><guid ispermalink="false">g</guid>', 1
    ),
    "control character": lambda d: d.replace("<item>", "<item><title>a\x0bb</title>", 1),
    "textInput": lambda d: d.replace(
        "<channel>", "<channel><textInput><title>t</title></textInput>", 1
    ),
    "item attribute": lambda d: d.replace("<item>", '<item rdf:about="x">', 1),
    "xml: element": lambda d: d.replace("<item>", "<item><xml:foo>x</xml:foo>", 1),
    "lang attribute": lambda d: d.replace("<item>", '<item><category lang="en">c</category>', 1),
}


def maybe(rng: random.Random, p: float, text: str) -> str:
    return text if rng.random() < p else ""


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXTS) for _ in range(rng.randint(1, 3)))


def random_item(rng: random.Random, n: int) -> str:
    link = rng.choice(LINKS)
    parts = [
        maybe(rng, 0.85, f"<title>{random_text(rng)}</title>"),
        maybe(rng, 0.8, f"<link>{link}</link>"),
        maybe(
            rng,
            0.6,
            f"<guid{rng.choice(PERMALINK)}>{rng.choice([*GUIDS, link]).format(n=n)}</guid>",
        ),
        maybe(rng, 0.8, f"<description>{random_text(rng)}</description>"),
        maybe(rng, 0.3, f"<content:encoded>{random_text(rng)}</content:encoded>"),
        maybe(rng, 0.8, f"<pubDate>{rng.choice(DATES)}</pubDate>"),
        maybe(rng, 0.15, f"<dc:date>{rng.choice(DATES)}</dc:date>"),
        maybe(
            rng, 0.3, '<category domain="https://x.example/">News</category><category>B</category>'
        ),
        maybe(rng, 0.1, "<author>ed@example.kz (Ed)</author><dc:creator>Ed</dc:creator>"),
        maybe(rng, 0.1, '<enclosure url="https://x.example/a.mp3" length="1" type="audio/mpeg"/>'),
        maybe(rng, 0.1, "<comments>/comments/1</comments>"),
        maybe(
            rng,
            0.1,
            '<media:content url="https://x.example/i.jpg" width="140" medium="image">'
            '<media:credit scheme="urn:ebu">Photo</media:credit></media:content>',
        ),
    ]
    rng.shuffle(parts)
    return "<item>" + "".join(parts) + "</item>"


def random_feed(rng: random.Random) -> str:
    count = rng.randint(MAX_ITEMS_PER_FEED + 1, MAX_ITEMS_PER_FEED + 15)
    if rng.random() > 0.03:
        count = rng.randint(0, 8)
    language = rng.choice(LANGUAGES)
    channel = [
        maybe(rng, 0.9, f"<title>{random_text(rng)}</title>"),
        maybe(rng, 0.9, f"<link>{rng.choice(LINKS)}</link>"),
        maybe(rng, 0.5, f"<description>{escape(rng.choice(TEXTS))}</description>"),
        maybe(rng, 0.8, f"<language>{language}</language>"),
        maybe(rng, 0.1, f"<dc:language>{rng.choice(LANGUAGES)}</dc:language>"),
        maybe(rng, 0.3, f"<lastBuildDate>{rng.choice(DATES)}</lastBuildDate>"),
        maybe(
            rng,
            0.2,
            "<image><title>Logo</title><url>/logo.png</url><link>https://x.example/</link></image>",
        ),
        maybe(
            rng,
            0.3,
            '<atom:link href="https://x.example/rss" rel="self" type="application/rss+xml"/>',
        ),
    ]
    rng.shuffle(channel)
    items = "".join(random_item(rng, n) for n in range(count))
    at = rng.randrange(len(channel) + 1)
    body = "".join(channel[:at]) + items + "".join(channel[at:])
    return f'<rss version="2.0"{NAMESPACES}><channel>{body}</channel></rss>'


def encoded(rng: random.Random, document: str) -> bytes:
    choice = rng.random()
    if choice < 0.1:
        head = '<?xml version="1.0" encoding="windows-1251"?>\n'
        return (head + document).encode("windows-1251", "xmlcharrefreplace")
    if choice < 0.15:
        return document.encode()  # no declaration
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + document).encode()


def test_generated_feeds_read_the_same_by_both_paths() -> None:
    rng = random.Random(14)
    taken = declined_odd = 0
    for number in range(300):
        document = random_feed(rng)
        odd = rng.choice(sorted(ODD)) if rng.random() < 0.2 else None
        if odd is not None:
            document = ODD[odd](document)
        body = encoded(rng, document)
        headers = rng.choice(HEADERS)
        url = rng.choice([URL, "http://h.example/dir/feed.xml?x=1", "https://h.example"])
        fast, reference = both_paths(body, headers, url)
        context = f"document {number} ({odd or 'ordinary'}), headers {headers}:\n{body[:3000]!r}"
        if fast is not None:
            assert fast == reference, context
            taken += 1
        if odd is not None and "<item>" in document:
            assert fast is None, context
            declined_odd += 1
        elif "<item>" in document and not doubt_about_charset(body, headers, url):
            # An ordinary feed, without charset doubt: the fast path must take it.
            assert fast is not None, context
    assert taken > 150 and declined_odd > 20


def doubt_about_charset(body: bytes, headers: dict[str, str], url: str) -> bool:
    return news.parse._prepare(body, headers, url=url).charset_doubt is not None


# --- the size ceiling and the worker's limits --------------------------------------------------


def test_a_body_over_the_ceiling_goes_to_feedparser(monkeypatch: pytest.MonkeyPatch) -> None:
    body = many_items(50)
    assert parse_feed_fast(body, {}, url=URL, fetched_at=FETCHED_AT) is not None
    monkeypatch.setattr(news.parse, "FAST_PATH_MAX_BYTES", len(body) - 1)
    assert parse_feed_fast(body, {}, url=URL, fetched_at=FETCHED_AT) is None


def test_a_10_mib_feed_is_not_for_the_fast_path() -> None:
    body = many_items(85_000)  # the fetcher's cap; feedparser runs out of the worker's memory
    assert len(body) > 2 * FAST_PATH_MAX_BYTES
    assert parse_feed_fast(body, {}, url=URL, fetched_at=FETCHED_AT) is None


@pytest.mark.slow
async def test_a_feed_just_under_the_ceiling_parses_in_a_capped_worker() -> None:
    count = 33_000
    body = many_items(count)
    assert FAST_PATH_MAX_BYTES - MiB < len(body) <= FAST_PATH_MAX_BYTES
    pool = ParsePool(1)  # the production limits: 120 MiB of address space, 20 s
    try:
        feed = await pool.parse(body, {}, url=URL, fetched_at=FETCHED_AT)
    finally:
        pool.close()
    assert isinstance(feed, ParsedFeed) and feed.version == "rss20"
    assert [item.key for item in feed.items] == [f"i{n}" for n in range(MAX_ITEMS_PER_FEED)]
