"""A feed server for the ingest benchmark, run in its own process so it is never the bottleneck.

Usage (normally started by bench/ingest.py, which reads the "READY <port>" line):
    python bench/feedserver_process.py --feeds 1000 --items 20 --latency-ms 50

Serves generated RSS 2.0 feeds at http://127.1.X.Y:PORT/feed/N.xml. The feeds are spread over
many loopback addresses (the whole 127.0.0.0/8 is loopback on Linux) so that the fetcher's
per-host limit applies as it would to distinct sites; the server binds one listening socket per
address used, never 0.0.0.0. Every answer waits `--latency-ms` first (asyncio.sleep, so waits
overlap), honours If-None-Match with a 304, and is gzipped when the client accepts it, like a
real news site; with `--no-validators` it sends neither ETag nor Last-Modified and answers every
poll 200 with the same bytes, like the many sites that do (bench/unchanged.py). GET /stats on
any address answers JSON counters and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import gzip
import json
import resource
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

# Items are dated just before the server starts, so they are fresh as on a live site.
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
LAST_MODIFIED = email.utils.format_datetime(START, usegmt=True)

_EN_WORDS = [
    "Kazakhstan",
    "Uzbekistan",
    "Tajikistan",
    "Kyrgyzstan",
    "Turkmenistan",
    "minister",
    "talks",
    "cooperation",
    "agreement",
    "energy",
    "water",
    "transport",
    "corridor",
    "investment",
    "delegation",
    "summit",
    "trade",
    "railway",
    "Astana",
    "Tashkent",
    "Dushanbe",
    "Bishkek",
    "Ashgabat",
    "president",
    "visit",
    "signed",
    "memorandum",
    "border",
]
_RU_WORDS = [
    "Казахстан",
    "Узбекистан",
    "Таджикистан",
    "Кыргызстан",
    "Туркменистан",
    "министр",
    "переговоры",
    "сотрудничество",
    "соглашение",
    "энергетика",
    "вода",
    "транспорт",
    "инвестиции",
    "делегация",
    "саммит",
    "торговля",
    "железная",
    "дорога",
    "Астана",
    "Ташкент",
    "Душанбе",
    "Бишкек",
    "Ашхабад",
    "президент",
    "визит",
]


def feed_host(index: int, feeds_per_host: int) -> str:
    """The loopback address that serves feed `index` (127.1.0.1, 127.1.0.2, …)."""
    site = index // feeds_per_host
    return f"127.1.{site // 250}.{site % 250 + 1}"


def feed_hosts(feeds: int, feeds_per_host: int) -> list[str]:
    return sorted({feed_host(i, feeds_per_host) for i in range(feeds)})


def feed_url(index: int, feeds_per_host: int, port: int) -> str:
    return f"http://{feed_host(index, feeds_per_host)}:{port}/feed/{index}.xml"


def _words(vocabulary: list[str], seed: int, count: int) -> str:
    return " ".join(vocabulary[(seed * 7 + k * 13) % len(vocabulary)] for k in range(count))


def make_feed(index: int, items: int, content_bytes: int) -> bytes:
    """A news-site-like RSS 2.0 feed: HTML descriptions with links and entities, half in Russian."""
    russian = index % 2 == 1
    vocabulary = _RU_WORDS if russian else _EN_WORDS
    site = f"https://site{index}.example.kz"
    entries = []
    for n in range(items):
        seed = index * 1000 + n
        title = _words(vocabulary, seed, 10)
        paragraph = _words(vocabulary, seed + 1, 45)
        html = (
            f'<p><img src="{site}/img/{n}.jpg" alt="" /></p><p><strong>{title}</strong> &mdash; '
            f'{paragraph} <a href="{site}/tag/{n}">&laquo;{title[:30]}&raquo;</a></p>'
            f"<p>{_words(vocabulary, seed + 2, 40)} &nbsp;&quot;{n}&quot;</p>"
        )
        content = ""
        if content_bytes:
            body = (f"<p>{paragraph}</p>" * (content_bytes // len(paragraph) + 1))[:content_bytes]
            content = f"<content:encoded><![CDATA[{body}]]></content:encoded>"
        when = email.utils.format_datetime(START - timedelta(minutes=17 * n))
        entries.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>{site}/news/{seed}?utm_source=rss&amp;utm_medium=feed</link>"
            f'<guid isPermaLink="false">{site}/?p={seed}</guid>'
            f"<pubDate>{when}</pubDate><category>News</category>"
            f"<description>{escape(html)}</description>{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>Site {index} news</title><link>{site}/</link>"
        f"<language>{'ru-RU' if russian else 'en-US'}</language>"
        f"<description>Generated feed {index}</description>"
        f"<lastBuildDate>{email.utils.format_datetime(START)}</lastBuildDate>"
        f"{''.join(entries)}</channel></rss>"
    ).encode()


@dataclass(frozen=True, slots=True)
class Document:
    etag: str
    plain: bytes
    gzipped: bytes


@dataclass
class FeedSite:
    """All feeds, built once before the server says READY, and the request counters."""

    documents: list[Document]
    latency: float
    validators: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    body_bytes: int = 0

    @classmethod
    def build(
        cls, feeds: int, items: int, content_bytes: int, latency: float, validators: bool = True
    ) -> FeedSite:
        documents = []
        for index in range(feeds):
            body = make_feed(index, items, content_bytes)
            documents.append(Document(f'"feed{index}-v1"', body, gzip.compress(body, 6)))
        return cls(documents, latency, validators)

    def answer(self, target: str, headers: dict[str, str]) -> bytes:
        if target == "/stats":
            return self._stats()
        document = self._document(target)
        if document is None:
            return self._count("404", _response(404, "Not Found", [], b"no such feed\n"))
        validators = [("ETag", document.etag), ("Last-Modified", LAST_MODIFIED)]
        if not self.validators:
            validators = []
        elif document.etag in headers.get("if-none-match", ""):
            return self._count("304", _response(304, "Not Modified", validators, b""))
        extra = [("Content-Type", "application/rss+xml; charset=UTF-8"), *validators]
        body = document.plain
        if "gzip" in headers.get("accept-encoding", ""):
            body = document.gzipped
            extra.append(("Content-Encoding", "gzip"))
        self.body_bytes += len(body)
        return self._count("200", _response(200, "OK", extra, body))

    def _document(self, target: str) -> Document | None:
        name = target.split("?", 1)[0]
        if not (name.startswith("/feed/") and name.endswith(".xml")):
            return None
        number = name[len("/feed/") : -len(".xml")]
        if not number.isdigit() or int(number) >= len(self.documents):
            return None
        return self.documents[int(number)]

    def _count(self, key: str, response: bytes) -> bytes:
        self.counts[key] = self.counts.get(key, 0) + 1
        return response

    def _stats(self) -> bytes:
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats = {"counts": self.counts, "body_bytes": self.body_bytes, "peak_rss_kib": peak_kib}
        return _response(200, "OK", [("Content-Type", "application/json")], json.dumps(stats))


def _response(status: int, reason: str, headers: list[tuple[str, str]], body: bytes | str) -> bytes:
    data = body.encode() if isinstance(body, str) else body
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    if status != 304:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


async def _serve_connection(
    site: FeedSite, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """HTTP/1.1 with keep-alive: the fetcher reuses connections, as with a real site."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            target = request_line.split(" ")[1]
            headers = {}
            for line in lines:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            if target != "/stats":
                await asyncio.sleep(site.latency)
            writer.write(site.answer(target, headers))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def serve(site: FeedSite, hosts: list[str]) -> None:
    """Listen on the same port on every address in `hosts`; print READY; serve until killed."""
    for attempt in range(10):
        port = _free_port(hosts[0])
        try:
            server = await asyncio.start_server(
                lambda r, w: _serve_connection(site, r, w), host=hosts, port=port, backlog=1024
            )
            break
        except OSError:  # another program holds that port on one of the addresses
            if attempt == 9:
                raise
    print(f"READY {port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--feeds-per-host", type=int, default=4)
    parser.add_argument("--content-bytes", type=int, default=0)
    parser.add_argument("--no-validators", action="store_true", help="no ETag, no 304")
    args = parser.parse_args()
    site = FeedSite.build(
        args.feeds,
        args.items,
        args.content_bytes,
        args.latency_ms / 1000,
        validators=not args.no_validators,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(site, feed_hosts(args.feeds, args.feeds_per_host)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
