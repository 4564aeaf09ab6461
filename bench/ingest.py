"""Ingest benchmark: N generated feeds through the real poller, then a cycle of all-304 answers.

Usage: python bench/ingest.py [--feeds 1000] [--items 20] [--latency-ms 50]
                              [--feeds-per-host 4] [--per-host-limit 2] [--global-limit 20]
                              [--gap-seconds 31]

A feed server runs in its own process (bench/feedserver_process.py) and spreads the feeds over
many loopback addresses, so the fetcher's per-host and global limits act as with real sites.
The poller is the one `coopwatch run` uses: `FeedPoller` with a `FeedFetcher`, `parse_feed_async`
and a SQLite `Database` in a temporary directory, without the classifier hook (benchmarked in
bench/classify.py). A cycle calls `poll_due()` until no feed is due: `due_feeds` hands out at
most 500 feeds per call. The second cycle moves the poller's clock past the poll interval, so
every feed is due again and every answer is a 304; before it the benchmark waits until the
fetcher's idle keep-alive connections have expired, as they have between real cycles. For each
cycle it prints wall time, feeds/s, the TCP connections opened,
peak RSS of this process (and of the server) and the load average, which matters on a shared
machine. Goal on 2 cores: cycle 1 < 20 s at 50 ms latency, the 304 cycle < 5 s, RSS < 250 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpcore
import httpx
from sqlalchemy import func
from sqlmodel import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.feedserver_process import feed_hosts, feed_url  # noqa: E402
from coopwatch.polling import FeedPoller  # noqa: E402
from news.fetch import FeedFetcher  # noqa: E402
from news.keepalive import KEEPALIVE_EXPIRY  # noqa: E402
from news.parse_pool import ParsePool  # noqa: E402
from storage import Database  # noqa: E402
from storage.models import Feed, Item  # noqa: E402

SERVER = Path(__file__).resolve().parent / "feedserver_process.py"
POLL_INTERVAL = 900.0  # the POLL_INTERVAL default in bot/settings.py
MAX_ITEM_AGE = timedelta(hours=48)
GOALS = {"cycle 1": 20.0, "cycle 2": 5.0}
RSS_GOAL_MB = 250.0


@dataclass(frozen=True, slots=True)
class CycleFigures:
    """What one poll cycle did and cost."""

    name: str
    feeds: int
    seconds: float
    cpu_seconds: float  # user + system time of this process, all threads
    calls: int
    outcomes: dict[str, int]
    new_items: int
    start_rss_mb: float
    peak_rss_mb: float  # ru_maxrss after the cycle (its own peak when the kernel could reset it)
    server: dict[str, int]
    server_peak_rss_mb: float
    load: str
    connections: int  # TCP connections the fetcher opened in this cycle

    @property
    def feeds_per_second(self) -> float:
        return self.feeds / self.seconds if self.seconds else 0.0


class CountingNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's default network, counting the TCP connections opened (under the SSRF guard)."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.connections = 0

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        self.connections += 1
        return await self.inner.connect_tcp(*args, **kwargs)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class ShiftedClock:
    """The wall clock plus an offset: moving it past the interval makes every feed due."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@contextlib.contextmanager
