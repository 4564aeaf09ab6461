"""A fast reader for plain RSS 2.0 that reads exactly what feedparser reads, or declines.

feedparser's strict mode runs pyexpat under SAX and calls a Python method per element, per
text chunk and per attribute, and fills dictionaries we mostly never read; that is about 80 %
of a parse (issue 14). This reader runs the same expat, in the same namespace mode, over the
same bytes, and fills only the fields `news.parse` reads: the feed's title, link and language,
and per item its title, link, guid, description, content:encoded and dates.

It is only correct on a grammar small enough to check against feedparser's source line by
line (feedparser 6.0, `mixin.py` and `namespaces/_base.py`, `dc.py`, `mediarss.py`):
`<rss version="2.0">` with one `<channel>`; the elements listed in `_CHANNEL`, `_ITEM`,
`_IMAGE` and `_MEDIA` and no others; attributes only where `_ATTRIBUTES` allows; namespaces
only under the prefix feedparser itself gives them (`_NAMESPACES`); no DOCTYPE; no element
inside a text element; the fields we read at most once per item. Anything else raises
`Decline` and the document goes to feedparser. Every element listed is either one whose
value is reproduced below or one that feedparser stores only in fields nobody reads here
(an author, a category, an enclosure, media attributes...).

What feedparser does to a value, and so does `_finish`: join the text, strip it, resolve it
against the base URI when it is a link (or a guid that is a permalink), undo UTF-8 read as
Latin-1, and map the windows-1252 code points 0x80-0x9F. A permalink guid is the item's link
when it has no `<link>`; an item link has `&amp;` and `&name;` turned back into `&` and
`&name`, the feed link only the latter; `<description>` is the summary, else
`<content:encoded>` is; dates go through feedparser's own `_parse_date`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.urls import _urljoin, make_safe_absolute_uri

# Namespace URI -> the prefix feedparser files its elements under. A document must declare
# each namespace with exactly that prefix: feedparser also dispatches by the prefix a document
# chose (`namespacemap`), so `xmlns:dc` bound to another URI would change what `dc:` means.
# The Atom namespace is feedparser's "" (its elements read as plain RSS ones), declared as atom.
_NAMESPACES = {
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://www.w3.org/2005/Atom": "atom",
    "http://search.yahoo.com/mrss/": "media",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://wellformedweb.org/CommentAPI/": "wfw",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
}

# What each element means here. READ: its value is one of ours (at most once where it
# matters). INERT: a text element feedparser stores only in fields `news.parse` never reads.
# The containers are listed with the elements they may hold.
_INERT = ""
_CHANNEL = {
    "title": "title",
    "link": "link",
    "language": "language",
    "dc:language": "language",  # feedparser's _end_dc_language is _end_language
    "image": "image",
    "item": "item",
    "atom:link": "atom:link",  # rel="self" and the like; see _check_atom_link
    **dict.fromkeys(
        (
            "description",  # the feed's subtitle
            "copyright",
            "managingEditor",
            "webMaster",
            "pubDate",
            "lastBuildDate",
            "category",
            "generator",
            "docs",
            "ttl",
            "dc:date",
            "dc:creator",
            "dc:rights",
            "dc:publisher",
            "dc:subject",
            "sy:updatePeriod",
            "sy:updateFrequency",
            "sy:updateBase",
        ),
        _INERT,
    ),
}
_ITEM = {
    "title": "title",
    "link": "link",
    "guid": "guid",
    "description": "description",
    "content:encoded": "content",
    "pubDate": "published",
    "dc:date": "updated",  # feedparser's _start_dc_date is _start_updated
    "media:content": "media:content",
    **dict.fromkeys(
        (
            "category",
            "author",
            "comments",
            "enclosure",
            "dc:creator",
            "dc:subject",
            "slash:comments",
            "wfw:comment",
            "wfw:commentRss",
            "media:thumbnail",
        ),
        _INERT,
    ),
}
_IMAGE = dict.fromkeys(("title", "url", "link", "width", "height", "description"), _INERT)
_MEDIA = {"media:credit": _INERT, "media:thumbnail": _INERT}
_CONTAINERS: dict[str, dict[str, str]] = {
    "channel": _CHANNEL,
    "item": _ITEM,
    "image": _IMAGE,
    "media:content": _MEDIA,
}

_ANY = None  # any plain attribute but the ones feedparser reads everywhere (xml:base, lang)
_ATTRIBUTES: dict[str, frozenset[str] | None] = {
    "guid": frozenset({"isPermaLink"}),
    "category": frozenset({"domain"}),
    "enclosure": frozenset({"url", "length", "type"}),
    "atom:link": frozenset({"href", "rel", "type"}),
    "media:content": _ANY,
    "media:thumbnail": _ANY,
    "media:credit": _ANY,
}
# feedparser takes any attribute called base or lang (any case) as xml:base or xml:lang.
_READ_EVERYWHERE = frozenset({"base", "lang"})
_NO_ATTRIBUTES: frozenset[str] = frozenset()

_DOCTYPE = re.compile(rb"<!doctype", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<\w")
_NAMED_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
# str.translate with a dict costs a lookup per character; feedparser's _cp1252 table maps
# only code points 0x80-0x9F, so a value without any is left as it is (checked at import).
_CP1252_RANGE = re.compile("[\x80-\x9f]")
if not all(0x80 <= code <= 0x9F for code in _cp1252):
    raise ImportError("feedparser's _cp1252 table maps more than 0x80-0x9F; see news.rss20")


class Decline(Exception):
    """The document is outside the subset read here; feedparser reads it."""


@dataclass(slots=True)
class Rss20:
    """What feedparser would put in `feed.title`, `feed.link`, `feed.language` (None: absent)
    and `entries` (plain dicts with the keys `news.parse` reads), for an RSS 2.0 document."""

    title: str | None = None
    link: str | None = None
    language: str | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)


def read_rss20(text: bytes, content_location: str) -> Rss20:
    """Read `text` (the UTF-8 that feedparser's strict parser would get) or raise `Decline`.

    `content_location` is the base feedparser resolves links against (the Content-Location
    header, which `news.parse` sets to the feed URL when the server sent none).
    """
    first = _FIRST_ELEMENT.search(text)
    if first is None or _DOCTYPE.search(text, 0, first.start()):
        # feedparser strips a DOCTYPE (and reads "netscape" in one as RSS 0.91) before parsing
        raise Decline("no root element, or a DOCTYPE")
    reader = _Reader(_stable_base(content_location))
    parser = expat.ParserCreate(None, " ")  # as xml.sax.expatreader makes it for feedparser
    parser.buffer_text = True
    parser.StartNamespaceDeclHandler = reader.declare
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.StartDoctypeDeclHandler = reader.doctype
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:  # feedparser falls back to its loose parser and says why
        raise Decline(f"not well-formed: {exc}") from exc
    if not reader.feed.entries:
        raise Decline("no items")  # feedparser's path says "no entries" in its own words
    return reader.feed


def _stable_base(content_location: str) -> str:
    """The base URI feedparser resolves against, when it is the same at every element.

    feedparser re-derives its base at each start tag (`make_safe_absolute_uri(base, base)`);
    a URL that this changes more than once would need the whole stack emulated: declined.
    """

    def step(base: str) -> str:
        return (make_safe_absolute_uri(base, base) or base) if base else ""

    try:
        base = step(content_location)
        if step(base) != base:
            raise Decline("the base URI is not a fixed point")
    except ValueError as exc:
        raise Decline(f"unusable base URI: {exc}") from exc
    return base


class _Reader:
    """expat handlers that follow the grammar above and fill an `Rss20`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.feed = Rss20()
        self.path: list[str] = []  # the open elements, as "prefix:local" keys
        self.text: list[str] | None = None  # the text of the open text element, if any
        self.guid_is_link = False
        self.seen: set[str] = set()  # the READ fields met in the current item or channel
        self.seen_channel: set[str] = set()
        self.entry: dict[str, Any] = {}
        self.link_element = False  # the current item has a <link> (it beats a permalink guid)

    # --- expat handlers ---

    def declare(self, prefix: str | None, uri: str | None) -> None:
        if prefix is None or _NAMESPACES.get(uri or "") != prefix:
            raise Decline(f"namespace {prefix}={uri}")

    def doctype(self, *args: object) -> None:
        raise Decline("a DOCTYPE")

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)
        # text directly inside a container goes nowhere in feedparser either

    def start(self, name: str, attributes: dict[str, str]) -> None:
        key = self._key(name)
        if self.text is not None:
            raise Decline(f"<{key}> inside a text element")
        self._check_attributes(key, attributes)
        if not self.path:
            if key != "rss" or attributes.get("version") != "2.0":
                raise Decline("the root is not <rss version='2.0'>")
        elif self.path == ["rss"]:
            if key != "channel" or "channel" in self.seen:
                raise Decline("<rss> holds something other than one <channel>")
            self.seen = {"channel"}
        else:
            self._start_in(self.path[-1], key, attributes)
        self.path.append(key)

    def end(self, name: str) -> None:
        key = self.path.pop()
        if self.text is not None:
            value = "".join(self.text)
            self.text = None
            self._store(self.path[-1], key, value)
        elif key == "item":
            self._end_item()

    # --- the grammar ---

    def _start_in(self, parent: str, key: str, attributes: dict[str, str]) -> None:
        children = _CONTAINERS.get(parent)
        meaning = children.get(key) if children is not None else None
        if meaning is None:
            raise Decline(f"<{key}> in <{parent}>")
        if key in _CONTAINERS:
            if key == "item":
                self.entry = {}
                self.seen_channel, self.seen = self.seen, set()
                self.link_element = False
                self.guid_is_link = False
                self.feed.entries.append(self.entry)
            elif key == "image":
                self._once(key)
            return
        if meaning == "atom:link":
            _check_atom_link(attributes)
            return  # feedparser keeps only its attributes: text in it goes nowhere
        if meaning == "guid":
            # feedparser compares the attribute's value as written: "True" is not a permalink
            self.guid_is_link = attributes.get("isPermaLink", "true") == "true"
        if meaning and meaning != "language":
            self._once(meaning)
        self.text = []

    def _once(self, meaning: str) -> None:
        if meaning in self.seen:
            # twice the same field: feedparser's outcome depends on depth and order rules
            raise Decline(f"<{meaning}> twice")
        self.seen.add(meaning)

    def _store(self, parent: str, key: str, raw: str) -> None:
        if parent == "channel":
            self._store_channel(_CHANNEL[key], raw)
        elif parent == "item":
            self._store_item(_ITEM[key], raw)
        # image and media children are inert

    def _store_channel(self, meaning: str, raw: str) -> None:
        if meaning == "title":
            self.feed.title = self._finish(raw)
        elif meaning == "link":
            self.feed.link = _NAMED_REFERENCE.sub(r"&\g<1>", self._finish(raw, resolve=True))
        elif meaning == "language":
            self.feed.language = self._finish(raw)  # the last one wins, as in feedparser

    def _store_item(self, meaning: str, raw: str) -> None:
        entry = self.entry
        if meaning == "title":
            entry["title"] = self._finish(raw)
        elif meaning == "link":
            link = self._finish(raw, resolve=True).replace("&amp;", "&")
            entry["link"] = _NAMED_REFERENCE.sub(r"&\g<1>", link)
            self.link_element = True
        elif meaning == "guid":
            entry["id"] = guid = self._finish(raw, resolve=self.guid_is_link)
            if self.guid_is_link:
                entry["guid_link"] = guid
        elif meaning == "description":
            entry["summary"] = self._finish(raw)
        elif meaning == "content":
            entry["content"] = [{"value": self._finish(raw)}]
        elif meaning == "published":
            entry["published_parsed"] = _parse_date(self._finish(raw))
        elif meaning == "updated":
            entry["updated_parsed"] = _parse_date(self._finish(raw))

    def _end_item(self) -> None:
        entry = self.entry
        guid_link = entry.pop("guid_link", None)
        if guid_link is not None and not self.link_element:
            entry["link"] = guid_link  # _end_guid: _save('link', value), a setdefault
        if "summary" not in entry and "content" in entry:
            entry["summary"] = entry["content"][0]["value"]  # _end_content's _save('summary')
        self.seen = self.seen_channel

    def _finish(self, raw: str, *, resolve: bool = False) -> str:
        """The value as feedparser's `_FeedParserMixin.pop` leaves it (strict parser, UTF-8)."""
        value = raw.strip()
        if resolve and value:
            value = _urljoin(self.base, value)
        value = _utf8_read_as_latin1(value)
        return value.translate(_cp1252) if _CP1252_RANGE.search(value) else value

    def _check_attributes(self, key: str, attributes: dict[str, str]) -> None:
        if not attributes:
            return
        allowed = _ATTRIBUTES.get(key, _NO_ATTRIBUTES) if key != "rss" else {"version"}
        for name in attributes:
            if " " in name or name.lower() in _READ_EVERYWHERE:
                raise Decline(f"attribute {name} on <{key}>")  # namespaced, or xml:base-like
            if allowed is not _ANY and name not in allowed:
                raise Decline(f"attribute {name} on <{key}>")

    @staticmethod
    def _key(name: str) -> str:
        uri, _, local = name.rpartition(" ")
        if not uri:
            return local
        prefix = _NAMESPACES.get(uri)
        if prefix is None:  # the one namespace no document declares: xml
            raise Decline(f"an element in the namespace {uri}")
        return f"{prefix}:{local}"


def _utf8_read_as_latin1(value: str) -> str:
    """feedparser's "common error where people take data that is already utf-8, presume that
    it is iso-8859-1, and re-encode it": undone whenever the value survives the round trip."""
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _check_atom_link(attributes: dict[str, str]) -> None:
    """An atom:link is feedparser's `<link>` with attributes: it sets the feed's link when
    rel is "alternate" or missing, and reads its text when href is missing. Neither here."""
    if "href" not in attributes or attributes.get("rel", "alternate").lower() == "alternate":
        raise Decline("an atom:link that would be the feed's link")
