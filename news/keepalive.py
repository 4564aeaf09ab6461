"""Keep-alive per site under the SSRF guard: one small httpcore pool per origin (issue 14).

httpcore reuses a connection only for the same scheme, host name and port, and every
connection is opened by `news.urlguard.GuardedNetwork` to the very address it checked; so a
reused connection neither skips the check nor serves two names that share an address.

One pool per origin rather than one big pool: httpcore's pool walks all its connections on
every request and response (and asks each idle socket whether the server closed it), so one
pool holding an idle connection for each of 250 sites cost more CPU than the handshakes it
saved (bench/ingest.py). A per-origin pool holds at most the per-host limit of connections.
The pools are kept least recently used first; past `max_sites`, the oldest pool with nothing
in flight is closed, which bounds the sockets held open.
"""

from __future__ import annotations

import ssl
from collections import OrderedDict

import httpcore
import httpx

KEEPALIVE_EXPIRY = 30.0  # s; an idle connection older than this is closed, not reused
MAX_SITES = 256  # origins whose idle connections are kept (file descriptors)

_Origin = tuple[bytes, bytes, int | None]


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool on the guarded network backend.

    httpx does not take a network backend as an argument, so the pool it built is replaced by
    an identical one that has it (same TLS context and limits; no proxy: trust_env is off).
    """

    def __init__(
        self,
        network: httpcore.AsyncNetworkBackend,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        """``ssl_context`` None: the pool of a plain-http origin, which makes no TLS connection.

        httpx's own constructor builds a pool (replaced below) with the context it is given;
        given none it would load the CA bundle (≈ 25–45 ms) for a pool that is thrown away, so
        it gets an empty one.
        """
        unused = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        super().__init__(verify=ssl_context or unused, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=network,
        )

    @property
    def busy(self) -> bool:
        """Whether a request or a response body is under way on this pool."""
        return not all(connection.is_idle() for connection in self._pool.connections)


class SitePools(httpx.AsyncBaseTransport):
    """A `GuardedTransport` per origin, each with at most `per_site` connections."""

    def __init__(
        self,
        network: httpcore.AsyncNetworkBackend,
        *,
        per_site: int,
        max_sites: int = MAX_SITES,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._network = network
        self._limits = httpx.Limits(
            max_connections=per_site,
            max_keepalive_connections=per_site,
            keepalive_expiry=keepalive_expiry,
        )
        self._max_sites = max_sites
        # Loaded with the first https origin, then shared: a cycle of plain-http feeds (and
        # every start of `coopwatch poll`) need not read the CA bundle (issue 14).
        self._ssl_context: ssl.SSLContext | None = None
        self._pools: OrderedDict[_Origin, GuardedTransport] = OrderedDict()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        pool = self._pools.get(origin)
        if pool is None:
            await self._make_room()
            pool = self._pools.get(origin)  # another request may have made it meanwhile
            if pool is None:
                pool = self._pools[origin] = GuardedTransport(
                    self._network, self._limits, self._tls(origin[0])
                )
        self._pools.move_to_end(origin)
        return await pool.handle_async_request(request)

    def _tls(self, scheme: bytes) -> ssl.SSLContext | None:
        if scheme != b"https":
            return None
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
        return self._ssl_context

    async def _make_room(self) -> None:
        while len(self._pools) >= self._max_sites:
            oldest = next((o for o, pool in self._pools.items() if not pool.busy), None)
            if oldest is None:
                return  # every pool is in use: a new site waits for none of them
            await self._pools.pop(oldest).aclose()

    @property
    def sites(self) -> int:
        """Origins with a pool now (for tests and diagnostics)."""
        return len(self._pools)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()
