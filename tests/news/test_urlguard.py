"""The SSRF guard, alone and inside the fetcher (each redirect hop is checked)."""

from __future__ import annotations

import httpx
import pytest

from news.errors import FeedError, UnresolvableHostError, UnsafeURLError
from news.fetch import FeedFetcher
from news.urlguard import check_url
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


async def test_a_redirect_to_the_metadata_service_is_refused_at_the_hop() -> None:
    """A public site answering with a redirect inside the network must not be followed."""
    requested: list[str] = []

    def public_site(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})

    transport = httpx.MockTransport(public_site)
    async with FeedFetcher(allow_private=False, transport=transport) as fetcher:
        result = await fetcher.fetch("http://93.184.216.34/feed")
    assert result.error_kind == "unsafe_url"
    assert "169.254.169.254" in result.message
    assert requested == ["http://93.184.216.34/feed"]
