"""Parsing real feed files and hostile or broken bodies into clean `FeedItem` records."""

from __future__ import annotations

import random
import string
import time
from datetime import UTC, datetime, timedelta

import pytest

import news.parse
from news.errors import EntityDeclarationError, FeedParseError, NotAFeedError
from news.parse import (
    MAX_ITEMS_PER_FEED,
    MAX_LINK_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    ParsedFeed,
    canonical_link,
    html_to_text,
    parse_feed,
    parse_feed_async,
)
from tests.feedserver import ENTITY_BOMB, FIXTURES, HTML_PAGE, make_rss
from tests.hostile import BILLION_LAUGHS, entity_before_doctype, many_items, quadratic

FETCHED_AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
URL = "https://news.example.kz/rss"


def parse(body: bytes, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(body, headers or {}, url=URL, fetched_at=FETCHED_AT)


def rss(items: str, *, channel: str = "<title>T</title><language>ru-RU</language>") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>{channel}'
        f"{items}</channel></rss>"
    ).encode()


# --- the real feed files -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "count"),
    [
        ("rssparser__guardian.rss", "rss20", 55),
        ("rssparser__encoding.rss", "rss20", 40),
        ("rssparser__uolNoticias.rss", "rss", 15),
        ("rssparser__heise.atom", "atom10", 15),
        ("rssparser__feedburner.atom", "atom10", 25),
        ("rssparser__craigslist.rss", "rss10", 25),
        ("rssparser__reddit.rss", "rss20", 24),
        ("rssparser__itunes-keywords-array.rss", "rss20", 1),
        ("feedparser__illformed_chardet_koi8r.xml", "rss", 1),
    ],
)
def test_real_feed_files_give_clean_items(name: str, version: str, count: int) -> None:
    feed = parse((FIXTURES / name).read_bytes())
    assert feed.version == version
    assert len(feed.items) == count
    assert len({item.key for item in feed.items}) == count
    for item in feed.items:
        assert item.title
        assert "<" not in item.title and "<p" not in item.text and "<a " not in item.text
        assert item.published is None or item.published.tzinfo == UTC
        assert item.link is None or item.link.startswith("http")


def test_koi8r_russian_without_a_declared_encoding_is_detected() -> None:
    feed = parse((FIXTURES / "feedparser__illformed_chardet_koi8r.xml").read_bytes())
    assert feed.encoding == "KOI8-R"
    assert feed.items[0].title == "Как пережить новогоднюю ночь"
    assert feed.items[0].text.startswith("Наверное, единственное, во что сегодня можно верить")
    assert feed.warning  # ill-formed, reported but not fatal


def test_a_declared_latin1_feed_keeps_its_accents() -> None:
    feed = parse((FIXTURES / "rssparser__encoding.rss").read_bytes())
    assert feed.title == "Jornal de Notícias - Últimas Notícias"
    assert feed.language == "pt"
    assert feed.items[0].title == "Mãe de utente é a nova presidente da Raríssimas"


def test_an_undeclared_latin1_feed_is_read_with_chardet() -> None:
    feed = parse((FIXTURES / "rssparser__uolNoticias.rss").read_bytes())
    assert "simulações" in feed.items[0].title


def test_a_blank_line_before_the_xml_declaration_still_parses() -> None:
    feed = parse((FIXTURES / "rssparser__itunes-keywords-array.rss").read_bytes())
    assert feed.items[0].title == "Ostafrika stellt sich auf die nächste Heuschreckenplage ein"
    assert feed.warning is not None and "ill-formed" in feed.warning


def test_a_truncated_feed_is_not_a_feed() -> None:
    body = (FIXTURES / "feedparser__illformed_rss_incomplete_cdata.xml").read_bytes()
    with pytest.raises(NotAFeedError):
        parse(body)


def test_atom_entries_carry_their_text() -> None:
    feed = parse((FIXTURES / "rssparser__heise.atom").read_bytes())
    assert all(len(item.text) > 100 for item in feed.items)
    assert feed.items[0].text.startswith("Die nun verfügbare Version 10")


def test_html_tables_in_descriptions_become_plain_text() -> None:
    feed = parse((FIXTURES / "rssparser__reddit.rss").read_bytes())
    text = feed.items[0].text
    assert text.startswith("submitted by") and "[link]" in text
    assert "<" not in text and "&amp;" not in text and "  " not in text


def test_guardian_items_have_utc_times_and_tracking_free_links() -> None:
    feed = parse((FIXTURES / "rssparser__guardian.rss").read_bytes())
    first = feed.items[0]
    assert first.published == datetime(2018, 1, 31, 7, 26, 5, tzinfo=UTC)
    assert first.language == "en"
    assert first.link == first.key  # the guid is the article URL


