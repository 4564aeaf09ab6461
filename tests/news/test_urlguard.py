"""The SSRF guard, alone and inside the fetcher (each redirect hop is checked)."""

from __future__ import annotations

import ipaddress
import ssl

import httpcore
import pytest

from news.errors import FeedError, UnresolvableHostError, UnsafeURLError
from news.fetch import FeedFetcher
from news.keepalive import SitePools
from news.urlguard import GuardedNetwork, IPAddress, check_url, is_public_address
from tests.feedserver import FeedServer

REFUSED = [
    "http://127.0.0.1/feed",
    "http://127.8.9.10:8080/rss",
    "http://10.0.0.5/rss",
    "http://172.16.4.4/rss",
    "http://192.168.1.1/rss",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata service
    "http://100.64.0.1/rss",  # carrier-grade NAT
    "http://0.0.0.0/rss",
    "http://224.0.0.1/rss",
    "http://[::1]/rss",
    "http://[fe80::1]/rss",
    "http://[fd00::1]/rss",
    "http://[fec0::1]/rss",  # deprecated site-local (RFC 3879): review 3, finding 6
    "http://[feff:ffff::1]/rss",
    "http://[::ffff:127.0.0.1]/rss",  # IPv4-mapped IPv6
    "http://[::ffff:169.254.169.254]/rss",
    "http://2130706433/rss",  # 127.0.0.1 written as one number
    "http://localhost/rss",  # a name that resolves to 127.0.0.1
    "http://LocalHost/rss",
    "ftp://example.com/feed.xml",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "gopher://example.com/",
    "http://user:secret@example.com/rss",
    "http://admin@example.com/rss",
    "http://example.com:99999/rss",
    "http:///rss",
    "not a url",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_unsafe_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURLError):
        await check_url(url, allow_private=False)


def test_site_local_ipv6_is_not_public() -> None:
    assert not is_public_address(ipaddress.IPv6Address("fec0::1"))
    assert not is_public_address(ipaddress.IPv6Address("feff:ffff:ffff:ffff::1"))
    assert is_public_address(ipaddress.IPv6Address("2606:4700::1111"))


async def test_unsafe_url_error_is_a_feed_error_with_a_reason() -> None:
    with pytest.raises(FeedError, match="non-public address"):
        await check_url("http://169.254.169.254/", allow_private=False)


@pytest.mark.parametrize(
    "url", ["http://93.184.216.34/feed", "https://8.8.8.8/rss", "https://[2606:4700::1111]/"]
)
async def test_public_addresses_pass(url: str) -> None:
    await check_url(url, allow_private=False)


async def test_allow_private_lets_loopback_through_but_still_checks_the_shape() -> None:
    await check_url("http://localhost:8080/rss", allow_private=True)
    await check_url("http://10.0.0.5/rss", allow_private=True)
    with pytest.raises(UnsafeURLError):
        await check_url("file:///etc/passwd", allow_private=True)
    with pytest.raises(UnsafeURLError):
        await check_url("http://user:pw@localhost/rss", allow_private=True)


async def test_a_name_that_does_not_resolve_is_reported_as_such() -> None:
    with pytest.raises(UnresolvableHostError):
        await check_url("http://no-such-host.invalid/rss", allow_private=False)


async def test_the_fetcher_refuses_a_private_feed_without_sending_a_request(
    feed_server: FeedServer,
) -> None:
    async with FeedFetcher(allow_private=False) as fetcher:
        result = await fetcher.fetch(feed_server.url("/gen/feed.xml"))
    assert result.outcome == "error"
    assert result.error_kind == "unsafe_url"
    assert "ALLOW_PRIVATE_FEEDS" in result.message
    assert feed_server.count("/gen/feed.xml") == 0


