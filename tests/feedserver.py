"""A real HTTP feed server on 127.0.0.1 for fetcher tests, with the faults real sites show.

Stdlib `ThreadingHTTPServer` in a daemon thread: the fetcher talks real HTTP/1.1 to it, so
conditional GET, gzip, redirects, timeouts and size caps are tested end to end without mocks.
Register as a pytest plugin (`pytest_plugins = ["tests.feedserver"]`) to get `feed_server`.

Routes installed at start (see `FeedServer.install_defaults`):
  /feeds/<fixture file>     the real feed files of tests/fixtures/feeds
  /gen/feed.xml             a generated RSS 2.0 feed of 20 items
  /fault/500 /fault/404     plain errors
  /fault/429                429 with Retry-After: 120
  /fault/503                503 with an HTTP-date Retry-After (+1 h) and max-age=7200
  /fault/slow               0.3 s before the headers, then a trickling body
  /fault/huge               11 MiB with Content-Length;  /fault/huge-chunked without it
  /fault/endless            a body that never ends (until the client hangs up)
  /fault/gzip-bomb          ~50 KB of gzip that inflates to 64 MiB
  /fault/html               an HTML page;  /fault/bomb  an XML entity bomb
  /fault/garbage            random bytes served as RSS
  /redirect/301 /302 /308   to /feeds/rssparser__guardian.rss
  /redirect/loop-a <-> /redirect/loop-b, /redirect/chain-0 .. chain-9 (ten hops)
"""

from __future__ import annotations

import email.utils
import functools
import gzip
import hashlib
import random
import sys
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

import pytest

# Freely licensed real feeds carried in the repository (licences in their README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "feeds"
LAST_MODIFIED = "Sat, 28 Nov 2026 10:00:00 GMT"
RSS_TYPE = "application/rss+xml; charset=utf-8"
MiB = 1024 * 1024