# --- what is not a feed ----------------------------------------------------------------------


def test_an_html_page_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError, match="HTML page"):
        parse(HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"})


def test_an_html_page_served_as_xml_is_still_not_a_feed() -> None:
    with pytest.raises(NotAFeedError):
        parse(HTML_PAGE, {"Content-Type": "application/rss+xml"})


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\x01\x02garbage\xff\xfe" * 50, b"<?xml version='1.0'?><foo><bar/></foo>"],
)
def test_garbage_and_unknown_xml_are_not_feeds(body: bytes) -> None:
    with pytest.raises(NotAFeedError):
        parse(body)


def test_a_feed_with_zero_entries_is_not_a_feed() -> None:
    with pytest.raises(NotAFeedError, match="no entries"):
        parse(rss(""))


def test_an_entity_bomb_is_refused_before_feedparser_sees_it() -> None:
    started = time.monotonic()
    with pytest.raises(EntityDeclarationError):
        parse(ENTITY_BOMB)
    assert time.monotonic() - started < 0.1


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_an_entity_bomb_in_utf16_or_utf32_is_refused_too(codec: str) -> None:
    body = ENTITY_BOMB.decode().replace('version="1.0"?>', f'version="1.0" encoding="{codec}"?>')
    with pytest.raises(EntityDeclarationError):
        parse(body.encode(codec))


def test_a_harmless_doctype_without_entities_is_accepted() -> None:
    doctype = b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd">'
    body = rss("<item><title>A</title><link>https://a.example/1</link></item>")
    body = body.replace(b"?>", b"?>" + doctype, 1)
    assert parse(body).items[0].title == "A"


def test_parse_errors_share_one_root() -> None:
    assert issubclass(NotAFeedError, FeedParseError)
    assert issubclass(EntityDeclarationError, FeedParseError)


# --- item fields -----------------------------------------------------------------------------


def test_key_is_the_guid_else_the_canonical_link_else_a_stable_hash() -> None:
    body = rss(
        "<item><guid>urn:kabar:1</guid><title>With guid</title><link>https://a.kz/1</link></item>"
        "<item><title>Link only</title><link>https://A.KZ/2?utm_source=tg#top</link></item>"
        "<item><title>Neither</title><pubDate>Sat, 28 Nov 2026 09:00:00 +0500</pubDate></item>"
    )
    first, second = parse(body), parse(body)
    keys = [item.key for item in first.items]
    assert keys[0] == "urn:kabar:1"
    assert keys[1] == "https://a.kz/2"
    assert keys[2].startswith("sha256:") and keys[2] == second.items[2].key


def test_published_is_converted_to_utc_and_missing_or_future_dates_are_none() -> None:
    body = rss(
        "<item><title>Tashkent</title><pubDate>Sat, 28 Nov 2026 09:00:00 +0500</pubDate></item>"
        "<item><title>No date</title></item>"
        "<item><title>Future</title><pubDate>Mon, 01 Jan 2035 00:00:00 GMT</pubDate></item>"
    )
    items = parse(body).items
    assert items[0].published == datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    assert items[1].published is None
    assert items[2].published is None


def test_feed_language_is_reduced_to_its_primary_tag() -> None:
    feed = parse(rss("<item><title>Новости</title></item>"))
    assert feed.language == "ru"
    assert feed.items[0].language == "ru"


def test_language_falls_back_to_the_content_language_header() -> None:
    body = rss("<item><title>x</title></item>", channel="<title>T</title>")
    assert parse(body, {"Content-Language": "en-GB"}).language == "en"
    assert parse(body).language is None


def test_hostile_markup_stays_text() -> None:
    description = (
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;p onclick='x()'&gt;Talks &amp;amp; "
        "visits&amp;nbsp;&lt;b&gt;held&lt;/b&gt;&lt;/p&gt;"
        "&lt;iframe src='https://evil.example'&gt;&lt;/iframe&gt;&amp;lt;img src=x&amp;gt;"
    )
    body = rss(
        "<item><title>&lt;b&gt;Bold&lt;/b&gt; title \u202eevil</title>"
        f"<link>javascript:alert(1)</link><description>{description}</description></item>"
    )
    item = parse(body).items[0]
    assert item.title == "Bold title evil"
    assert item.link is None
    assert item.text == "Talks & visits held"
    assert "<" not in item.text and "script" not in item.text


