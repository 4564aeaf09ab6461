"""SSRF guard: refuse feed URLs that would make the bot fetch from inside its own network.

A feed URL is supplied by an admin (or an OPML file, or a redirect chosen by a remote server),
so without this check `/addfeed http://169.254.169.254/latest/meta-data/` would read the cloud
metadata service and show it back in the reply.

The address checked is the address connected to (issue 10). `GuardedNetwork` sits beneath
httpx as its network backend: for every new connection — the first request and every
redirect hop — it resolves the host once, refuses the connection unless every answer is
public, and connects to exactly one of those answers. TLS still uses the URL's name (httpcore
passes it as server_hostname, so SNI and certificate checks are for the name), and the Host
header is the URL's. The name it resolves is the one httpcore was given, already IDNA-encoded
by httpx (IDNA 2008/UTS 46: `straße.example` -> `xn--strae-oqa.example`), so there is no second
spelling to exploit (Python's own codec would say `strasse.example`), and no second lookup
for a DNS-rebinding server to answer differently.

`check_url` is the early answer for `/addfeed` and the CLI: the same rules, without a request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import SplitResult, urlsplit

import httpcore
import httpx

from news.errors import UnresolvableHostError, UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host as it goes on the wire, port) -> its addresses; injectable so tests control DNS.
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Python 3.11's `is_global` misses a few ranges that still reach internal hosts.
_EXTRA_BLOCKED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # CGNAT, RFC 6598 (also excluded by is_global)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments, RFC 6890
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking, RFC 2544
    # Site-local, deprecated by RFC 3879 but still routed inside some networks; Python 3.11's
    # is_global counts it public (review 3, finding 6).
    ipaddress.ip_network("fec0::/10"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: embeds an IPv4 address


def is_public_address(ip: IPAddress) -> bool:
    """True when `ip` is a globally routable unicast address (and embeds no private one)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public_address(embedded):
            return False
        if embedded is not None and ip.teredo is None:
            # A mapped, NAT64 or 6to4 address reaches whatever IPv4 host it embeds.
            return True
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def split_http_url(url: str) -> SplitResult:
    """Parse `url` and check its shape: http(s), a host, no credentials, a valid port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise UnsafeURLError(f"malformed URL: {url!r}") from exc
    if not parts.scheme:  # "notaurl", "example.com/feed": say what is missing
        raise UnsafeURLError(
            f"{url.strip()[:100]!r} is not a web address: it must start with https:// or http://"
        )
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURLError(f"only http and https URLs are allowed, not {parts.scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURLError("URLs with a user name or password are not allowed")
    if not parts.hostname:
        raise UnsafeURLError(f"URL has no host: {url!r}")
    if port == 0:
        raise UnsafeURLError("port 0 is not a valid port")
    return parts


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address (A and AAAA) that `host` resolves to, via the event loop's resolver."""
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHostError(f"cannot resolve host {host!r}: {exc}") from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # Strip an IPv6 zone index ("fe80::1%eth0") before parsing.
        text = str(sockaddr[0]).split("%", 1)[0]
        addresses.append(ipaddress.ip_address(text))
    if not addresses:
        raise UnresolvableHostError(f"host {host!r} has no addresses")
    return addresses


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def wire_host(url: str) -> str:
    """The host of `url` exactly as httpx will connect to it (IDNA-encoded, lower case)."""
    try:
        return httpx.URL(url.strip()).raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as exc:
        raise UnsafeURLError(f"malformed URL: {url!r} ({exc})") from exc


def check_addresses(host: str, addresses: Iterable[IPAddress]) -> None:
    """Raise `UnsafeURLError` unless every address is public.

    Every answer must be public: an attacker can list a private address second.
    """
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeURLError(
                f"{host} resolves to {address}, a non-public address; "
                "set ALLOW_PRIVATE_FEEDS=true to allow it"
            )


def check_literal(url: str, *, allow_private: bool) -> None:
    """The checks that need no DNS: the URL's shape, and its host when it is an IP address."""
    split_http_url(url)
    host = wire_host(url)
    literal = _ip_literal(host)
    if literal is not None and not allow_private:
        check_addresses(host, [literal])


async def check_url(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> None:
    """Raise `UnsafeURLError` unless `url` is an http(s) URL whose host is public.

    With `allow_private` the shape is still checked but the host may be anything (for
    instances that deliberately read an intranet feed, and for tests against 127.0.0.1).
    A name that does not resolve raises `UnresolvableHostError`.
    """
    parts = split_http_url(url)
    if allow_private:
        return
    host = wire_host(url)
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    check_addresses(host, await (resolver or resolve)(host, port))


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the SSRF guard at the only place that matters.

    `inner` is the real network (httpcore's default); tests pass one that stands in for the
    internet. UnsafeURLError and UnresolvableHostError pass through httpx unchanged.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or resolve
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"DNS lookup of {host} timed out") from None
        if not self.allow_private:
            check_addresses(host, addresses)
        failure: Exception | None = None
        for address in dict.fromkeys(addresses):  # in the resolver's order, each once
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # resolve() never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeURLError("feeds are fetched over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
