"""Wall time of the CLI commands that need no classifier: whole process, best of N.

Usage: python bench/startup.py [--runs 5] [--coopwatch PATH] [COMMAND ...]

Issue 14 asks for these commands to start in under a second. Each command runs as
`coopwatch …` in a fresh process (the console script beside this interpreter unless
`--coopwatch` names another) against a SQLite database in a temporary directory that is
already upgraded and holds a few feeds and events (made through tests/seed.py), with
`DEFAULT_FEEDS=false`. Prints, per command, the best and the median wall time of `--runs`
runs after one warm-up run (file cache), the least CPU time (user + system) of a run, and the
load average before and after: on a shared machine wall times swing with the load, so compare
best figures taken at a low load, and the CPU column, which swings less. `feeds add` and
`feeds import` fetch over the network and `feeds remove` changes the data: they are left out.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMANDS = (
    "--help",
    "db upgrade",
    "feeds list",
    "feeds export",
    "export",
    "export --format csv",
    "export --format atom --country TJ",
    "doctor --quick",
)


def make_database(directory: Path) -> str:
    """An upgraded SQLite database with six feeds and five events of two reports each."""
    from storage import Database
    from tests.seed import add_event_with_source, add_report

    url = f"sqlite:///{directory / 'coopwatch.db'}"
    db = Database(url)
    try:
        db.upgrade()
        for number in range(5):
            pair = ("KZ", "TJ") if number % 2 else ("UZ", "CN")
            event = add_event_with_source(db, countries=pair)
            add_report(db, event, outlet=f"Outlet {number}")
    finally:
        db.close()
    return url


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_times(
    argv: list[str], env: dict[str, str], cwd: Path, runs: int
) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of each run."""
    subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = children_cpu(), time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--coopwatch", default=str(Path(sys.executable).parent / "coopwatch"))
    parser.add_argument("commands", nargs="*", default=list(COMMANDS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("TELEGRAM_BOT_TOKEN", "DATABASE_URL", "DEFAULT_FEEDS")
        } | {"DATABASE_URL": make_database(directory), "DEFAULT_FEEDS": "false"}
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'command':<36} {'best':>7} {'median':>7} {'CPU':>7}  (wall; {args.runs} runs)")
        for command in args.commands:
            walls, cpus = run_times([args.coopwatch, *command.split()], env, directory, args.runs)
            print(
                f"{command:<36} {min(walls):>6.3f}s {statistics.median(walls):>6.3f}s "
                f"{min(cpus):>6.3f}s"
            )
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