def feed_server(args: argparse.Namespace) -> Iterator[int]:
    """Start the server process, yield its port, and always stop it."""
    command = [
        sys.executable,
        str(SERVER),
        f"--feeds={args.feeds}",
        f"--items={args.items}",
        f"--latency-ms={args.latency_ms}",
        f"--feeds-per-host={args.feeds_per_host}",
        f"--content-bytes={args.content_bytes}",
        *(["--no-validators"] if getattr(args, "no_validators", False) else []),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # after the feeds are built; EOF if the server died
        if not line.startswith("READY "):
            raise SystemExit(f"feed server failed to start (exit code {process.poll()})")
        yield int(line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_stats(host: str, port: int) -> dict[str, object]:
    with httpx.Client(trust_env=False, timeout=10) as client:
        stats: dict[str, object] = client.get(f"http://{host}:{port}/stats").json()
        return stats


def seed_feeds(db: Database, urls: list[str]) -> None:
    """One transaction for all feed rows (set-up, not measured), each due now."""
    due = datetime.now(UTC) - timedelta(seconds=1)
    with db.session() as session:
        session.add_all(Feed(url=url, next_poll_at=due) for url in urls)


def count_items(db: Database) -> int:
    with db.session() as session:
        return int(session.exec(select(func.count()).select_from(Item)).one())


def rss_mb(field_name: str) -> float:
    """VmRSS or VmHWM of this process from /proc, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0) so each cycle has its own peak."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


async def run_cycle(
    name: str, poller: FeedPoller, db: Database, stats_at: tuple[str, int], net: CountingNetwork
) -> CycleFigures:
    connections_before = net.connections
    before = server_stats(*stats_at)
    items_before = count_items(db)
    start_rss = rss_mb("VmRSS")
    reset_peak_rss()
    outcomes: Counter[str] = Counter()
    calls = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while reports := await poller.poll_due():
        calls += 1
        outcomes.update(report.outcome for report in reports)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    after = server_stats(*stats_at)
    counts_before: dict[str, int] = before["counts"]  # type: ignore[assignment]
    counts_after: dict[str, int] = after["counts"]  # type: ignore[assignment]
    served = {k: v - counts_before.get(k, 0) for k, v in counts_after.items()}
    return CycleFigures(
        name=name,
        feeds=sum(outcomes.values()),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        calls=calls,
        outcomes=dict(outcomes),
        new_items=count_items(db) - items_before,
        start_rss_mb=start_rss,
        peak_rss_mb=peak_rss,
        server={k: v for k, v in served.items() if v},
        server_peak_rss_mb=int(after["peak_rss_kib"]) / 1024,  # type: ignore[call-overload]
        load=load_average(),
        connections=net.connections - connections_before,
    )


def print_cycle(figures: CycleFigures) -> None:
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(figures.outcomes.items()))
    served = ", ".join(f"{k}: {v}" for k, v in sorted(figures.server.items()))
    print(
        f"{figures.name}: {figures.feeds} feeds in {figures.seconds:.2f} s = "
        f"{figures.feeds_per_second:.0f} feeds/s ({figures.calls} poll_due calls); "
        f"CPU {figures.cpu_seconds:.1f} s; {figures.connections} TCP connections opened\n"
        f"  outcomes: {outcomes}; new items stored: {figures.new_items}; server answered {served}\n"
        f"  peak RSS: {figures.peak_rss_mb:.0f} MB (RSS at start {figures.start_rss_mb:.0f} MB); "
        f"server process peak RSS {figures.server_peak_rss_mb:.0f} MB\n"
        f"  load average after: {figures.load}"
    )


def print_verdict(cycles: list[CycleFigures]) -> None:
    for figures in cycles:
        goal = GOALS[figures.name]
        verdict = "met" if figures.seconds < goal else "MISSED"
        print(f"goal {figures.name} < {goal:g} s: {verdict} ({figures.seconds:.2f} s)")
    peak = max(figures.peak_rss_mb for figures in cycles)
    verdict = "met" if peak < RSS_GOAL_MB else "MISSED"
    print(f"goal peak RSS < {RSS_GOAL_MB:g} MB: {verdict} ({peak:.0f} MB)")


async def benchmark(args: argparse.Namespace, port: int, db: Database) -> list[CycleFigures]:
    clock = ShiftedClock()
    stats_at = (feed_hosts(args.feeds, args.feeds_per_host)[0], port)
    net = CountingNetwork()
    async with FeedFetcher(
        network=net,
        allow_private=True,  # the feeds are on loopback addresses
        per_host_limit=args.per_host_limit,
        global_limit=args.global_limit,
    ) as fetcher:
        # As `coopwatch run` builds it: parsing in worker processes (0: the default count).
        pool = ParsePool(args.parse_workers or None)
        poller = FeedPoller(
            db=db,
            fetcher=fetcher,
            interval=POLL_INTERVAL,
            max_item_age=MAX_ITEM_AGE,
            clock=clock,
            parser=pool,
        )
        try:
            first = await run_cycle("cycle 1", poller, db, stats_at, net)
            print_cycle(first)
            # Past the interval plus its +10 % jitter: every feed is due, each sends its ETag.
            clock.offset = timedelta(seconds=POLL_INTERVAL * 1.2)
            # Real cycles are minutes apart, so no idle connection of cycle 1 is left for
            # cycle 2: wait until the fetcher's keep-alive connections have expired.
            await asyncio.sleep(args.gap_seconds)
            second = await run_cycle("cycle 2", poller, db, stats_at, net)
            print_cycle(second)
        finally:
            pool.close()
    return [first, second]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server delay per answer")
    parser.add_argument("--feeds-per-host", type=int, default=4, help="feeds per loopback host")
    parser.add_argument(
        "--parse-workers",
        type=int,
        default=None,
        help="parsing processes (default: as the bot, max(2, min(4, cores)))",
    )
    parser.add_argument("--per-host-limit", type=int, default=2, help="FeedFetcher per_host_limit")
    parser.add_argument("--global-limit", type=int, default=20, help="FeedFetcher global_limit")
    parser.add_argument(
        "--gap-seconds",
        type=float,
        default=KEEPALIVE_EXPIRY + 1,
        help="pause between the cycles (default: until idle connections have expired)",
    )
    parser.add_argument("--content-bytes", type=int, default=0, help="content:encoded per item")
    args = parser.parse_args()
    hosts = feed_hosts(args.feeds, args.feeds_per_host)
    print(
        f"ingest benchmark: {args.feeds} feeds x {args.items} items on {len(hosts)} loopback "
        f"hosts, latency {args.latency_ms:g} ms, per-host limit {args.per_host_limit}, "
        f"global limit {args.global_limit}, {os.cpu_count()} CPUs"
    )
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp, feed_server(args) as port:
        db = Database(f"sqlite:///{tmp}/ingest.db")
        try:
            db.upgrade()
            seed_feeds(db, [feed_url(i, args.feeds_per_host, port) for i in range(args.feeds)])
            cycles = asyncio.run(benchmark(args, port, db))
        finally:
            db.close()
    print_verdict(cycles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