async def test_a_redirect_to_the_metadata_service_is_refused_at_the_hop(
    feed_server: FeedServer,
) -> None:
    """A public site answering with a redirect inside the network must not be followed."""
    feed_server.add("/moved", status=302, headers={"Location": "http://169.254.169.254/latest/"})
    internet = LoopbackInternet(feed_server.port)
    dns = FakeDNS({"public.example": [[PUBLIC]]})
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(f"http://public.example:{feed_server.port}/moved")
    assert result.error_kind == "unsafe_url"
    assert "169.254.169.254" in result.message
    assert feed_server.count("/moved") == 1
    assert internet.connected == [(str(PUBLIC), feed_server.port)]


# --- the address checked is the address connected to (issue 10) -----------------------------

PUBLIC = ipaddress.ip_address("93.184.216.34")
LOOPBACK = ipaddress.ip_address("127.0.0.1")


class FakeDNS:
    """A resolver the test controls: name -> answers, one list per lookup (the last repeats)."""

    def __init__(self, answers: dict[str, list[list[IPAddress]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        if host not in self.answers:
            raise UnresolvableHostError(f"no such name {host}")
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]


class LoopbackInternet(httpcore.AsyncNetworkBackend):
    """Stands in for the internet: every address is served by the local feed server.

    Records each address connected to and the TLS server name asked for on it.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.connected: list[tuple[str, int]] = []
        self.server_names: list[str | None] = []
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connected.append((host, port))
        stream = await self._real.connect_tcp("127.0.0.1", self.port, timeout=timeout)
        return _RecordingStream(stream, self.server_names)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


class _RecordingStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, names: list[str | None]) -> None:
        self.inner, self.names = inner, names

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self.inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self.inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.names.append(server_hostname)
        return await self.inner.start_tls(ssl_context, server_hostname, timeout)

    def get_extra_info(self, info: str) -> object:
        return self.inner.get_extra_info(info)


async def test_an_idna_name_is_checked_in_the_spelling_httpx_connects_to(
    feed_server: FeedServer,
) -> None:
    """straße.example: IDNA 2003 says strasse.example, httpx (IDNA 2008) xn--strae-oqa.example."""
    dns = FakeDNS({"strasse.example": [[PUBLIC]], "xn--strae-oqa.example": [[LOOPBACK]]})
    internet = LoopbackInternet(feed_server.port)
    url = f"http://straße.example:{feed_server.port}/gen/feed.xml"
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(url)
    assert result.error_kind == "unsafe_url" and "127.0.0.1" in result.message
    assert dns.asked == ["xn--strae-oqa.example"]
    assert internet.connected == [] and feed_server.count("/gen/feed.xml") == 0
    # The early check of /addfeed uses the same spelling.
    with pytest.raises(UnsafeURLError, match=r"127\.0\.0\.1"):
        await check_url(url, allow_private=False, resolver=dns)


async def test_a_rebinding_name_is_connected_to_the_address_that_was_checked(
    feed_server: FeedServer,
) -> None:
    """One lookup per connection: the public answer checked is the address connected to."""
    dns = FakeDNS({"rebind.example": [[PUBLIC], [LOOPBACK]]})
    internet = LoopbackInternet(feed_server.port)
    url = f"http://rebind.example:{feed_server.port}/gen/feed.xml"
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        first = await fetcher.fetch(url)
    assert first.outcome == "ok"
    assert dns.asked == ["rebind.example"]
    assert internet.connected == [(str(PUBLIC), feed_server.port)]
    assert feed_server.last_request("/gen/feed.xml")["host"] == f"rebind.example:{feed_server.port}"
    # A new connection asks again, and now the private answer is refused before connecting.
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        second = await fetcher.fetch(url)
    assert second.error_kind == "unsafe_url"
    assert internet.connected == [(str(PUBLIC), feed_server.port)]


async def test_a_redirect_to_an_internal_idna_name_is_refused_at_the_hop(
    feed_server: FeedServer,
) -> None:
    target = f"http://straße.example:{feed_server.port}/gen/feed.xml"
    feed_server.add("/to-internal", status=302, headers={"Location": target})
    dns = FakeDNS({"feeds.example": [[PUBLIC]], "xn--strae-oqa.example": [[LOOPBACK]]})
    internet = LoopbackInternet(feed_server.port)
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(f"http://feeds.example:{feed_server.port}/to-internal")
    assert result.error_kind == "unsafe_url"
    assert dns.asked == ["feeds.example", "xn--strae-oqa.example"]
    assert len(internet.connected) == 1 and feed_server.count("/gen/feed.xml") == 0


async def test_any_private_answer_among_several_refuses_the_name(feed_server: FeedServer) -> None:
    dns = FakeDNS({"mixed.example": [[PUBLIC, ipaddress.ip_address("10.0.0.7")]]})
    internet = LoopbackInternet(feed_server.port)
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(f"http://mixed.example:{feed_server.port}/gen/feed.xml")
    assert result.error_kind == "unsafe_url" and "10.0.0.7" in result.message
    assert internet.connected == []


async def test_tls_is_asked_for_the_name_not_the_address(feed_server: FeedServer) -> None:
    """SNI and the certificate check are for the URL's name, while the socket goes to the IP."""
    dns = FakeDNS({"secure.example": [[PUBLIC]]})
    internet = LoopbackInternet(feed_server.port)
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(f"https://secure.example:{feed_server.port}/gen/feed.xml")
    assert result.error_kind == "tls"  # the local server speaks plain HTTP
    assert internet.connected == [(str(PUBLIC), feed_server.port)]
    assert internet.server_names == ["secure.example"]


async def test_a_name_that_does_not_resolve_is_a_dns_error_through_the_guard() -> None:
    async with FeedFetcher(allow_private=False, resolver=FakeDNS({})) as fetcher:
        result = await fetcher.fetch("http://gone.example/rss")
    assert result.error_kind == "dns"


async def test_feeds_of_one_site_reuse_the_connection_to_the_checked_address(
    feed_server: FeedServer,
) -> None:
    """Keep-alive: one lookup and one connection per site; a later private answer (rebinding)
    cannot reach the reused connection, which goes to the address checked when it opened."""
    dns = FakeDNS({"site.example": [[PUBLIC], [LOOPBACK]]})
    internet = LoopbackInternet(feed_server.port)
    feed_server.add("/second.xml", feed_server.routes["/gen/feed.xml"].body)
    base = f"http://site.example:{feed_server.port}"
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        results = [
            await fetcher.fetch(f"{base}/gen/feed.xml"),
            await fetcher.fetch(f"{base}/second.xml"),
            await fetcher.fetch(f"{base}/gen/feed.xml"),
        ]
    assert [r.outcome for r in results] == ["ok", "ok", "ok"]
    assert dns.asked == ["site.example"]
    assert internet.connected == [(str(PUBLIC), feed_server.port)]


async def test_two_names_at_one_address_never_share_a_connection(
    feed_server: FeedServer,
) -> None:
    """httpcore pools by scheme, name and port: each name is looked up and checked itself."""
    dns = FakeDNS(
        {"one.example": [[PUBLIC]], "two.example": [[PUBLIC]], "three.example": [[LOOPBACK]]}
    )
    internet = LoopbackInternet(feed_server.port)
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        one = await fetcher.fetch(f"http://one.example:{feed_server.port}/gen/feed.xml")
        two = await fetcher.fetch(f"http://two.example:{feed_server.port}/gen/feed.xml")
        three = await fetcher.fetch(f"http://three.example:{feed_server.port}/gen/feed.xml")
    assert (one.outcome, two.outcome, three.error_kind) == ("ok", "ok", "unsafe_url")
    assert dns.asked == ["one.example", "two.example", "three.example"]
    assert internet.connected == [(str(PUBLIC), feed_server.port)] * 2


async def test_an_idle_connection_per_site_outlives_the_global_limit(
    feed_server: FeedServer,
) -> None:
    """More sites than requests in flight (20): each site's connection is still kept."""
    names = [f"site{i}.example" for i in range(30)]
    dns = FakeDNS({name: [[PUBLIC]] for name in names})
    internet = LoopbackInternet(feed_server.port)
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        for _ in range(2):
            for name in names:
                result = await fetcher.fetch(f"http://{name}:{feed_server.port}/gen/feed.xml")
                assert result.outcome == "ok"
    assert len(internet.connected) == len(names) and dns.asked == names


async def test_past_max_sites_the_least_recently_used_idle_site_is_closed(
    feed_server: FeedServer,
) -> None:
    dns = FakeDNS({f"s{i}.example": [[PUBLIC]] for i in range(3)})
    internet = LoopbackInternet(feed_server.port)
    pools = SitePools(
        GuardedNetwork(allow_private=False, resolver=dns, inner=internet), per_site=2, max_sites=2
    )
    try:
        for name in ["s0", "s1", "s2", "s1", "s0"]:
            host = f"{name}.example".encode()
            pool = await pools.pool((b"http", host, feed_server.port))
            url = f"http://{name}.example:{feed_server.port}/gen/feed.xml"
            response = await pool.request(b"GET", url)
            assert response.status == 200
            assert pools.sites <= 2
    finally:
        await pools.aclose()
    # s0 was closed for s2, s1 was kept (used last), s0 came back on a new connection
    assert dns.asked == ["s0.example", "s1.example", "s2.example", "s0.example"]


# --- what the request says of its URL (issue 14: httpcore without httpx's client) -----------


async def test_an_ipv6_feed_is_asked_for_with_its_bracketed_host(feed_server: FeedServer) -> None:
    """The Host field names an IPv6 address in brackets, port after: `2001:db8::1:8080` would
    send the request to the wrong virtual host, or get a 400."""
    dns = FakeDNS({"2001:db8::1": [[PUBLIC]]})
    internet = LoopbackInternet(feed_server.port)
    async with FeedFetcher(allow_private=True, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(f"http://[2001:db8::1]:{feed_server.port}/gen/feed.xml")
    assert result.ok
    assert feed_server.last_request("/gen/feed.xml")["host"] == f"[2001:db8::1]:{feed_server.port}"


async def test_relative_links_resolve_against_the_url_as_sent(feed_server: FeedServer) -> None:
    """An internationalised name is sent in its IDNA form; the body's relative links resolve
    against that same spelling, so an item's link is the one it always had."""
    dns = FakeDNS({"xn--e1afmkfd.example": [[PUBLIC]]})
    internet = LoopbackInternet(feed_server.port)
    url = f"http://пример.example:{feed_server.port}/gen/feed.xml"
    async with FeedFetcher(allow_private=False, resolver=dns, network=internet) as fetcher:
        result = await fetcher.fetch(url)
    sent = f"http://xn--e1afmkfd.example:{feed_server.port}/gen/feed.xml"
    assert (result.ok, result.final_url, result.headers["content-location"]) == (True, sent, sent)
    assert feed_server.last_request("/gen/feed.xml")["host"] == (
        f"xn--e1afmkfd.example:{feed_server.port}"
    )


async def test_redirect_targets_are_not_kept(feed_server: FeedServer) -> None:
    """A server may redirect to a new URL of 64 KiB at every poll: only the stored feed URL's
    checked form is kept, not the targets it is sent to."""
    from news.fetch import _stored_target

    feed_server.add("/hop", status=302, headers={"Location": "/gen/feed.xml?" + "é" * 5000})
    async with FeedFetcher(allow_private=True) as fetcher:
        before = _stored_target.cache_info().currsize
        result = await fetcher.fetch(feed_server.url("/hop"))
        kept = _stored_target.cache_info().currsize - before
    assert result.ok and kept == 1