@dataclass
class Route:
    """How the server answers one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = RSS_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # send ETag/Last-Modified and honour conditional requests
    last_modified: str = LAST_MODIFIED
    delay: float = 0.0  # seconds before the status line
    trickle: float = 0.0  # seconds between body pieces (0: send at once)
    pieces: int = 10
    endless: bool = False
    send_length: bool = True  # False: body delimited by closing
    content_encoding: str | None = None  # the body is already encoded (gzip bomb)
    retry_after_date: float | None = None  # Retry-After as an HTTP-date this many s ahead

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


class FeedServer:
    """The server, its routes, and what clients sent (per path, in order)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.stopping = threading.Event()
        self.connections = 0  # TCP connections accepted, to check keep-alive reuse
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.feed_server = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, body: bytes = b"", **options: object) -> str:
        """Serve `path` with a `Route(body, **options)`; returns its URL."""
        self.routes[path] = Route(body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def count(self, path: str) -> int:
        with self._lock:
            return len(self.requests.get(path, ()))

    def last_request(self, path: str) -> Mapping[str, str]:
        """Headers (lower-case names) of the latest request for `path`."""
        with self._lock:
            return self.requests[path][-1]

    def record(self, path: str, headers: Mapping[str, str]) -> None:
        with self._lock:
            self.requests[path].append({k.lower(): v for k, v in headers.items()})

    def start(self) -> FeedServer:
        self.install_defaults()
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def install_defaults(self) -> None:
        for path in sorted(FIXTURES.glob("*")):
            if path.suffix in (".rss", ".atom", ".xml"):
                ctype = {".atom": "application/atom+xml", ".rss": "application/rss+xml"}
                self.add(
                    f"/feeds/{path.name}",
                    path.read_bytes(),
                    content_type=ctype.get(path.suffix, "application/xml"),
                )
        self.add("/gen/feed.xml", make_rss("Generated feed", 20))
        self.add("/fault/500", b"oops", status=500, content_type="text/plain")
        self.add("/fault/404", b"no such feed", status=404, content_type="text/plain")
        self.add("/fault/429", b"slow down", status=429, headers={"Retry-After": "120"})
        self.add(
            "/fault/503",
            b"maintenance",
            status=503,
            retry_after_date=3600.0,
            headers={"Cache-Control": "max-age=7200"},
        )
        self.add("/fault/slow", make_rss("Slow feed", 5), delay=0.3, trickle=0.01)
        huge = _huge_body()
        self.add("/fault/huge", huge)
        self.add("/fault/huge-chunked", huge, send_length=False)
        self.add("/fault/endless", b"<rss><channel>", endless=True)
        self.add("/fault/gzip-bomb", _gzip_bomb(), content_encoding="gzip")
        self.add("/fault/html", HTML_PAGE, content_type="text/html; charset=utf-8")
        self.add("/fault/bomb", ENTITY_BOMB, content_type="application/xml")
        self.add("/fault/garbage", random.Random(7).randbytes(4096))
        for code in (301, 302, 308):
            self.add(
                f"/redirect/{code}",
                status=code,
                headers={"Location": "/feeds/rssparser__guardian.rss"},
            )
        self.add("/redirect/loop-a", status=302, headers={"Location": "/redirect/loop-b"})
        self.add("/redirect/loop-b", status=302, headers={"Location": "/redirect/loop-a"})
        for hop in range(10):
            self.add(
                f"/redirect/chain-{hop}",
                status=302,
                headers={"Location": f"/redirect/chain-{hop + 1}"},
            )


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up mid-request is what the fault tests do; stay quiet about it."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feedserver/1"

    def setup(self) -> None:
        super().setup()
        server: FeedServer = self.server.feed_server  # type: ignore[attr-defined]
        with server._lock:
            server.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        server: FeedServer = self.server.feed_server  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        server.record(path, dict(self.headers.items()))
        route = server.routes.get(path)
        if route is None:
            self._send_simple(404, b"not found")
            return
        try:
            self._answer(server, route)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up: expected for caps and timeouts

    def _answer(self, server: FeedServer, route: Route) -> None:
        if route.delay and server.stopping.wait(route.delay):
            return
        if route.validators and route.status == 200 and self._not_modified(route):
            self.send_response(304)
            self.send_header("ETag", route.etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, encoding = route.body, route.content_encoding
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if encoding is None and wants_gzip and body and not route.endless:
            body, encoding = gzip.compress(body), "gzip"
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if route.validators and route.status == 200:
            self.send_header("ETag", route.etag)
            self.send_header("Last-Modified", route.last_modified)
        if route.retry_after_date is not None:
            when = datetime.now(UTC) + timedelta(seconds=route.retry_after_date)
            self.send_header("Retry-After", email.utils.format_datetime(when, usegmt=True))
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.endless or not route.send_length:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._write_body(server, route, body)

    def _not_modified(self, route: Route) -> bool:
        # RFC 9110 13.1.3: If-None-Match wins; If-Modified-Since only when it is absent.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [tag.strip() for tag in if_none_match.split(",")]
            return "*" in tags or route.etag in tags
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return email.utils.parsedate_to_datetime(route.last_modified) <= (
                email.utils.parsedate_to_datetime(since)
            )
        except (TypeError, ValueError):
            return False

    def _write_body(self, server: FeedServer, route: Route, body: bytes) -> None:
        if route.endless:
            self.wfile.write(body)
            filler = b"<item><title>again</title></item>" * 2000
            while not server.stopping.is_set():
                self.wfile.write(filler)
            return
        if not route.trickle:
            self.wfile.write(body)
            return
        step = max(1, len(body) // route.pieces)
        for start in range(0, len(body), step):
            self.wfile.write(body[start : start + step])
            self.wfile.flush()
            if server.stopping.wait(route.trickle):
                return

    def _send_simple(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@functools.cache
def _huge_body() -> bytes:
    return b"<rss>" + b"x" * (11 * MiB) + b"</rss>"


@functools.cache
def _gzip_bomb() -> bytes:
    """64 MiB of zeros in about 64 KB of gzip; built once per test session (it takes ~0.3 s)."""
    return gzip.compress(bytes(64 * MiB), 6)


def make_rss(
    title: str,
    items: int,
    *,
    language: str = "en",
    link: str = "https://news.example.kz",
    start: datetime = datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
) -> bytes:
    """A well-formed RSS 2.0 document with `items` dated entries, newest first."""
    entries = []
    for n in range(items):
        when = email.utils.format_datetime(start - timedelta(minutes=10 * n))
        entries.append(
            f"<item><title>{escape(title)} story {n}</title>"
            f"<link>{link}/news/{n}?utm_source=rss</link>"
            f'<guid isPermaLink="false">{escape(title)}-{n}</guid>'
            f"<pubDate>{when}</pubDate>"
            f"<description>&lt;p&gt;Body of story {n} in {escape(title)}.&lt;/p&gt;</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{link}</link><language>{language}</language>"
        f"<description>test feed</description>{''.join(entries)}</channel></rss>"
    ).encode()


HTML_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><title>Welcome</title></head>
<body><h1>News portal</h1><p>Our feed moved. <a href="/rss">RSS</a></p></body></html>
"""

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
]>
<rss version="2.0"><channel><title>Bomb</title>
<item><title>&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;</title><description>&c;</description></item>
</channel></rss>
"""


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running `FeedServer` for one test."""
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()