def test_text_prefers_content_when_longer_and_normalises_whitespace() -> None:
    body = rss(
        "<item><title>  Visit\n\n to   Dushanbe </title>"
        "<description>Short.</description>"
        '<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<![CDATA[<p>Long   body&nbsp;text</p>\n<p>about the &#1042;isit.</p>]]>"
        "</content:encoded></item>"
    )
    item = parse(body).items[0]
    assert item.title == "Visit to Dushanbe"
    assert item.text == "Long body text about the Вisit."


def test_an_item_without_title_takes_the_start_of_its_text() -> None:
    words = " ".join(["word"] * 80)
    item = parse(rss(f"<item><description>{words}</description></item>")).items[0]
    assert item.title.startswith("word word") and item.title.endswith("…")
    assert len(item.title) <= 121


def test_the_same_guid_or_link_twice_in_one_feed_is_kept_once() -> None:
    body = rss(
        "<item><guid>g1</guid><title>A</title><link>https://a.kz/1</link></item>"
        "<item><guid>g1</guid><title>A again</title></item>"
        "<item><guid>g2</guid><title>Same link</title><link>https://a.kz/1#x</link></item>"
    )
    assert [item.title for item in parse(body).items] == ["A"]


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = rss("<item><title>Rel</title><link>/news/5?utm_medium=rss&amp;id=5</link></item>")
    assert parse(body).items[0].link == "https://news.example.kz/news/5?id=5"


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("HTTPS://News.Example.KZ/a?utm_source=x&id=1#frag", "https://news.example.kz/a?id=1"),
        ("https://a.kz:443/b?UTM_Campaign=1", "https://a.kz/b"),
        ("http://a.kz:8080/b?q=a%20b&x", "http://a.kz:8080/b?q=a%20b&x"),
        ("https://a.kz", "https://a.kz/"),
        ("mailto:x@a.kz", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_link(link: str | None, canonical: str | None) -> None:
    assert canonical_link(link) == canonical


def test_html_to_text_decodes_entities_and_drops_scripts() -> None:
    html = "<div>Tokayev&nbsp;&amp; Rahmon<script>var x = '<b>';</script><style>p{}</style></div>"
    assert html_to_text(html) == "Tokayev & Rahmon"
    assert html_to_text("a < b and c > d") == "a < b and c > d"


async def test_parse_feed_async_gives_the_same_result_off_the_event_loop() -> None:
    body = make_rss("Async", 3)
    result = await parse_feed_async(body, {}, url=URL, fetched_at=FETCHED_AT)
    assert result == parse(body)


def test_a_generated_feed_keeps_its_order_and_dates() -> None:
    items = parse(make_rss("Gen", 3)).items
    assert [i.title for i in items] == ["Gen story 0", "Gen story 1", "Gen story 2"]
    assert items[0].published is not None and items[1].published is not None
    assert items[0].published - items[1].published == timedelta(minutes=10)
    assert items[0].link == "https://news.example.kz/news/0"


# --- hostile bodies: the charset decision, item caps, field bounds (issue 10) ----------------

HEADER_ONLY = [
    # (codec of the body, a BOM?, the Content-Type the server sends)
    ("utf-8", False, "application/rss+xml"),
    ("utf-8", True, "application/rss+xml"),
    ("utf-16-le", False, "application/rss+xml; charset=utf-16le"),
    ("utf-16-be", False, "application/rss+xml; charset=utf-16be"),
    ("utf-16-le", True, "application/xml"),
    ("utf-16-be", True, "text/xml"),
    ("utf-16-le", False, "text/xml; charset=UTF-16LE"),
    ("utf-32-le", False, "application/xml; charset=utf-32le"),
]


@pytest.mark.parametrize(("codec", "bom", "content_type"), HEADER_ONLY)
def test_entity_declarations_are_refused_in_any_encoding(
    codec: str, bom: bool, content_type: str
) -> None:
    """Issue 10: UTF-16LE announced only in the header used to slip past the check."""
    started = time.monotonic()
    with pytest.raises(EntityDeclarationError):
        parse(quadratic(codec, bom=bom), {"Content-Type": content_type})
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("codec", "declaration", "content_type"),
    [
        ("utf-8", True, "application/rss+xml"),
        ("utf-8", False, "application/rss+xml"),
        ("utf-16", True, "application/xml"),
        ("utf-16-le", False, "text/xml; charset=utf-16le"),
        ("utf-16-be", False, "text/xml; charset=utf-16be"),
        ("utf-32", True, "application/xml"),
        ("koi8-r", True, "application/rss+xml"),
        ("cp037", True, "application/xml"),
    ],
)
def test_an_entity_declared_before_the_doctype_is_refused(
    codec: str, declaration: bool, content_type: str
) -> None:
    """Review 3, finding 1: the check used to look for `<!ENTITY` only after the DOCTYPE."""
    body = entity_before_doctype(codec, declaration=declaration)
    with pytest.raises(EntityDeclarationError):
        parse(body, {"Content-Type": content_type})


