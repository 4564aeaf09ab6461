"""OPML import and export: round trip, nesting, what other readers write, hostile files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from news.errors import FeedError, OpmlError
from news.opml import OpmlFeed, parse_opml, render_opml

DEFAULT_FEEDS = Path(__file__).resolve().parents[2] / "news" / "data" / "default_feeds.json"

FEEDS = [
    OpmlFeed("https://astanatimes.com/feed/", "The Astana Times"),
    OpmlFeed("https://24.kg/rss/", "24.kg"),
    OpmlFeed("https://www.gazeta.uz/ru/rss/", "Газета.uz"),
    OpmlFeed("https://example.com/rss?a=1&b=2", 'Quotes "and" <angles> & ampersands'),
    OpmlFeed("https://untitled.example.com/feed", None),
]


def test_render_then_parse_gives_the_same_feeds() -> None:
    document = render_opml(FEEDS, title="coopwatch feeds")
    parsed = parse_opml(document)
    assert [f.url for f in parsed] == [f.url for f in FEEDS]
    assert [f.title for f in parsed[:4]] == [f.title for f in FEEDS[:4]]
    assert parsed[4].title == "https://untitled.example.com/feed"  # text is required in OPML


def test_rendered_document_is_opml_2_with_a_head() -> None:
    document = render_opml(FEEDS[:1], title="My feeds", created=datetime(2026, 11, 29, tzinfo=UTC))
    text = document.decode("utf-8")
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>")
    assert '<opml version="2.0">' in text
    assert "<title>My feeds</title>" in text
    assert "<dateCreated>Sun, 29 Nov 2026 00:00:00 GMT</dateCreated>" in text
    assert 'type="rss"' in text and 'xmlUrl="https://astanatimes.com/feed/"' in text


def test_the_bundled_default_feeds_survive_a_round_trip() -> None:
    bundled = json.loads(DEFAULT_FEEDS.read_text(encoding="utf-8"))
    feeds = [OpmlFeed(entry["url"], entry["title"]) for entry in bundled]
    assert parse_opml(render_opml(feeds, title="defaults")) == feeds


def test_nested_categories_and_other_readers_exports_are_read() -> None:
    document = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Feedly export</title></head>
  <body>
    <outline text="Central Asia" title="Central Asia">
      <outline text="Kazakhstan">
        <outline type="rss" text="Astana Times" xmlUrl="https://astanatimes.com/feed/"
                 htmlUrl="https://astanatimes.com"/>
      </outline>
      <outline type="rss" title="Kabar" text="ignored" xmlurl="https://kabar.kg/eng/rss/"/>
    </outline>
    <outline type="rss" text="Astana Times again" xmlUrl="https://astanatimes.com/feed/"/>
    <outline type="link" text="Just a web page" url="https://example.com/"/>
    <outline type="rss" text="Not http" xmlUrl="file:///etc/passwd"/>
  </body>
</opml>"""
    assert parse_opml(document) == [
        OpmlFeed("https://astanatimes.com/feed/", "Astana Times"),
        OpmlFeed("https://kabar.kg/eng/rss/", "Kabar"),
    ]


def test_an_entity_declaration_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.example/rss"/></body></opml>"""
    with pytest.raises(OpmlError, match="DOCTYPE"):
        parse_opml(bomb)


@pytest.mark.parametrize(
    "document",
    [
        b"",
        b"<opml><body><outline",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
    ],
)
def test_what_is_not_opml_raises_an_opml_error(document: bytes) -> None:
    with pytest.raises(OpmlError):
        parse_opml(document)


def test_opml_errors_are_feed_errors() -> None:
    assert issubclass(OpmlError, FeedError)


def test_feedparser_reads_our_export_as_xml() -> None:
    """A sanity check that the export is well-formed XML to a third-party parser."""
    result = feedparser.parse(render_opml(FEEDS, title="t"))
    assert not result.bozo


def test_the_bundled_list_covers_the_required_outlets_in_english_and_russian() -> None:
    bundled = json.loads(DEFAULT_FEEDS.read_text(encoding="utf-8"))
    hosts = {
        entry["url"].split("/")[2].removeprefix("www.").removeprefix("en.") for entry in bundled
    }
    required = {
        "astanatimes.com", "timesca.com", "trend.az", "uzdaily.uz", "gazeta.uz",
        "tengrinews.kz", "kabar.kg", "khovar.tj", "24.kg", "akipress.com",
        "asiaplustj.info", "eurasianet.org", "cabar.asia", "uza.uz",
    }  # fmt: skip
    assert required <= hosts
    assert {entry["language"] for entry in bundled} == {"en", "ru"}
    for entry in bundled:
        assert set(entry) == {"url", "title", "language", "country"}
        assert entry["url"].startswith("https://") and entry["title"]
        assert entry["country"] is None or len(entry["country"]) == 2
    assert len({entry["url"] for entry in bundled}) == len(bundled)
