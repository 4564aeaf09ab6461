"""Turn a fetched feed body into typed `FeedItem` records.

feedparser does the format work (RSS 0.9x/1.0/2.0, Atom, encodings via chardet); this module
guards its input (entity declarations are refused first), decides what is "not a feed", and
cleans every entry into plain text, a canonical link, a stable key and a UTC time. Plain
RSS 2.0, the common case, is read by `news.rss20` instead, which gives the same result in a
third of the time and declines anything it cannot prove it reads like feedparser.

`parse_feed` has no time or memory bound of its own: a hostile document can keep feedparser
busy for minutes and take gigabytes. Outside tests it runs in a worker process of
`news.parse_pool`, which kills and replaces a worker that runs over; `parse_feed_async` does
that for callers that have no pool of their own.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import feedparser
from feedparser.encodings import convert_to_utf8

from news.errors import EntityDeclarationError, FeedParseError, NotAFeedError
from news.records import FeedItem
from news.rss20 import Decline, read_rss20

if TYPE_CHECKING:
    from news.parse_pool import ParsePool  # the pool's workers import this module

log = logging.getLogger(__name__)

# A publication date this far past the fetch time is a broken clock or a placeholder; the
# caller then uses first-seen instead, so a bogus future date cannot keep an item "fresh".
FUTURE_TOLERANCE = timedelta(days=1)
TITLE_FROM_TEXT_CHARS = 120
# Bounds on what one feed can put into the database per poll (issue 10): a real feed lists its
# latest 10-100 items; titles are a line, texts an article. Longer values are cut, a longer
# guid is replaced by its hash, and a longer link is dropped (it would not work anyway).
MAX_ITEMS_PER_FEED = 200
MAX_TITLE_CHARS = 500
MAX_TEXT_CHARS = 20_000
MAX_LINK_CHARS = 2_048
MAX_KEY_CHARS = 512
MAX_WORD_CHARS = 64  # a format or charset name
# Above this size (of the UTF-8 text) a body goes to feedparser even when it is plain RSS 2.0:
# real feeds are far smaller, and the fast path need not be proved against the worker's
# memory cap for a document that size (docs/design.md,
# "A fast path for well-formed RSS 2.0, feedparser for the rest (issue 14)").
FAST_PATH_MAX_BYTES = 4 * 1024 * 1024

_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!DOCTYPE\s+html|html)\b", re.I | re.S)
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_].*)?$")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed: its own metadata and its cleaned items, in document order."""

    title: str | None
    link: str | None
    language: str | None
    items: tuple[FeedItem, ...]
    version: str  # feedparser's name of the format, e.g. "rss20", "atom10"
    encoding: str | None
    warning: str | None = None  # why feedparser found the document ill-formed, if it did
    # `feed_fingerprint` of the body, set by `parse_if_changed`: the caller stores it once the
    # items are stored, and passes it back at the next poll.
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class UnchangedFeed:
    """The body is the one parsed last time (same fingerprint): nothing to parse or store."""

    fingerprint: str


# What a stored fingerprint promises is "this code read this body already". When the parser
# would read the same body differently (a fix, another limit, another feedparser), every old
# fingerprint must stop matching, or an unchanged body would keep hiding what the new code
# finds in it until the site changes it. Bump PARSER_VERSION with any change to what
# `parse_feed` makes of a body; the limits and feedparser's version are in the salt anyway.
# The fast path of news.rss20 did not bump it: for every body it accepts it gives what the
# feedparser path gives (tests/news/test_parse_fast.py), so old fingerprints stay true.
PARSER_VERSION = 1
_FINGERPRINT_SALT = repr(
    (
        PARSER_VERSION,
        feedparser.__version__,
        MAX_ITEMS_PER_FEED,
        MAX_TITLE_CHARS,
        MAX_TEXT_CHARS,
        MAX_LINK_CHARS,
        MAX_KEY_CHARS,
        MAX_WORD_CHARS,
        TITLE_FROM_TEXT_CHARS,
        FUTURE_TOLERANCE.total_seconds(),
    )
).encode()


def feed_fingerprint(body: bytes, headers: Mapping[str, str], *, url: str) -> str:
    """A hash of everything `parse_feed` reads: the body, the URL links resolve against, and
    the headers that decide the charset and the language, salted with the parser's version
    and limits. Equal fingerprints, equal items."""
    lower = {k.lower(): v for k, v in headers.items()}
    digest = hashlib.blake2b(_FINGERPRINT_SALT, digest_size=16)
    for part in (url, lower.get("content-type", ""), lower.get("content-language", "")):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(body)
    return digest.hexdigest()


