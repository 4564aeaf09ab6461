"""Side by side: `coopwatch poll --all` and lemon24/reader's `update_feeds` on the same feeds.

Usage: python bench/vs_reader.py [--feeds 1000] [--items 20] [--latency-ms 50]
                                 [--reader-version 3.26] [--workers 16]

reader is not a project dependency: the benchmark installs it with pip into its own virtual
environment under ~/.cache/coopwatch-bench/ (``--cache-dir``) the first time. One feed server
(bench/feedserver_process.py, its own process: ETag and Last-Modified, 304 on If-None-Match,
gzip, ``--latency-ms`` per answer, 4 feeds per loopback address) serves both tools. Each pass
is timed as a whole process, start-up included:

- reader: ``make_reader(db).update_feeds(workers=N, scheduled=False)`` on a database the
  feeds were added to beforehand (untimed), once (every answer a 200) and again (every answer
  a 304);
- coopwatch: ``coopwatch poll --all``, installed as `make run` installs it (editable, compiled
  where a C compiler exists, without the test extras) in its own virtual environment under the
  same cache directory, on a fresh SQLite database seeded with the same feed
  rows (untimed), ALLOW_PRIVATE_FEEDS=true, DEFAULT_FEEDS=false, so the first pass stores,
  classifies and groups every item as the bot does; then the all-304 pass.

Peak memory ("peak MB") is the largest sum of VmRSS over the process and all its descendants
(parse workers), sampled from /proc every 20 ms; "main MB" is the process alone. The server's
own process is not counted. "CPU s" is the user and system time of the process and of the
children it waited for (coopwatch's workers): this machine's speed swings by a quarter between
minutes, so compare wall times within one run, and the CPU figures across runs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.feedserver_process import feed_hosts, feed_url  # noqa: E402
from bench.ingest import feed_server, load_average, server_stats  # noqa: E402
from storage import Database  # noqa: E402
from storage.models import Feed  # noqa: E402

SAMPLE_SECONDS = 0.02

READER_SETUP = """
import sys
from reader import make_reader
reader = make_reader(sys.argv[1])
for url in sys.stdin.read().split():
    reader.add_feed(url, exist_ok=True)
