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

The fetcher talks to these pools directly, not through httpx's client: httpx's request and
response models, its cookie jar and its URL merging were ≈ 40 % of the CPU of a 304, which
set the pace of a cycle answered by 304s (docs/design.md "Feeds are fetched with httpcore
directly (issue 14)").
"""

from __future__ import annotations

import ssl
from collections import OrderedDict

import httpcore
import httpx

KEEPALIVE_EXPIRY = 30.0  # s; an idle connection older than this is closed, not reused
MAX_SITES = 256  # origins whose idle connections are kept (file descriptors)

Origin = tuple[bytes, bytes, int | None]  # scheme, host as sent, port (None: the default)


class SitePools:
    """An `httpcore.AsyncConnectionPool` per origin, each with at most `per_site` connections,
    all on the guarded network backend."""

    def __init__(
        self,
        network: httpcore.AsyncNetworkBackend,
        *,
        per_site: int,
        max_sites: int = MAX_SITES,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self._network = network
        self._per_site = per_site
        self._keepalive_expiry = keepalive_expiry
        self._max_sites = max_sites
        # Loaded with the first https origin, then shared: a cycle of plain-http feeds (and
        # every start of `coopwatch poll`) need not read the CA bundle (issue 14).
        self._ssl_context: ssl.SSLContext | None = None
        self._pools: OrderedDict[Origin, httpcore.AsyncConnectionPool] = OrderedDict()

    async def pool(self, origin: Origin) -> httpcore.AsyncConnectionPool:
        """The pool for ``origin``, made (closing the oldest idle one past `max_sites`) on
        first use."""
        pool = self._pools.get(origin)
        if pool is None:
            await self._make_room()
            pool = self._pools.get(origin)  # another request may have made it meanwhile
            if pool is None:
                pool = self._pools[origin] = httpcore.AsyncConnectionPool(
                    # None for plain http: such a pool makes no TLS connection.
                    ssl_context=self._tls(origin[0]),
                    max_connections=self._per_site,
                    max_keepalive_connections=self._per_site,
                    keepalive_expiry=self._keepalive_expiry,
                    network_backend=self._network,
                )
        self._pools.move_to_end(origin)
        return pool

    def _tls(self, scheme: bytes) -> ssl.SSLContext | None:
        if scheme != b"https":
            return None
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
        return self._ssl_context

    async def _make_room(self) -> None:
        while len(self._pools) >= self._max_sites:
            oldest = next((o for o, pool in self._pools.items() if not _busy(pool)), None)
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


def _busy(pool: httpcore.AsyncConnectionPool) -> bool:
    """Whether a request or a response body is under way on this pool."""
    return not all(connection.is_idle() for connection in pool.connections)
