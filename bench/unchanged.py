"""Poll cycles over feeds that answer every poll 200 with the same bytes and no validators.

Usage: python bench/unchanged.py [--feeds 200] [--items 20] [--content-bytes 2000]
                                 [--latency-ms 5] [--cycles 3]

The many sites without ETag or Last-Modified cannot answer 304; before issue 14 every poll of
them parsed the whole body in a worker again. The feed server (bench/feedserver_process.py,
`--no-validators`) serves generated feeds, the poller is `coopwatch run`'s (`FeedPoller`,
`FeedFetcher`, a `ParsePool`, SQLite in a temporary directory, no classifier hook). Cycle 1
stores every feed's items; each later cycle moves the clock past the interval so every feed is
due again and answers the same bytes. Per cycle it prints wall time and CPU time: this
process's (`time.process_time`) plus the parse workers' (utime + stime from /proc/<pid>/stat of
the pool's workers, sampled before and after; a worker that died within the cycle would be
missed, and none does here), and how many bodies reached a worker.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.feedserver_process import feed_url  # noqa: E402
from bench.ingest import POLL_INTERVAL, ShiftedClock, feed_server, seed_feeds  # noqa: E402
from coopwatch.polling import FeedPoller  # noqa: E402
from news.fetch import FeedFetcher  # noqa: E402
from news.parse import ParsedFeed  # noqa: E402
from news.parse_pool import ParsePool  # noqa: E402
from storage import Database  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


class CountingPool(ParsePool):
    """The real pool, counting the bodies handed to a worker."""

    parses = 0

    async def parse(
        self, body: bytes, headers: Mapping[str, str], *, url: str, fetched_at: datetime
    ) -> ParsedFeed:
        self.parses += 1
        return await super().parse(body, headers, url=url, fetched_at=fetched_at)


def worker_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) of each live process in ``pids``."""
    seconds = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


async def cycle(poller: FeedPoller, pool: CountingPool) -> str:
    parses_before, workers_before = pool.parses, worker_cpu(pool.pids)
    started, cpu_started = time.perf_counter(), time.process_time()
    outcomes: Counter[str] = Counter()
    while reports := await poller.poll_due():
        outcomes.update(report.outcome for report in reports)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    workers_after = worker_cpu(pool.pids)
    workers = sum(t - workers_before.get(pid, 0.0) for pid, t in workers_after.items())
    return (
        f"wall {wall:.2f} s, CPU {cpu + workers:.2f} s (bot {cpu:.2f} + workers {workers:.2f}); "
        f"{pool.parses - parses_before} parsed; outcomes "
        + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
    )


async def benchmark(args: argparse.Namespace, port: int, db: Database) -> None:
    clock = ShiftedClock()
    async with FeedFetcher(allow_private=True, per_host_limit=2, global_limit=20) as fetcher:
        pool = CountingPool()
        poller = FeedPoller(
            db=db,
            fetcher=fetcher,
            interval=POLL_INTERVAL,
            max_item_age=timedelta(hours=48),
            clock=clock,
            parser=pool,
        )
        try:
            for number in range(1, args.cycles + 1):
                print(f"cycle {number}: {await cycle(poller, pool)}", flush=True)
                clock.offset += timedelta(seconds=POLL_INTERVAL * 1.2)
        finally:
            pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--content-bytes", type=int, default=2000, help="content per item")
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--feeds-per-host", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    args.no_validators = True
    with feed_server(args) as port, tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/unchanged.db")
        db.upgrade()
        seed_feeds(db, [feed_url(n, args.feeds_per_host, port) for n in range(args.feeds)])
        print(
            f"{args.feeds} feeds of {args.items} items ({args.content_bytes} B of content "
            f"each), no validators; load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        try:
            asyncio.run(benchmark(args, port, db))
        finally:
            db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
