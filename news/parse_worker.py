"""A parse worker process: `python -m news.parse_worker PARENT_PID MEMORY_LIMIT`.

Started and fed by `news.parse_pool`. It reads requests from stdin and writes replies to
stdout, each one frame: 8 bytes of big-endian length, then the bytes. A request is a pickled
header `(url, headers, fetched_at, body_length)` followed by the raw body in a second frame;
a reply is a pickled `(status, value, retiring)`: ("ok", ParsedFeed) or ("error",
FeedParseError), `retiring` True when the worker exits after this reply.

It dies with its parent (issue 18): a death signal set with prctl on Linux, and on any system
a once-a-second check that the parent is still the one that started it. Its address space is
capped with RLIMIT_AS, so a hostile feed ends in a MemoryError here instead of swapping the
host; after one the worker replies and exits, and the pool starts a fresh one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import resource
import signal
import struct
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

_FRAME = struct.Struct(">Q")
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# After a big feed, glibc keeps the freed memory; a fresh worker is the sure way to give it back.
RETIRE_RSS = 64 * 1024 * 1024


def die_with_parent(parent_pid: int) -> None:
    """Exit when `parent_pid` is no longer our parent (it died and we were re-parented)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the check below still works
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)

    def check_parent(signum: int, frame: object) -> None:
        if os.getppid() != parent_pid:
            os._exit(0)

    signal.signal(signal.SIGALRM, check_parent)
    signal.setitimer(signal.ITIMER_REAL, 1.0, 1.0)


def rss() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
    except MemoryError:  # still at the cap: certainly time to retire
        return sys.maxsize


def read_frame(stream: BinaryIO, limit: int = 64 * 1024 * 1024) -> bytes | None:
    """One frame, or None at the end of the stream or for a frame longer than `limit`."""
    head = stream.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (length,) = _FRAME.unpack(head)
    if length > limit:
        return None
    data = stream.read(length)
    if len(data) < length:
        return None
    return data


def write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_FRAME.pack(len(data)))
    stream.write(data)
    stream.flush()


Reply = tuple[str, Any, bool]  # (status, value, retiring)
Handler = Callable[[bytes, bytes], Reply]


def serve(requests: BinaryIO, replies: BinaryIO, handle: Handler | None = None) -> None:
    """Answer requests until stdin closes or a reply says the worker retires.

    ``handle`` turns one request (header, body) into its reply; feed parsing by default.
    """
    handle = handle or parse_request
    while True:
        header = read_frame(requests)
        body = read_frame(requests) if header is not None else None
        if header is None or body is None:
            return
        reply = handle(header, body)
        del body
        write_frame(replies, pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
        if reply[2]:
            return


def parse_request(header: bytes, body: bytes) -> Reply:
    """One feed: ("ok", ParsedFeed) or ("error", FeedParseError)."""
    from news.errors import FeedParseError, ParseLimitError
    from news.parse import parse_feed

    url, headers, fetched_at, _length = pickle.loads(header)
    reply: Reply
    try:
        parsed = parse_feed(body, headers, url=url, fetched_at=fetched_at)
        reply = ("ok", parsed, rss() > RETIRE_RSS)
    except MemoryError:
        parsed = None  # let go of whatever can be freed before building the reply
        reply = ("error", ParseLimitError(memory_message()), True)
    except FeedParseError as exc:
        reply = ("error", exc, rss() > RETIRE_RSS)
    except Exception as exc:  # a bug in parsing is this feed's error, not the worker's end
        reply = ("error", FeedParseError(f"parsing failed: {exc!r}"), True)
    return reply


def memory_message() -> str:
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    size = f"{limit / 1024 / 1024:g} MiB" if limit > 0 else "its memory limit"
    return f"the feed needs more than {size} of memory to parse; refused"


def main(
    argv: list[str], handle: Handler | None = None, preload: Callable[[], object] | None = None
) -> None:
    """Run a worker: ``handle`` answers each request (feed parsing by default); ``preload``
    imports and loads what every request needs, before the memory cap (the cap is for the
    request, not for the code)."""
    parent_pid, memory_limit = int(argv[0]), int(argv[1])
    die_with_parent(parent_pid)
    # Ctrl-C in a terminal reaches the whole process group; the parent stops us itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Frames go through private copies of stdin/stdout; whatever a library prints goes to
    # stderr instead of corrupting the replies.
    requests = os.fdopen(os.dup(0), "rb")
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    if preload is None:
        import news.parse  # noqa: F401
    else:
        preload()
    if memory_limit > 0:
        with contextlib.suppress(ValueError, OSError):  # a lower hard limit stays
            resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    try:
        serve(requests, replies, handle)
    except MemoryError:  # while replying: the pool reports the worker's end to the caller
        pass
    finally:
        # The default SIGALRM action is to die; it must not meet us in interpreter shutdown.
        signal.setitimer(signal.ITIMER_REAL, 0)


if __name__ == "__main__":
    main(sys.argv[1:])
