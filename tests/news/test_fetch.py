"""The fetcher against a real local HTTP server: conditional GET, caps, faults, concurrency."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from news.errors import EntityDeclarationError, NotAFeedError
from news.fetch import USER_AGENT, FeedFetcher, FetchResult, parse_max_age, parse_retry_after
from news.parse import parse_feed
from tests.feedserver import LAST_MODIFIED, FeedServer, MiB, make_rss

GUARDIAN = "/feeds/rssparser__guardian.rss"


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    """A fetcher allowed to reach 127.0.0.1, with a 1 MiB cap so cap tests stay fast."""
    async with FeedFetcher(allow_private=True, max_bytes=MiB, read_timeout=2.0) as client:
        yield client


def parse(result: FetchResult) -> object:
    return parse_feed(result.body, result.headers, url=result.url, fetched_at=datetime.now(UTC))


# --- conditional GET -------------------------------------------------------------------------


async def test_first_fetch_is_unconditional_and_returns_the_validators(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url(GUARDIAN))
    sent = feed_server.last_request(GUARDIAN)
    assert "if-none-match" not in sent and "if-modified-since" not in sent
    assert result.outcome == "ok" and result.status == 200
    assert result.etag == feed_server.routes[GUARDIAN].etag
    assert result.last_modified == LAST_MODIFIED
    assert result.body == (feed_server.routes[GUARDIAN].body)


async def test_stored_validators_are_sent_verbatim_and_a_304_has_no_body(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    first = await fetcher.fetch(feed_server.url(GUARDIAN))
    second = await fetcher.fetch(
        feed_server.url(GUARDIAN), etag=first.etag, last_modified=first.last_modified
    )
    sent = feed_server.last_request(GUARDIAN)
    assert sent["if-none-match"] == first.etag
    assert sent["if-modified-since"] == first.last_modified
    assert second.outcome == "not_modified" and second.status == 304
    assert second.body == b""
    assert second.etag is None and second.last_modified is None  # only a 2xx sets them


async def test_304_answers_reuse_the_connection(feed_server: FeedServer) -> None:
    """A 304 must not cost a new TCP connection: that would dominate an all-304 poll cycle."""
    async with FeedFetcher(allow_private=True) as fetcher:
        first = await fetcher.fetch(feed_server.url(GUARDIAN))
        for _ in range(5):
            result = await fetcher.fetch(feed_server.url(GUARDIAN), etag=first.etag)
            assert result.outcome == "not_modified"
        error = await fetcher.fetch(feed_server.url("/fault/404"))
        await fetcher.fetch(feed_server.url(GUARDIAN), etag=first.etag)
    assert error.status == 404
    assert feed_server.connections == 1


async def test_if_modified_since_alone_gives_a_304(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url(GUARDIAN), last_modified=LAST_MODIFIED)
    assert result.outcome == "not_modified"


async def test_a_changed_feed_answers_200_with_new_validators(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    url = feed_server.add("/changing.xml", make_rss("Old", 2))
    old = await fetcher.fetch(url)
    feed_server.add(
        "/changing.xml", make_rss("New", 3), last_modified="Sun, 29 Nov 2026 08:00:00 GMT"
    )
    new = await fetcher.fetch(url, etag=old.etag, last_modified=old.last_modified)
    assert new.outcome == "ok"
    assert new.etag != old.etag and new.last_modified == "Sun, 29 Nov 2026 08:00:00 GMT"
    assert b"New story 2" in new.body


async def test_gzip_is_requested_and_decoded(feed_server: FeedServer, fetcher: FeedFetcher) -> None:
    result = await fetcher.fetch(feed_server.url(GUARDIAN))
    assert feed_server.last_request(GUARDIAN)["accept-encoding"] == "gzip"
    assert result.body == feed_server.routes[GUARDIAN].body
    assert "content-encoding" not in result.headers


async def test_the_user_agent_names_the_project_and_is_not_a_generic_bot(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    await fetcher.fetch(feed_server.url(GUARDIAN))
    agent = feed_server.last_request(GUARDIAN)["user-agent"]
    assert agent == USER_AGENT
    assert agent.startswith("coopwatch/") and "(+https://github.com/coopwatch/coopwatch)" in agent
    assert not agent.endswith("Bot/1.0")


async def test_a_fetched_real_feed_parses_with_its_headers(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/feeds/feedparser__illformed_chardet_koi8r.xml"))
    feed = parse_feed(result.body, result.headers, url=result.url, fetched_at=datetime.now(UTC))
    assert feed.items[0].title == "Как пережить новогоднюю ночь"


# --- HTTP errors and throttling --------------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [("/fault/500", 500), ("/fault/404", 404)])
async def test_http_errors_become_error_results(
    feed_server: FeedServer, fetcher: FeedFetcher, path: str, status: int
) -> None:
    result = await fetcher.fetch(feed_server.url(path))
    assert (result.outcome, result.status, result.error_kind) == ("error", status, "http_status")
    assert result.message.startswith(f"HTTP {status}")
    assert result.etag is None and result.retry_after is None


async def test_429_reports_retry_after_in_seconds(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/fault/429"))
    assert result.status == 429 and result.retry_after == 120.0


async def test_503_reports_an_http_date_retry_after_and_max_age(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/fault/503"))
    assert result.status == 503
    assert result.retry_after is not None and 3590 <= result.retry_after <= 3600
    assert result.max_age == 7200.0


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    in_an_hour = format_datetime(now + timedelta(hours=1), usegmt=True)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 0 ", now) == 0.0
    assert parse_retry_after(in_an_hour, now) == 3600.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_max_age_parsing() -> None:
    assert parse_max_age("public, max-age=600") == 600.0
    assert parse_max_age('max-age="30", must-revalidate') == 30.0
    assert parse_max_age("s-maxage=5") is None
    assert parse_max_age("no-cache") is None
    assert parse_max_age(None) is None


# --- bodies: caps, bombs, not-feeds ----------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/fault/huge", "/fault/huge-chunked", "/fault/endless", "/fault/gzip-bomb"]
)
async def test_bodies_over_the_cap_are_stopped_while_streaming(
    feed_server: FeedServer, fetcher: FeedFetcher, path: str
) -> None:
    started = time.monotonic()
    result = await fetcher.fetch(feed_server.url(path))
    assert result.error_kind == "too_large"
    assert "larger than 1 MiB" in result.message
    assert result.body == b""
    assert time.monotonic() - started < 2


async def test_a_feed_just_under_the_cap_is_fetched(feed_server: FeedServer) -> None:
    body = b"<rss>" + b"x" * (MiB - 100) + b"</rss>"
    url = feed_server.add("/big-but-fine.xml", body)
    async with FeedFetcher(allow_private=True, max_bytes=MiB) as fetcher:
        result = await fetcher.fetch(url)
    assert result.outcome == "ok" and result.body == body


async def test_the_default_cap_is_ten_mib(feed_server: FeedServer) -> None:
    async with FeedFetcher(allow_private=True) as fetcher:
        result = await fetcher.fetch(feed_server.url("/fault/huge"))
    assert result.error_kind == "too_large" and "10 MiB" in result.message


async def test_an_html_page_is_fetched_but_not_a_feed(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/fault/html"))
    assert result.outcome == "ok"
    with pytest.raises(NotAFeedError):
        parse(result)


async def test_an_entity_bomb_is_refused_by_the_parser(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/fault/bomb"))
    with pytest.raises(EntityDeclarationError):
        parse(result)


async def test_garbage_bytes_are_not_a_feed(feed_server: FeedServer, fetcher: FeedFetcher) -> None:
    result = await fetcher.fetch(feed_server.url("/fault/garbage"))
    with pytest.raises(NotAFeedError):
        parse(result)


async def test_a_corrupt_gzip_body_is_a_decoding_error(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    broken = gzip.compress(make_rss("x", 50))[:200] + b"\x00" * 300
    url = feed_server.add("/broken-gzip.xml", broken, content_encoding="gzip")
    result = await fetcher.fetch(url)
    assert result.error_kind == "decoding"


# --- redirects -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 308])
async def test_a_permanent_redirect_reports_the_new_url(
    feed_server: FeedServer, fetcher: FeedFetcher, code: int
) -> None:
    result = await fetcher.fetch(feed_server.url(f"/redirect/{code}"))
    assert result.outcome == "ok"
    assert result.moved_to == feed_server.url(GUARDIAN)
    assert result.final_url == feed_server.url(GUARDIAN)


async def test_a_temporary_redirect_is_followed_without_moving_the_feed(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/redirect/302"))
    assert result.outcome == "ok" and result.moved_to is None
    assert result.final_url == feed_server.url(GUARDIAN)


async def test_a_permanent_redirect_to_a_failing_url_does_not_move_the_feed(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    url = feed_server.add("/moved-to-500", status=301, headers={"Location": "/fault/500"})
    result = await fetcher.fetch(url)
    assert result.status == 500 and result.moved_to is None


async def test_a_redirect_loop_is_detected(feed_server: FeedServer, fetcher: FeedFetcher) -> None:
    result = await fetcher.fetch(feed_server.url("/redirect/loop-a"))
    assert result.error_kind == "redirect_loop"
    assert feed_server.count("/redirect/loop-a") == 1


async def test_more_than_five_redirects_are_refused(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/redirect/chain-0"))
    assert result.error_kind == "too_many_redirects"
    assert feed_server.count("/redirect/chain-5") == 1
    assert feed_server.count("/redirect/chain-6") == 0


# --- network failures ------------------------------------------------------------------------


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_a_connect_error(fetcher: FeedFetcher) -> None:
    result = await fetcher.fetch(f"http://127.0.0.1:{unused_port()}/rss")
    assert result.error_kind == "connect"


async def test_https_to_a_plain_http_server_is_a_tls_error(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(f"https://127.0.0.1:{feed_server.port}/gen/feed.xml")
    assert result.error_kind == "tls"


@pytest.fixture
def tls_feed_server() -> Iterator[str]:
    """An HTTPS feed server whose certificate (for 127.0.0.1) comes from a CA of the test's
    own, which nothing trusts: what a feed behind an interception proxy looks like."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    body = make_rss("Secure", 1)

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_https_checks_the_certificate_after_plain_http_feeds(
    feed_server: FeedServer, fetcher: FeedFetcher, tls_feed_server: str
) -> None:
    """The CA bundle is loaded with the first https feed, not at start-up: it still is, and
    a certificate no trusted authority signed is refused."""
    plain = await fetcher.fetch(feed_server.url("/gen/feed.xml"))
    secure = await fetcher.fetch(tls_feed_server)
    assert plain.ok
    assert secure.error_kind == "tls" and "certificate verify failed" in secure.message