def parse_feed(
    body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
) -> ParsedFeed:
    """Parse a feed body with its response headers; raise `FeedParseError` when unusable.

    `EntityDeclarationError` for a DOCTYPE with entities, `NotAFeedError` for an HTML page,
    an unknown format or a feed without entries.
    """
    prepared = _prepare(body, headers, url=url)
    parsed = _read_fast(prepared, url=url, fetched_at=fetched_at)
    if parsed is None:
        parsed = _read_with_feedparser(prepared, body, url=url, fetched_at=fetched_at)
    return parsed


def parse_feed_fast(
    body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
) -> ParsedFeed | None:
    """`parse_feed` by the fast path alone (`news.rss20`); None when it declines the body."""
    return _read_fast(_prepare(body, headers, url=url), url=url, fetched_at=fetched_at)


def parse_feed_with_feedparser(
    body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
) -> ParsedFeed:
    """`parse_feed` by feedparser alone, as before the fast path: the reference it must equal."""
    prepared = _prepare(body, headers, url=url)
    return _read_with_feedparser(prepared, body, url=url, fetched_at=fetched_at)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The body as feedparser will read it, after the safety checks."""

    text: bytes  # UTF-8, with an UTF-8 XML declaration (feedparser's conversion)
    encoding: str
    charset_doubt: Exception | None
    headers: dict[str, str]  # lower-case names; Content-Type and Content-Location always set


def _prepare(body: bytes, headers: Mapping[str, str], *, url: str) -> _Prepared:
    response_headers = {k.lower(): v for k, v in headers.items()}
    # Relative links resolve against the URL the body came from.
    response_headers.setdefault("content-location", url)
    response_headers.pop("content-encoding", None)  # the fetcher already decoded the body
    # With headers but no Content-Type, feedparser skips chardet and assumes ISO-8859-1, which
    # turns undeclared KOI8-R or windows-1251 into mojibake; a generic XML type lets the
    # document's own declaration and chardet decide, as when there are no headers at all.
    response_headers.setdefault("content-type", "application/xml")
    text, encoding, charset_doubt = decode_as_feedparser(body, response_headers)
    reject_entity_declarations(text)
    # Belt and braces: a BOM that feedparser overrules (UTF-16 with a BOM served as plain
    # application/xml reads as UTF-8 full of NULs) still gets the declaration refused by name.
    reject_entity_declarations(_bom_view(body))
    return _Prepared(text, encoding, charset_doubt, response_headers)


def _read_fast(prepared: _Prepared, *, url: str, fetched_at: datetime) -> ParsedFeed | None:
    """The feed read by `news.rss20`, or None when the body is not for it (feedparser's then).

    Only a body feedparser reads without complaint can be read the same way here: no doubt
    about the charset (which also means an XML media type), and not over the size above
    which a document goes to feedparser as before (docs/design.md,
    "A fast path for well-formed RSS 2.0, feedparser for the rest (issue 14)").
    """
    if prepared.charset_doubt is not None or not prepared.encoding:
        return None
    if len(prepared.text) > FAST_PATH_MAX_BYTES:
        return None
    try:
        feed = read_rss20(prepared.text, prepared.headers["content-location"])
    except Decline as exc:
        log.debug("parse %s: feedparser, not the fast path: %s", url, exc)
        return None
    except MemoryError:
        raise  # the worker's memory cap, as on feedparser's path
    except Exception:  # a bug of the fast path: feedparser's reading is the reference anyway
        log.warning("parse %s: the fast path failed; feedparser reads it", url, exc_info=True)
        return None
    header_language = prepared.headers.get("content-language")
    # feedparser starts feed.language from the Content-Language header, "_" made "-"
    language = feed.language
    if language is None and header_language:
        language = header_language.replace("_", "-")
    return _assemble(
        title=feed.title,
        link=feed.link,
        language=normalise_language(language or header_language),
        entries=feed.entries,
        version="rss20",
        encoding=prepared.encoding,
        warning=None,
        fetched_at=fetched_at,
    )


def _read_with_feedparser(
    prepared: _Prepared, body: bytes, *, url: str, fetched_at: datetime
) -> ParsedFeed:
    response_headers = prepared.headers
    # feedparser decides the charset again from the headers: told "UTF-8" it keeps the text
    # exactly as checked above (its own conversion already wrote an UTF-8 declaration).
    media_type = response_headers["content-type"].split(";", 1)[0].strip()
    utf8_headers = {**response_headers, "content-type": f"{media_type}; charset=utf-8"}
    try:
        # Sanitising and resolving URIs inside HTML content cost about 40 % of feedparser's
        # time and buy nothing here: every HTML field is reduced to plain text below, and
        # entry links are still resolved against the feed URL.
        parsed: Any = feedparser.parse(
            prepared.text,
            response_headers=utf8_headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except MemoryError:
        raise  # not the feed's format: the worker's memory cap (news.parse_worker)
    except Exception as exc:  # feedparser is meant to never raise; a bug must not escape
        raise FeedParseError(f"feedparser failed on {url}: {exc}") from exc
    _check_is_feed(parsed, body, response_headers)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else prepared.charset_doubt
    warning = f"ill-formed feed: {problem}" if problem else None
    result = _assemble(
        title=parsed.feed.get("title"),
        link=parsed.feed.get("link"),
        language=normalise_language(
            parsed.feed.get("language") or response_headers.get("content-language")
        ),
        entries=parsed.entries,
        version=parsed.get("version", ""),
        encoding=prepared.encoding,
        warning=warning,
        fetched_at=fetched_at,
    )
    if warning:
        log.info("parse %s: %s", url, warning)
    return result


def _assemble(
    *,
    title: object,
    link: object,
    language: str | None,
    entries: Sequence[Any],
    version: str,
    encoding: str,
    warning: str | None,
    fetched_at: datetime,
) -> ParsedFeed:
    """The `ParsedFeed` of a feed's metadata and entries, whichever parser read them."""
    kept = newest_entries(entries, fetched_at, MAX_ITEMS_PER_FEED)
    items = tuple(_dedupe(_make_items(kept, language, fetched_at)))
    if not items:
        raise NotAFeedError("the feed has entries but none with a title, text or link")
    # The feed's own title and link are bounded like an item's (security review 3, finding 2):
    # the whole ParsedFeed crosses a pipe to the bot, whose memory a 5 MB title would cost.
    return ParsedFeed(
        title=_shorten(_clean_inline(title), MAX_TITLE_CHARS) or None,
        link=_bounded_link(link),
        language=language,
        items=items,
        version=version[:MAX_WORD_CHARS],
        encoding=encoding[:MAX_WORD_CHARS] or None,
        warning=_shorten(warning, MAX_TITLE_CHARS) if warning else None,
    )


async def parse_if_changed(
    body: bytes,
    headers: Mapping[str, str],
    *,
    url: str,
    fetched_at: datetime,
    previous: str | None,
    pool: ParsePool | None = None,
) -> ParsedFeed | UnchangedFeed:
    """Parse a 200 body unless its fingerprint equals ``previous``, the fingerprint of the last
    body of this feed that was parsed *and stored* (None: parse).

    Many sites answer every poll with 200 and the same bytes (no ETag, or one that changes
    with each response); those bodies cost a hash, not a parse in a worker. The result carries
    the new fingerprint (`ParsedFeed.fingerprint`); a failed parse raises as `parse_feed` does
    and leaves nothing to store, so the body is parsed again next time. ``fetched_at`` is not
    in the fingerprint: it only decides whether a date more than a day ahead is believed, and
    the items of an unchanged body were stored at its first parse anyway.
    """
    fingerprint = feed_fingerprint(body, headers, url=url)
    if fingerprint == previous:
        return UnchangedFeed(fingerprint)
    if pool is None:
        parsed = await parse_feed_async(body, headers, url=url, fetched_at=fetched_at)
    else:
        parsed = await pool.parse(body, headers, url=url, fetched_at=fetched_at)
    return replace(parsed, fingerprint=fingerprint)


async def parse_feed_async(
    body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
) -> ParsedFeed:
    """`parse_feed` in a worker process of the shared pool, under its time and memory limits.

    Raises `ParseLimitError` (a `FeedParseError`) when the feed runs over them.
    """
    from news.parse_pool import shared_pool  # the pool's workers import this module

    return await shared_pool().parse(body, headers, url=url, fetched_at=fetched_at)


def decode_as_feedparser(
    body: bytes, headers: Mapping[str, str]
) -> tuple[bytes, str, Exception | None]:
    """The body as UTF-8 exactly as feedparser will read it, the charset used, and the doubt.

    feedparser's own charset decision (BOM, HTTP charset, XML declaration, chardet, RFC 3023
    rules) is the only one that counts, so the safety check runs on its output rather than
    on a guess of ours that could differ (issue 10: UTF-16LE announced only in the header).
    An empty charset means feedparser found none that works and reads the bytes as given.
    The doubt is feedparser's complaint about the charset (declared one thing, read another).
    """
    state: dict[str, Any] = {}
    text = convert_to_utf8(dict(headers), body, state)
    encoding = str(state.get("encoding") or "")
    if not encoding:
        # What the loose parser would read; made valid UTF-8 so a second pass keeps it.
        text = text.decode("utf-8", "replace").encode("utf-8")
    doubt = state.get("bozo_exception")
    return text, encoding, doubt if isinstance(doubt, Exception) else None


def reject_entity_declarations(text: bytes) -> None:
    """Raise `EntityDeclarationError` when `text` (UTF-8) contains `<!ENTITY` anywhere.

    feedparser's loose parser re-inserts "safe" entity declarations and expands them itself,
    so one nested entity can grow into hundreds of megabytes (billion laughs), and one long
    entity referenced many times does the same (quadratic blow-up). No real feed needs them.
    Every `<!ENTITY` counts, wherever it sits: feedparser collects declarations from the
    whole head of the document, before the DOCTYPE too (security review 3, finding 1), and
    an entity value may contain "]>", so no reading of the structure by text is safe. The
    price is that a feed quoting `<!ENTITY` in a CDATA section is refused as well.
    """
    if _ENTITY.search(text):
        raise EntityDeclarationError("the document declares XML entities; refused for safety")


def _bom_view(body: bytes) -> bytes:
    """The body as UTF-8 when a BOM or the first bytes name a UTF-16/32 encoding, else as is."""
    head = body[:4]
    for marks, codec in (
        ((b"\x00\x00\xfe\xff", b"\x00\x00\x00<"), "utf-32-be"),
        ((b"\xff\xfe\x00\x00", b"<\x00\x00\x00"), "utf-32-le"),
        ((b"\xfe\xff", b"\x00<"), "utf-16-be"),
        ((b"\xff\xfe", b"<\x00"), "utf-16-le"),
    ):
        if head.startswith(marks):
            return body.decode(codec, errors="replace").encode("utf-8")
    return body


def _check_is_feed(parsed: Any, body: bytes, headers: Mapping[str, str]) -> None:
    content_type = headers.get("content-type", "").lower()
    if not parsed.get("version"):
        if not body.strip():
            raise NotAFeedError("the answer was empty")
        if "html" in content_type or _HTML_START.match(body):
            raise NotAFeedError("this is an HTML page, not a feed")
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise NotAFeedError(f"not a recognisable RSS or Atom feed ({reason})")
    if not parsed.entries:
        raise NotAFeedError("the feed has no entries")


def normalise_language(value: object) -> str | None:
    """ "ru-RU" -> "ru", "en_us" -> "en"; None for a missing or unreadable tag."""
    if not isinstance(value, str):
        return None
    match = _LANGUAGE.match(value.strip().lower())
    return match.group(1) if match else None


def newest_entries(entries: Sequence[Any], fetched_at: datetime, limit: int) -> list[Any]:
    """At most `limit` entries: the newest by date, in document order.

    Undated entries rank below dated ones and among themselves by position, since feeds list
    their newest first; a feed of 85,000 items thus gives its latest 200 and costs no more.
    """
    if len(entries) <= limit:
        return list(entries)
    oldest = datetime.min.replace(tzinfo=UTC)
    ranked = sorted(
        range(len(entries)),
        key=lambda n: (_published(entries[n], fetched_at) or oldest, -n),
        reverse=True,
    )
    return [entries[n] for n in sorted(ranked[:limit])]


def _make_items(
    entries: Iterable[Any], language: str | None, fetched_at: datetime
) -> Iterable[FeedItem]:
    for entry in entries:
        item = _make_item(entry, language, fetched_at)
        if item is not None:
            yield item


def _make_item(entry: Any, language: str | None, fetched_at: datetime) -> FeedItem | None:
    link = _bounded_link(entry.get("link"))
    text = _shorten(_best_text(entry), MAX_TEXT_CHARS)
    title = _shorten(_clean_inline(entry.get("title")), MAX_TITLE_CHARS) or _shorten(
        text, TITLE_FROM_TEXT_CHARS
    )
    if not (title or text or link):
        return None
    published = _published(entry, fetched_at)
    return FeedItem(
        key=_item_key(entry, link, title, published),
        link=link,
        title=title,
        text=text,
        published=published,
        language=language,
    )


def _bounded_link(value: object) -> str | None:
    """The canonical link, or None past `MAX_LINK_CHARS` (such a link would not work anyway)."""
    link = canonical_link(value)
    return link if link is not None and len(link) <= MAX_LINK_CHARS else None


def _best_text(entry: Any) -> str:
    """Plain text of the entry: its full content when that is longer than the summary."""
    candidates = [html_to_text(c.get("value") or "") for c in entry.get("content") or ()]
    candidates.append(html_to_text(entry.get("summary") or ""))
    return max(candidates, key=len)


def _clean_inline(value: object) -> str:
    return html_to_text(value) if isinstance(value, str) else ""


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _published(entry: Any, fetched_at: datetime) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        moment = entry.get(key)
        if not moment:
            continue
        try:
            published = datetime.fromtimestamp(calendar.timegm(moment), UTC)
        except (OverflowError, ValueError, OSError):
            continue
        if published > fetched_at.astimezone(UTC) + FUTURE_TOLERANCE:
            return None
        return published
    return None


def _item_key(entry: Any, link: str | None, title: str, published: datetime | None) -> str:
    """guid, else canonical link, else a hash of title and date (stable across polls)."""
    guid = entry.get("id")
    if isinstance(guid, str) and guid.strip():
        guid = guid.strip()
        if len(guid) <= MAX_KEY_CHARS:
            return guid
        return "sha256:" + hashlib.sha256(guid.encode("utf-8", "replace")).hexdigest()
    if link and len(link) <= MAX_KEY_CHARS:
        return link
    stamp = published.isoformat() if published else ""
    digest = hashlib.sha256(f"{title}\n{stamp}".encode()).hexdigest()
    return f"sha256:{digest}"


def _dedupe(items: Iterable[FeedItem]) -> Iterable[FeedItem]:
    """First occurrence wins when a feed lists the same guid or link twice."""
    seen: set[str] = set()
    for item in items:
        marks = {item.key} | ({item.link} if item.link else set())
        if marks & seen:
            continue
        seen |= marks
        yield item


# --- plain text ------------------------------------------------------------------------------

_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "iframe", "object", "svg"})
_BLOCK_TAGS = frozenset(
    {
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "table",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "section",
        "article",
        "figure",
        "figcaption",
    }
)
_TAG_LIKE = re.compile(r"<[A-Za-z/!?]")
_WHITESPACE = re.compile(r"\s+")
# Bidi overrides can make a hostile title display as something else in Telegram.
_INVISIBLE = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF])
# Category Cc is exactly U+0000-001F and U+007F-009F; tab and newlines become spaces later.
_INVISIBLE_OR_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]"
)