def test_an_entity_declared_before_the_doctype_is_not_expanded() -> None:
    """70 KB used to expand to hundreds of megabytes in 8 s; now refused at once."""
    started = time.monotonic()
    with pytest.raises(EntityDeclarationError):
        parse(entity_before_doctype(value_chars=10_000, references=20_000))
    assert time.monotonic() - started < 1


def test_a_lower_case_entity_declaration_anywhere_is_refused() -> None:
    body = rss("<item><title>A</title></item>").replace(b"<rss", b'<!entity a "x">\n<rss', 1)
    with pytest.raises(EntityDeclarationError):
        parse(body)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_billion_laughs_in_utf16_without_declaration_or_bom_is_refused(codec: str) -> None:
    body = BILLION_LAUGHS.decode().split("?>", 1)[1].encode(codec)
    with pytest.raises(EntityDeclarationError):
        parse(body, {"Content-Type": f"application/xml; charset={codec.replace('-', '')}"})


def test_a_utf16_feed_announced_only_in_the_header_parses() -> None:
    body = rss("<item><title>Токаев в Душанбе</title><link>https://a.kz/1</link></item>")
    body = body.decode().split("?>", 1)[1].encode("utf-16-le")
    feed = parse(body, {"Content-Type": "application/rss+xml; charset=utf-16le"})
    assert feed.items[0].title == "Токаев в Душанбе"
    assert feed.encoding == "utf-16le"


def test_a_feed_contributes_at_most_its_200_newest_items() -> None:
    feed = parse(many_items(500, shuffle=True))
    assert len(feed.items) == MAX_ITEMS_PER_FEED == 200
    assert {item.key for item in feed.items} == {f"i{n}" for n in range(200)}


def test_undated_items_past_the_cap_keep_the_first_in_document_order() -> None:
    entries = "".join(
        f'<item><title>Undated {n}</title><guid isPermaLink="false">u{n}</guid></item>'
        for n in range(300)
    )
    feed = parse(rss(entries))
    assert [i.key for i in feed.items] == [f"u{n}" for n in range(200)]


def test_titles_texts_links_and_keys_are_bounded_before_storage() -> None:
    long_link = "https://a.example/" + "p" * 5000
    entry = (
        f"<item><title>{'T' * 10_000}</title><guid>{'g' * 10_000}</guid>"
        f"<link>{long_link}</link><description>{'word ' * 200_000}</description></item>"
    )
    [item] = parse(rss(entry)).items
    assert len(item.title) <= MAX_TITLE_CHARS + 1
    assert len(item.text) <= MAX_TEXT_CHARS + 1
    assert item.link is None
    assert item.key.startswith("sha256:") and len(item.key) < 100


def test_the_feed_title_and_link_are_bounded_too() -> None:
    """Review 3, finding 2: a 5 MB channel title came back whole, with a 1 MB link."""
    emoji = "\U0001f600"
    channel = f"<title>{emoji * 1_000_000}</title><link>https://a.example/{'b' * 1_000_000}</link>"
    feed = parse(rss("<item><title>A</title></item>", channel=channel))
    assert feed.title is not None and len(feed.title) <= MAX_TITLE_CHARS + 1
    assert feed.link is None


def test_a_feed_link_within_the_bound_is_kept() -> None:
    link = "https://a.example/" + "p" * (MAX_LINK_CHARS - 30)
    feed = parse(
        rss("<item><title>A</title></item>", channel=f"<title>T</title><link>{link}</link>")
    )
    assert feed.link == link


def test_text_without_markup_takes_the_shortcut_and_comes_out_the_same() -> None:
    rng = random.Random(5)
    alphabet = string.printable.replace("<", "").replace("&", "") + (
        "\x00\x01\x0b\x1f\x7f\x85\x9f\xa0\u2028\u202e\u2066\ufeffé Жё🎉>;#"
    )
    samples = ["", " ", "\n", "plain", ">", "a > b", "x;y#z"]
    samples += ["".join(rng.choices(alphabet, k=rng.randint(1, 80))) for _ in range(2000)]
    for sample in samples:
        slow = news.parse._markup_to_text(sample)  # what HTMLParser makes of it
        assert slow == sample
        expected = news.parse._WHITESPACE.sub(
            " ", news.parse._INVISIBLE_OR_CONTROL.sub("", slow)
        ).strip()
        assert html_to_text(sample) == expected
