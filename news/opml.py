"""Read and write OPML 2.0 subscription lists, the format every feed reader imports and exports.

Parsing uses the stdlib expat parser, which expands only entities declared in a DTD; a DOCTYPE
is refused outright (no OPML file needs one), so entity bombs and external entities never
reach it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from news.errors import OpmlError

MAX_OPML_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription: the feed's URL and its title when the file names one."""

    url: str
    title: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order, each URL once.

    Outlines may be nested in categories to any depth; an outline counts as a feed when it has
    an `xmlUrl` with an http(s) URL. Raises `OpmlError` for anything that is not OPML.
    """
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"the OPML file is larger than {MAX_OPML_BYTES // 1024 // 1024} MiB")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise OpmlError("OPML with a DOCTYPE or entity declarations is refused for safety")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from exc
    if _local(root.tag) != "opml":
        raise OpmlError(f"the root element is <{_local(root.tag)}>, not <opml>")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter():
        if _local(outline.tag) != "outline":
            continue
        feed = _feed_of(outline)
        if feed is not None and feed.url not in feeds:
            feeds[feed.url] = feed
    return list(feeds.values())


def _feed_of(outline: ET.Element) -> OpmlFeed | None:
    # Here, not at the top: the URL guard imports httpx, which `feeds export` (render_opml)
    # does not need (issue 14).
    from news.urlguard import ALLOWED_SCHEMES

    attributes = {name.lower(): value for name, value in outline.attrib.items()}
    url = (attributes.get("xmlurl") or "").strip()
    if url.split(":", 1)[0].lower() not in ALLOWED_SCHEMES:
        return None
    title = (attributes.get("title") or attributes.get("text") or "").strip()
    return OpmlFeed(url, title or None)


def _local(tag: str) -> str:
    """`{namespace}name` -> `name`: some exporters put OPML in a namespace."""
    return tag.rsplit("}", 1)[-1].lower()


def render_opml(feeds: Iterable[OpmlFeed], *, title: str, created: datetime | None = None) -> bytes:
    """An OPML 2.0 document listing `feeds` as flat `type="rss"` outlines, UTF-8 encoded."""
    opml = ET.Element("opml", version="2.0")
    head = ET.SubElement(opml, "head")
    ET.SubElement(head, "title").text = title
    moment = created or datetime.now(UTC)
    ET.SubElement(head, "dateCreated").text = format_datetime(moment, usegmt=True)
    body = ET.SubElement(opml, "body")
    for feed in feeds:
        label = feed.title or feed.url
        # `text` is required by OPML 2.0; `title` is what most readers show.
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=feed.url)
    ET.indent(opml)
    document: bytes = ET.tostring(opml, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