async def test_an_unknown_host_is_a_dns_error(fetcher: FeedFetcher) -> None:
    result = await fetcher.fetch("http://no-such-host.invalid/rss")
    assert result.error_kind == "dns"


async def test_a_server_slower_than_the_read_timeout_times_out(feed_server: FeedServer) -> None:
    async with FeedFetcher(allow_private=True, read_timeout=0.1) as fetcher:
        result = await fetcher.fetch(feed_server.url("/fault/slow"))
    assert result.error_kind == "timeout"
    assert "waiting for data" in result.message


async def test_a_trickling_body_is_bounded_by_the_total_timeout(feed_server: FeedServer) -> None:
    url = feed_server.add("/trickle.xml", make_rss("Trickle", 20), trickle=0.1, pieces=40)
    async with FeedFetcher(allow_private=True, read_timeout=1.0, total_timeout=0.5) as fetcher:
        result = await fetcher.fetch(url)
    assert result.error_kind == "timeout"
    assert "gave up after 0.5 s" in result.message


async def test_a_slow_but_steady_feed_arrives(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    result = await fetcher.fetch(feed_server.url("/fault/slow"))
    assert result.outcome == "ok"
    assert b"Slow feed story 4" in result.body


async def test_a_malformed_url_is_an_error_result_not_an_exception(fetcher: FeedFetcher) -> None:
    result = await fetcher.fetch("not a url")
    assert result.outcome == "error" and result.error_kind == "unsafe_url"


# --- concurrency -----------------------------------------------------------------------------


async def test_one_slow_feed_does_not_slow_the_others(
    feed_server: FeedServer, fetcher: FeedFetcher
) -> None:
    stuck = feed_server.add("/stuck.xml", make_rss("Stuck", 2), delay=5.0)
    fast = [feed_server.add(f"/fast-{n}.xml", make_rss(f"Fast {n}", 5)) for n in range(6)]
    slow = asyncio.ensure_future(fetcher.fetch(stuck))
    await asyncio.sleep(0.05)  # the slow request is in flight and holds its slots
    started = time.monotonic()
    results = await asyncio.gather(*(fetcher.fetch(url) for url in fast))
    fast_time = time.monotonic() - started
    assert all(r.outcome == "ok" for r in results)
    assert fast_time < 1.0  # against 5 s if they had queued behind the stuck feed
    assert not slow.done()
    slow.cancel()


async def test_the_per_host_limit_queues_requests_to_one_site(feed_server: FeedServer) -> None:
    url = feed_server.add("/delayed.xml", make_rss("Delayed", 2), delay=0.2)

    async def run(per_host: int) -> float:
        async with FeedFetcher(allow_private=True, per_host_limit=per_host) as fetcher:
            started = time.monotonic()
            await asyncio.gather(*(fetcher.fetch(url) for _ in range(4)))
            return time.monotonic() - started

    assert await run(1) >= 0.78  # four requests one after another
    assert await run(4) < 0.6  # all at once


async def test_the_global_limit_caps_requests_in_flight(feed_server: FeedServer) -> None:
    url = feed_server.add("/delayed.xml", make_rss("Delayed", 2), delay=0.1)
    async with FeedFetcher(allow_private=True, per_host_limit=10, global_limit=2) as fetcher:
        started = time.monotonic()
        results = await asyncio.gather(*(fetcher.fetch(url) for _ in range(4)))
    assert time.monotonic() - started >= 0.18  # two waves of two
    assert all(r.ok for r in results)