class _TextExtractor(HTMLParser):
    """Collect the text of an HTML fragment; entities decoded, scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags stripped, entities decoded, whitespace collapsed.

    Runs again while tag-like text remains, so markup escaped twice by a feed ("&amp;lt;b&amp;gt;")
    does not come out as a live tag: hostile text stays text.
    """
    # No tag and no reference: HTMLParser would hand the text to handle_data unchanged (its
    # only change to plain text is unescape, a no-op without "&"), and the passes of
    # `_markup_to_text` would stop after one. Most titles are like this.
    text = html if "<" not in html and "&" not in html else _markup_to_text(html)
    text = _INVISIBLE_OR_CONTROL.sub("", text)
    return _WHITESPACE.sub(" ", text).strip()


def _markup_to_text(html: str) -> str:
    """The text HTMLParser finds, parsed again (up to three times) while it still looks tagged."""
    text = html
    for _ in range(3):
        extractor = _TextExtractor()
        extractor.feed(text)
        extractor.close()
        text = "".join(extractor.parts)
        if not _TAG_LIKE.search(text):
            break
    else:
        text = text.replace("<", "‹").replace(">", "›")
    return text


# --- links -----------------------------------------------------------------------------------


def canonical_link(link: object) -> str | None:
    """The link without tracking: utm_* parameters and fragment removed, host lower-cased.

    Only http(s) links survive; a `javascript:` or `data:` link in a hostile feed becomes None.
    """
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        parts = urlsplit(link.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    # Filter the raw "k=v" pairs rather than decode and re-encode: the other parameters must
    # stay byte-for-byte as the site wrote them, or the link may stop working.
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not pair.split("=", 1)[0].lower().startswith("utm_")
    )
    return urlunsplit((scheme, host, parts.path or "/", query, ""))