reader.close()
"""
READER_UPDATE = """
import sys
from reader import make_reader
reader = make_reader(sys.argv[1])
# scheduled=False: every feed, as `coopwatch poll --all` (3.x skips feeds polled within
# their update interval by default, which would make the second pass fetch nothing).
reader.update_feeds(workers=int(sys.argv[2]), scheduled=False)
reader.close()
"""
READER_COUNT = """
import sys
from reader import make_reader
reader = make_reader(sys.argv[1])
counts = reader.get_entry_counts()
broken = sum(1 for feed in reader.get_feeds() if feed.last_exception)
print(counts.total, broken)
reader.close()
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One timed whole process."""

    tool: str
    name: str
    seconds: float
    peak_tree_mb: float
    peak_main_mb: float  # the process itself, without its children (parse workers)
    returncode: int
    answered: dict[str, int]
    note: str
    # user + system time of the process and the children it waited for (coopwatch's parse
    # and analysis workers): the machine's speed swings between runs, the work done less
    cpu_seconds: float = 0.0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as children:
                found += [int(child) for child in children.read().split()]
        except OSError:
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kib(root: int) -> int:
    """VmRSS of ``root`` and every descendant, in KiB."""
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kib(pid)
        stack += _children(pid)
    return total


def timed(
    command: list[str], env: dict[str, str], log: Path
) -> tuple[float, int, tuple[int, int], str, float]:
    """Run ``command``: wall seconds, exit code, peak RSS in KiB (whole tree, the process
    alone), its standard output and its CPU seconds (with the children it waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = peak_main = 0
    started = time.perf_counter()
    with log.open("ab") as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, peak_main
            while not done.is_set():
                peak = max(peak, tree_rss_kib(process.pid))
                peak_main = max(peak_main, _rss_kib(process.pid))
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, _ = process.communicate()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    return seconds, process.returncode, (peak, peak_main), out.decode(errors="replace").strip(), cpu


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without proxies (the feeds are on loopback) or coopwatch settings."""
    dropped = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.lower() not in dropped and not key.startswith("TELEGRAM_")
    }
    return env | extra


def ensure_reader(cache: Path, version: str) -> Path:
    """The python of a virtual environment with reader==version, created on first use."""
    venv = cache / "reader-venv"
    python = venv / "bin" / "python"
    marker = venv / ".coopwatch-bench-version"
    if not python.exists():
        print(f"creating {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not marker.exists() or marker.read_text() != version:
        print(f"installing reader=={version} into {venv} …", flush=True)
        # reader vendors a feedparser that imports `sgmllib`, which pip does not pull in
        # (feedparser 6.0.12+ moved to feedparser-sgmllib): sgmllib3k provides it.
        packages = [f"reader=={version}", "sgmllib3k"]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
        marker.write_text(version)
    return python


def ensure_coopwatch(cache: Path) -> Path:
    """The `coopwatch` of a virtual environment with the package as `make run` installs it
    (editable, without the test extras), created on first use and reinstalled when
    pyproject.toml or setup.py change.

    Not .venv: its test extras bring selenium, and with it trio, which httpcore imports
    whenever it is installed: ≈ 0.12 s of every start that no installed bot pays, and the
    all-304 pass is only ≈ 5 s.
    """
    venv = cache / "coopwatch-venv"
    python = venv / "bin" / "python"
    marker = venv / ".coopwatch-bench-install"
    wanted = "\n".join(
        hashlib.sha256((ROOT / name).read_bytes()).hexdigest()
        for name in ("pyproject.toml", "setup.py")
    )
    if not python.exists():
        print(f"creating {venv} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not marker.exists() or marker.read_text() != wanted:
        print(f"installing coopwatch (editable, no test extras) into {venv} …", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", str(ROOT)], check=True
        )
        marker.write_text(wanted)
    return venv / "bin" / "coopwatch"


def mb(kib: tuple[int, int]) -> tuple[float, float]:
    return kib[0] / 1024, kib[1] / 1024


def answered(before: dict[str, object], after: dict[str, object]) -> dict[str, int]:
    counts_before: dict[str, int] = before["counts"]  # type: ignore[assignment]
    counts_after: dict[str, int] = after["counts"]  # type: ignore[assignment]
    served = {k: v - counts_before.get(k, 0) for k, v in counts_after.items()}
    return {k: v for k, v in served.items() if v}


def bench_reader(
    args: argparse.Namespace, python: Path, urls: list[str], tmp: Path, stats_at: tuple[str, int]
) -> list[Run]:
    db, log = str(tmp / "reader.sqlite"), tmp / "reader.log"
    env = clean_env()
    subprocess.run(
        [str(python), "-c", READER_SETUP, db], input="\n".join(urls).encode(), env=env, check=True
    )
    runs = []
    for name in ("first pass", "all-304 pass"):
        before = server_stats(*stats_at)
        command = [str(python), "-c", READER_UPDATE, db, str(args.workers)]
        seconds, code, peak, _, cpu = timed(command, env, log)
        after = server_stats(*stats_at)
        count = subprocess.run(
            [str(python), "-c", READER_COUNT, db], env=env, capture_output=True, text=True
        ).stdout.split()
        note = f"{count[0]} entries stored, {count[1]} feeds with an error" if count else ""
        runs.append(
            Run("reader", name, seconds, *mb(peak), code, answered(before, after), note, cpu)
        )
    return runs


def bench_coopwatch(
    coopwatch: Path, urls: list[str], tmp: Path, stats_at: tuple[str, int]
) -> list[Run]:
    url, log = f"sqlite:///{tmp / 'coopwatch.db'}", tmp / "coopwatch.log"
    db = Database(url)
    try:
        db.upgrade()
        due = datetime.now(UTC) - timedelta(seconds=1)
        with db.session() as session:
            session.add_all(Feed(url=feed, next_poll_at=due) for feed in urls)
    finally:
        db.close()
    env = clean_env(DATABASE_URL=url, ALLOW_PRIVATE_FEEDS="true", DEFAULT_FEEDS="false")
    runs = []
    for name in ("first pass", "all-304 pass"):
        before = server_stats(*stats_at)
        seconds, code, peak, out, cpu = timed([str(coopwatch), "poll", "--all"], env, log)
        after = server_stats(*stats_at)
        runs.append(
            Run("coopwatch", name, seconds, *mb(peak), code, answered(before, after), out, cpu)
        )
    return runs


def print_table(runs: list[Run]) -> None:
    print(
        f"\n{'tool':<10} {'pass':<13} {'wall s':>7} {'CPU s':>6} {'peak MB':>8} {'main MB':>8} "
        f"{'exit':>4}"
        "  answered"
    )
    for run in runs:
        served = ", ".join(f"{k}: {v}" for k, v in sorted(run.answered.items()))
        print(
            f"{run.tool:<10} {run.name:<13} {run.seconds:>7.2f} {run.cpu_seconds:>6.1f} "
            f"{run.peak_tree_mb:>8.0f} "
            f"{run.peak_main_mb:>8.0f} {run.returncode:>4}  {served}"
        )
    print()
    for run in runs:
        if run.note:
            print(f"{run.tool} {run.name}: {run.note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20, help="items per feed")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="server delay per answer")
    parser.add_argument("--feeds-per-host", type=int, default=4, help="feeds per loopback host")
    parser.add_argument("--content-bytes", type=int, default=0, help="content:encoded per item")
    parser.add_argument("--workers", type=int, default=16, help="reader's update_feeds workers")
    parser.add_argument("--reader-version", default="3.26")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path.home() / ".cache" / "coopwatch-bench"
    )
    args = parser.parse_args()
    python = ensure_reader(args.cache_dir, args.reader_version)
    coopwatch = ensure_coopwatch(args.cache_dir)
    hosts = feed_hosts(args.feeds, args.feeds_per_host)
    print(
        f"reader {args.reader_version} (workers={args.workers}) vs coopwatch poll --all: "
        f"{args.feeds} feeds x {args.items} items on {len(hosts)} loopback hosts, latency "
        f"{args.latency_ms:g} ms, {os.cpu_count()} CPUs; load average before: {load_average()}"
    )
    with tempfile.TemporaryDirectory() as tmp, feed_server(args) as port:
        urls = [feed_url(i, args.feeds_per_host, port) for i in range(args.feeds)]
        stats_at = (hosts[0], port)
        runs = bench_reader(args, python, urls, Path(tmp), stats_at)
        runs += bench_coopwatch(coopwatch, urls, Path(tmp), stats_at)
        print_table(runs)
        for tool in ("reader", "coopwatch"):
            log = Path(tmp) / f"{tool}.log"
            errors = [line for line in log.read_text().splitlines() if "Traceback" in line]
            if errors:
                print(f"{tool}: {len(errors)} tracebacks on standard error")
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
