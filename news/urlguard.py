"""SSRF guard: refuse feed URLs that would make the bot fetch from inside its own network.

A feed URL is supplied by an admin (or an OPML file, or a redirect chosen by a remote server),
so without this check `/addfeed http://169.254.169.254/latest/meta-data/` would read the cloud
metadata service and show it back in the reply. The check runs at `/addfeed` time and again at
every fetch and every redirect hop, because DNS answers change.

Remaining TOCTOU window: we resolve the name here, then httpx resolves it again when it
connects. A hostile DNS server answering with a TTL of 0 can return a public address to us and
a private one to httpx a few milliseconds later (DNS rebinding). Closing that gap needs
connecting to the very address we checked (a custom transport that pins the IP and sends SNI
and Host for the name); until then the guard stops admin mistakes, stale records and
redirects to internal hosts, but not a deliberate rebinding attacker.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from news.errors import UnresolvableHostError, UnsafeURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Python 3.11's `is_global` misses a few ranges that still reach internal hosts.
_EXTRA_BLOCKED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # CGNAT, RFC 6598 (also excluded by is_global)
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments, RFC 6890
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking, RFC 2544
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


async def check_url(url: str, *, allow_private: bool) -> None:
    """Raise `UnsafeURLError` unless `url` is an http(s) URL whose host is public.

    With `allow_private` the shape is still checked but the host may be anything (for
    instances that deliberately read an intranet feed, and for tests against 127.0.0.1).
    A name that does not resolve raises `UnresolvableHostError`.
    """
    parts = split_http_url(url)
    if allow_private:
        return
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    # Every answer must be public: an attacker can list a private address second.
    for address in await resolve(host, port):
        if not is_public_address(address):
            raise UnsafeURLError(
                f"{host} resolves to {address}, a non-public address; "
                "set ALLOW_PRIVATE_FEEDS=true to allow it"
            )
