"""Worker processes with a time limit and a memory bound, fed over pipes (issues 10, 14, 18).

Two pools use this: feed parsing (`news.parse_pool`: feedparser is pure Python and a hostile
feed can keep it busy for minutes or take it past a gigabyte) and item analysis
(`news.analysis_pool`: the classifier and the report reading, moved off the process that
stores and groups so that a poll uses both cores).

Workers are plain `subprocess` children talking over pipes, not `multiprocessing`: no
resource tracker to linger, no executor thread that the interpreter joins at exit (the reason
a busy `ProcessPoolExecutor` kept `coopwatch run` from stopping). Each worker is started and
served by a daemon thread of its own; the worker's death signal is tied to that thread, so it
dies with the thread, with the process, or when killed, whichever comes first. A worker's
address space is capped and each call has a wall-clock limit: a worker that runs over is
killed with SIGKILL and a fresh one is started for the next call.

Waiting calls take a free worker smallest size first (for feeds, the body's length), so a
healthy feed is not queued behind megabytes of hostile ones that arrived at the same time.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import heapq
import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from news.parse_worker import read_frame, write_frame

_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)
_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


class WorkerGone(Exception):
    """The worker process ended before answering (killed, crashed, out of memory)."""


@dataclass(eq=False)
class _Job:
    header: bytes
    body: bytes
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[tuple[str, Any, bool]]


@dataclass(eq=False)
class _Worker:
    """One worker process and the daemon thread that starts it and carries its frames."""

    memory_limit: int
    module: str  # run as `python -m module PARENT_PID MEMORY_LIMIT`
    name: str  # "parse worker": how messages and the thread name call it
    max_reply: int
    process: subprocess.Popen[bytes] | None = None
    killed: bool = False
    finished: bool = False
    _jobs: queue.SimpleQueue[_Job | None] = field(default_factory=queue.SimpleQueue)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        threading.Thread(target=self._run, name=self.name.replace(" ", "-"), daemon=True).start()

    def submit(self, job: _Job) -> None:
        with self._lock:
            if not (self.killed or self.finished):
                self._jobs.put(job)
                return
        _settle(job, error=WorkerGone(f"the {self.name} was stopped"))

    def kill(self) -> None:
        """SIGKILL now: a busy worker is never waited for."""
        with self._lock:
            self.killed = True
            process = self.process
        self._jobs.put(None)
        if process is not None and process.poll() is None:
            with contextlib.suppress(OSError):  # already gone
                process.kill()

    @property
    def usable(self) -> bool:
        process = self.process
        return not (self.killed or self.finished) and (process is None or process.poll() is None)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _spawn(self) -> subprocess.Popen[bytes]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": os.pathsep.join(
                p for p in (_PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")) if p
            ),
            # One malloc arena, and every buffer of 1 MiB or more mapped on its own: the
            # address-space cap then measures what is in use, not the 64 MiB reserved per
            # arena or a heap fragmented by freed copies of the body. (And the bot's secrets
            # in our environment stay ours.)
            "MALLOC_ARENA_MAX": "1",
            "MALLOC_MMAP_THRESHOLD_": str(1024 * 1024),
            "LC_ALL": "C.UTF-8",
        }
        command = [
            sys.executable,
            "-m",
            self.module,
            str(os.getpid()),
            str(self.memory_limit),
        ]
        return subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True
        )

    def _run(self) -> None:
        job: _Job | None = None
        try:
            process = self._spawn()
        except OSError as exc:
            with self._lock:
                self.finished = True
            self._fail_all(WorkerGone(f"cannot start a {self.name}: {exc}"))
            return
        with self._lock:
            self.process = process
            killed = self.killed
        if killed:
            process.kill()
        assert process.stdin is not None and process.stdout is not None
        try:
            while (job := self._jobs.get()) is not None:
                write_frame(process.stdin, job.header)  # type: ignore[arg-type]
                write_frame(process.stdin, job.body)  # type: ignore[arg-type]
                job.body = b""
                frame = read_frame(process.stdout, self.max_reply)  # type: ignore[arg-type]
                if frame is None:
                    raise WorkerGone(_how_it_ended(process, self.name))
                reply = pickle.loads(frame)
                _settle(job, result=reply)
                job = None
                if reply[2]:  # the worker said it exits after this reply
                    break
        except WorkerGone as exc:
            if job is not None:
                _settle(job, error=exc)
        except (OSError, ValueError, EOFError):  # the pipes broke: the worker ended
            if job is not None:
                _settle(job, error=WorkerGone(_how_it_ended(process, self.name)))
        except Exception as exc:
            # A reply that cannot be read (code changed under a running bot, a bug): this
            # call fails now rather than at its time limit, and the worker is replaced.
            if job is not None:
                _settle(job, error=WorkerGone(f"the {self.name}'s reply was unreadable: {exc!r}"))
        finally:
            for pipe in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with self._lock:
                self.finished = True
            self._fail_all(WorkerGone(f"the {self.name} stopped"))

    def _fail_all(self, error: Exception) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                _settle(job, error=error)


def _how_it_ended(process: subprocess.Popen[bytes], name: str) -> str:
    try:
        code = process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        return f"the {name} stopped answering"
    if code < 0:
        return f"the {name} was killed (signal {-code})"
    return f"the {name} exited with status {code}"


def _settle(
    job: _Job, *, result: tuple[str, Any, bool] | None = None, error: Exception | None = None
) -> None:
    """Hand the outcome to the waiting coroutine, in its own loop (we are in a thread)."""

    def deliver() -> None:
        if job.future.done():  # timed out or cancelled meanwhile
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)  # type: ignore[arg-type]

    with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
        job.loop.call_soon_threadsafe(deliver)


@dataclass(order=True)
class _Waiter:
    size: int
    seq: int
    loop: asyncio.AbstractEventLoop = field(compare=False)
    future: asyncio.Future[_Worker] = field(compare=False)


class WorkerPool:
    """Up to `workers` processes running `module`, each call under `timeout`, each worker's
    address space under `memory_limit`.

    Safe to share between event loops and threads; `close()` kills every worker at once
    (a later call starts new ones). Subclasses say what a call means (`ParsePool.parse`).
    """

    module = "news.parse_worker"
    name = "parse worker"
    max_reply = 64 * 1024 * 1024

    def __init__(self, workers: int, *, timeout: float, memory_limit: int) -> None:
        self.size = workers
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count()
        _POOLS.add(self)

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers alive now (for tests and diagnostics)."""
        with self._lock:
            workers = list(self._all)
        return [w.pid for w in workers if w.pid is not None and not w.killed]

    async def call(
        self, header: bytes, body: bytes, *, size: int = 0, limit: float | None = None
    ) -> tuple[str, Any]:
        """One request to a free worker: its ``(status, value)`` reply.

        Raises TimeoutError past ``limit`` seconds (the pool's timeout by default) and
        `WorkerGone` when the worker ended first; either way that worker is killed and later
        calls get a new one.
        """
        worker = await self._acquire(size)
        loop = asyncio.get_running_loop()
        job = _Job(header, body, loop, loop.create_future())
        reusable = False
        try:
            worker.submit(job)
            async with asyncio.timeout(self.timeout if limit is None else limit):
                status, value, retiring = await job.future
            reusable = not retiring
        finally:
            # A cancelled or overrun call leaves a busy worker: kill it rather than wait.
            self._release(worker, reusable)
        return status, value

    def stopped(self) -> Exception:
        """What a call still waiting for a worker gets when the pool is closed."""
        return WorkerGone(f"the {self.name}s were stopped: shutting down")

    def close(self) -> None:
        """Kill every worker now, busy or not; calls in flight fail, waiting ones too."""
        with self._lock:
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            waiting, self._waiting = self._waiting, []
        for worker in workers:
            worker.kill()
        for waiter in waiting:
            _hand_over_soon(waiter, None, self)

    async def _acquire(self, size: int) -> _Worker:
        loop = asyncio.get_running_loop()
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.usable:
                    return worker
                self._all.discard(worker)  # died while idle (killed from outside, OOM)
                worker.kill()
            if len(self._all) < self.size:
                return self._new_worker()
            waiter = _Waiter(size, next(self._seq), loop, loop.create_future())
            heapq.heappush(self._waiting, waiter)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
                    heapq.heapify(self._waiting)
            # Handed a worker just before the cancel reached us (the future was already done,
            # so the cancel could not undo it): give it back, or the pool has lost a worker
            # for good, and with one worker every later call would wait for ever.
            future = waiter.future
            if future.done() and not future.cancelled() and future.exception() is None:
                self._release(future.result(), reusable=True)
            raise

    def _new_worker(self) -> _Worker:
        """Under the lock: a new worker counted at once, its process started by its thread."""
        worker = _Worker(self.memory_limit, self.module, self.name, self.max_reply)
        self._all.add(worker)
        worker.start()
        return worker

    def _release(self, worker: _Worker, reusable: bool) -> None:
        if not reusable:
            worker.kill()
        with self._lock:
            if worker not in self._all:  # closed meanwhile
                return
            if not reusable:
                self._all.discard(worker)
            while self._waiting:
                waiter = heapq.heappop(self._waiting)
                if waiter.future.done():
                    continue
                handed = worker if reusable else self._new_worker()
                _hand_over_soon(waiter, handed, self)
                return
            if reusable:
                self._idle.append(worker)


def _hand_over_soon(waiter: _Waiter, worker: _Worker | None, pool: WorkerPool) -> None:
    """Give `worker` to a waiting call in its loop; back to the pool if it gave up meanwhile."""

    def hand_over() -> None:
        if worker is None:
            if not waiter.future.done():
                waiter.future.set_exception(pool.stopped())
        elif waiter.future.done():
            pool._release(worker, reusable=True)
        else:
            waiter.future.set_result(worker)

    try:
        waiter.loop.call_soon_threadsafe(hand_over)
    except RuntimeError:  # its loop is closed
        if worker is not None:
            pool._release(worker, reusable=True)


@atexit.register
def _kill_all_workers() -> None:
    for pool in list(_POOLS):
        pool.close()
