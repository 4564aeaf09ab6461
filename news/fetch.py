"""Fetch feeds over HTTP politely, and turn every failure into a result instead of an exception.

One `FeedFetcher` owns the connection pools for the whole process (`news.keepalive.SitePools`:
connection reuse matters with hundreds of feeds) and sends its requests through httpcore
directly. Redirects are followed here so that a permanent redirect can be reported back to
update the stored URL. The SSRF guard is the pools' network backend
(`news.urlguard.GuardedNetwork`): every connection, first request or redirect hop, goes to an
address checked the moment it was resolved. URLs are parsed by httpx (`httpx.URL`: IDNA host
names, percent-encoding), as the guard's own checks are.
Bodies are read as a stream and decompressed here, so the size cap counts decoded bytes and a
gzip bomb stops at the cap instead of after inflating in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import email.utils
import functools
import re
import socket
import ssl
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Literal, Self
from urllib.parse import urljoin

import httpcore
import httpx

from news.errors import FeedError, UnresolvableHostError, UnsafeURLError
from news.keepalive import Origin, SitePools
from news.urlguard import GuardedNetwork, Resolver, check_literal

try:
    _VERSION = version("coopwatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    _VERSION = "0"

# Names the project and where to read about it; some sites in the region serve an HTML page
# to user agents ending in "Bot/1.0", so the string must not look like a generic crawler.
USER_AGENT = f"coopwatch/{_VERSION} (+https://github.com/coopwatch/coopwatch)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})  # RFC 9110 15.4: the client should update links
THROTTLE_STATUSES = frozenset({429, 503})
PARSE_HEADERS = ("content-type", "content-language")
_CHUNK = 64 * 1024

FetchOutcome = Literal["ok", "not_modified", "error"]
ErrorKind = Literal[
    "dns",
    "connect",
    "timeout",
    "tls",
    "network",
    "protocol",
    "decoding",
    "http_status",
    "too_large",
    "redirect_loop",
    "too_many_redirects",
    "unsafe_url",
]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch of one feed gave; never an exception.

    `etag` and `last_modified` are set only from a 2xx answer and are stored verbatim: they are
    the validators to send next time (None: the answer had none). `moved_to` is the URL to
    store when the chain began with permanent redirects (301/308) and the fetch succeeded.
    """

    url: str
    outcome: FetchOutcome
    status: int | None = None
    final_url: str | None = None
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # for the parser
    moved_to: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None  # seconds, from Retry-After on 429/503
    max_age: float | None = None  # seconds, from Cache-Control max-age on 429/503
    error_kind: ErrorKind | None = None
    message: str = ""
    elapsed: float = 0.0  # seconds, including waits for a concurrency slot

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class _FetchFailure(FeedError):
    """Carries a classified failure from deep inside a fetch out to `FeedFetcher.fetch`."""

    def __init__(self, kind: ErrorKind, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.status = status


@dataclass(frozen=True, slots=True)
class _Hop:
    """One HTTP exchange: status, headers, and the body only when it was a 2xx."""

    url: str
    status: int
    reason: str
    headers: Mapping[str, str]  # lower-case names; repeated fields joined by ", "
    body: bytes = b""


class FeedFetcher:
    """Fetches feeds with conditional GET, caps, timeouts and concurrency limits.

    Use as `async with FeedFetcher(...) as fetcher:` or call `aclose()` at shutdown.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        total_timeout: float = 120.0,
        per_host_limit: int = 2,
        global_limit: int = 20,
        max_redirects: int = 5,
        user_agent: str = USER_AGENT,
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        _map_big_buffers_on_their_own()
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        # The read timeout restarts with every chunk, so a trickling body needs a total bound.
        self.total_timeout = total_timeout
        self.max_redirects = max_redirects
        self.per_host_limit = per_host_limit
        self.global_limit = global_limit
        self._clock = clock
        self._global = asyncio.Semaphore(global_limit)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        guard = GuardedNetwork(allow_private=allow_private, resolver=resolver, inner=network)
        # Keep-alive per site (news.keepalive): the next feed of a site in this run reuses
        # the connection instead of paying a TCP handshake per 304. No proxy is ever used:
        # one from the environment would bypass the SSRF guard.
        self._pools = SitePools(guard, per_site=per_host_limit)
        self._headers = [
            (b"User-Agent", user_agent.encode("ascii", "replace")),
            (b"Accept", ACCEPT.encode("ascii")),
            (b"Accept-Encoding", b"gzip"),
        ]
        # Writing a request is bounded like connecting, and so is a wait for a connection.
        self._extensions = {
            "timeout": {
                "connect": connect_timeout,
                "read": read_timeout,
                "write": connect_timeout,
                "pool": connect_timeout,
            }
        }

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._pools.aclose()

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch `url`, sending the stored validators; every failure becomes an error result."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.total_timeout):
                result = await self._follow(url, etag, last_modified)
        except _FetchFailure as failure:
            result = FetchResult(
                url, "error", failure.status, error_kind=failure.kind, message=str(failure)
            )
        except TimeoutError:
            message = f"gave up after {self.total_timeout:g} s (slow server or endless body)"
            result = FetchResult(url, "error", error_kind="timeout", message=message)
        return replace(result, elapsed=time.monotonic() - started)

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        conditional: list[tuple[bytes, bytes]] = []
        # Sent verbatim, as stored; a value that is not Latin-1 cannot be sent at all.
        if etag:
            conditional.append((b"If-None-Match", etag.encode("latin-1", "replace")))
        if last_modified:
            conditional.append((b"If-Modified-Since", last_modified.encode("latin-1", "replace")))
        current, chain = url, [url]
        moved_to: str | None = None
        permanent_so_far = True
        for hop_number in range(self.max_redirects + 1):
            # The stored URL's checks and parse are kept (one per feed); a redirect target
            # comes from the server, and is checked and parsed afresh each time.
            hop = await self._exchange(current, conditional, stored=hop_number == 0)
            location = hop.headers.get("location")
            if hop.status not in REDIRECT_STATUSES or not location:
                return self._result(url, hop, moved_to)
            target = urljoin(current, location.strip())
            permanent_so_far = permanent_so_far and hop.status in PERMANENT_REDIRECTS
            if permanent_so_far:
                moved_to = target
            if target in chain:
                loop = " -> ".join([*chain[chain.index(target) :], target])
                raise _FetchFailure("redirect_loop", f"redirect loop: {loop}", status=hop.status)
            chain.append(target)
            current = target
        raise _FetchFailure(
            "too_many_redirects", f"more than {self.max_redirects} redirects from {url}"
        )

    def _result(self, url: str, hop: _Hop, moved_to: str | None) -> FetchResult:
        if hop.status == 304:
            return FetchResult(url, "not_modified", 304, hop.url, moved_to=moved_to)
        if 200 <= hop.status < 300:
            headers = {k: hop.headers[k] for k in PARSE_HEADERS if k in hop.headers}
            headers["content-location"] = hop.url
            return FetchResult(
                url,
                "ok",
                hop.status,
                hop.url,
                hop.body,
                headers,
                moved_to=moved_to,
                etag=hop.headers.get("etag"),
                last_modified=hop.headers.get("last-modified"),
            )
        retry_after = max_age = None
        if hop.status in THROTTLE_STATUSES:
            retry_after = parse_retry_after(hop.headers.get("retry-after"), self._clock())
            max_age = parse_max_age(hop.headers.get("cache-control"))
        return FetchResult(
            url,
            "error",
            hop.status,
            hop.url,
            retry_after=retry_after,
            max_age=max_age,
            error_kind="http_status",
            message=f"HTTP {hop.status} {hop.reason}".strip(),
        )

    async def _exchange(
        self, url: str, headers: list[tuple[bytes, bytes]], *, stored: bool
    ) -> _Hop:
        """One GET under the SSRF guard and both concurrency limits."""
        prepare = _stored_target if stored and len(url) <= MAX_KEPT_URL else _target
        try:
            # Shape and IP literals now, without a request; names when connecting.
            target = prepare(url, self.allow_private)
        except UnsafeURLError as exc:
            raise _FetchFailure("unsafe_url", str(exc)) from exc
        except httpx.InvalidURL as exc:
            raise _FetchFailure("unsafe_url", f"invalid URL {url!r}: {exc}") from exc
        # Per host first: a site with many queued feeds must not hold global slots idle.
        async with self._host_slot(target.site), self._global:
            try:
                return await self._get(target, headers)
            except UnresolvableHostError as exc:
                raise _FetchFailure("dns", str(exc)) from exc
            except UnsafeURLError as exc:
                raise _FetchFailure("unsafe_url", str(exc)) from exc
            except httpcore.UnsupportedProtocol as exc:
                raise _FetchFailure("unsafe_url", str(exc)) from exc
            except (
                httpcore.TimeoutException,
                httpcore.NetworkError,
                httpcore.ProtocolError,
            ) as exc:
                kind, message = _classify(exc)
                raise _FetchFailure(kind, message) from exc
            except zlib.error as exc:
                raise _FetchFailure("decoding", f"corrupt compressed body: {exc}") from exc
            except OSError as exc:
                raise _FetchFailure("network", f"network error: {exc}") from exc

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        slot = self._per_host.get(host)
        if slot is None:
            slot = self._per_host[host] = asyncio.Semaphore(self.per_host_limit)
        return slot

    async def _get(self, target: _Target, headers: list[tuple[bytes, bytes]]) -> _Hop:
        pool = await self._pools.pool(target.origin)
        async with pool.stream(
            b"GET",
            target.url,
            headers=[(b"Host", target.host), *self._headers, *headers],
            extensions=self._extensions,
        ) as response:
            fields = _fields(response.headers)
            body = b""
            if 200 <= response.status < 300:
                body = await self._read_body(response, fields)
            elif _short_body(response.status, fields):
                # Draining a 304 or a small error page lets the connection be reused; an
                # unread body makes httpcore close it, and reconnecting dominates a 304 cycle.
                await response.aread()
            reason = response.extensions.get("reason_phrase", b"")
            return _Hop(target.text, response.status, reason.decode("latin-1"), fields, body)

    async def _read_body(self, response: httpcore.Response, fields: Mapping[str, str]) -> bytes:
        declared = fields.get("content-length", "")
        encoding = fields.get("content-encoding", "")
        if declared.isdigit() and not encoding and int(declared) > self.max_bytes:
            raise _FetchFailure("too_large", _too_large(self.max_bytes), status=200)
        body = _CappedBody(encoding, self.max_bytes)
        async for chunk in response.aiter_stream():
            body.add(chunk)
        return body.finish()


# Stored feed URLs up to this long keep their checked, parsed form (/addfeed refuses longer
# ones). Redirect targets are never kept: a hostile server could fill the cache with URLs of
# 64 KiB each.
MAX_KEPT_URL = 2048


@dataclass(frozen=True, slots=True)
class _Target:
    """A URL checked and parsed by httpx (IDNA host, percent-encoding), as httpcore sends it."""

    origin: Origin  # the pool's key
    url: httpcore.URL
    host: bytes  # the Host field: brackets around an IPv6 address, no default port
    text: str  # the URL as httpx normalised it: the base of the body's relative links
    site: str  # the per-host politeness slot


def _target(url: str, allow_private: bool) -> _Target:
    check_literal(url, allow_private=allow_private)
    parsed = httpx.URL(url)
    return _Target(
        origin=(parsed.raw_scheme, parsed.raw_host, parsed.port),
        url=httpcore.URL(
            scheme=parsed.raw_scheme,
            host=parsed.raw_host,
            port=parsed.port,
            target=parsed.raw_path,
        ),
        host=parsed.netloc,
        text=str(parsed),
        site=parsed.host,
    )


# The answer depends on the string alone; checking and parsing a stored URL at every poll was
# a tenth of a 304's CPU (issue 14). A refused URL raises, which is not kept.
_stored_target = functools.lru_cache(maxsize=4096)(_target)


def _fields(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Response header fields by lower-case name; a repeated field's values joined by ", "
    (RFC 9110 5.3), as httpx's `Headers.get` gives them."""
    fields: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    return fields


_M_MMAP_THRESHOLD = -3  # <malloc.h>


def _map_big_buffers_on_their_own() -> None:
    """Have glibc map every buffer of 1 MiB or more separately, so freeing a body frees it.

    By default glibc raises its mmap threshold to the largest buffer freed (up to 32 MiB);
    after the first 10 MiB body, later bodies come from the heap and stay in the process's
    memory after use. Fixing the threshold keeps a burst of big hostile bodies from raising
    the bot's memory for good (bench/hostile.py: 169 -> 150 MB peak). No-op off glibc.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)


class _CappedBody:
    """Collects a body, decompressing gzip/deflate itself, and stops at `limit` decoded bytes."""

    def __init__(self, content_encoding: str, limit: int) -> None:
        encoding = content_encoding.strip().lower()
        self._limit = limit
        self._size = 0
        self._wire = 0
        self._chunks: list[bytes] = []
        self._decoder: zlib._Decompress | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = zlib.decompressobj(wbits=32 + zlib.MAX_WBITS)  # gzip or zlib header
        elif encoding not in ("", "identity"):
            raise _FetchFailure("decoding", f"unsupported Content-Encoding {encoding!r}")

    def add(self, raw: bytes) -> None:
        if self._decoder is None:
            self._append(raw)
            return
        # Bytes after the end of the gzip stream are ignored but still count: an endless tail
        # must hit the cap rather than the total timeout.
        self._wire += len(raw)
        if self._wire > self._limit:
            raise _FetchFailure("too_large", _too_large(self._limit), status=200)
        data = raw
        # max_length bounds each step, so a bomb never inflates past the cap in memory.
        while data and not self._decoder.eof:
            self._append(self._decoder.decompress(data, self._limit - self._size + 1))
            data = self._decoder.unconsumed_tail

    def finish(self) -> bytes:
        if self._decoder is not None:
            self._append(self._decoder.flush())
        return b"".join(self._chunks)

    def _append(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise _FetchFailure("too_large", _too_large(self._limit), status=200)
        self._chunks.append(data)


def _short_body(status: int, fields: Mapping[str, str]) -> bool:
    length = fields.get("content-length", "")
    return status == 304 or (length.isdigit() and int(length) <= _CHUNK)


def _too_large(limit: int) -> str:
    return f"the feed is larger than {limit / 1024 / 1024:g} MiB"


def _classify(exc: Exception) -> tuple[ErrorKind, str]:
    """Map an httpcore exception to an error kind and a message an operator understands."""
    causes = list(_causes(exc))
    if any(isinstance(c, ssl.SSLError) for c in causes):
        return "tls", f"TLS error: {exc}"
    if isinstance(exc, httpcore.TimeoutException):
        phase = "connecting" if isinstance(exc, httpcore.ConnectTimeout) else "waiting for data"
        return "timeout", f"timed out {phase}"
    if any(isinstance(c, socket.gaierror) for c in causes) or "name or service" in str(exc):
        return "dns", f"DNS lookup failed: {exc}"
    if isinstance(exc, httpcore.ConnectError):
        return "connect", f"cannot connect: {exc}"
    if isinstance(exc, httpcore.ProtocolError):
        return "protocol", f"broken HTTP answer: {exc}"
    return "network", f"network error: {exc}"


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_max_age(cache_control: str | None) -> float | None:
    """The max-age directive of a Cache-Control header, in seconds."""
    if not cache_control:
        return None
    match = _MAX_AGE.search(cache_control)
    return float(match.group(1)) if match else None
