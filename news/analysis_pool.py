"""Item analysis (`news.analysis`) in a worker process, or in a thread when processes are off.

The process that polls is the one that stores items and groups reports; classifying and
reading them in the same process left the second core idle while that process ran flat out.
In a worker, the analysis of one feed's items runs while the poller fetches, stores and groups
the next ones (issue 14). The worker loads the classifier's tables once (~60 MB) and is
capped like a parse worker; a batch that runs over its time limit or kills its worker raises
`AnalysisError`, and the pipeline leaves those items to the classification backlog.
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Sequence
from typing import Protocol

from news.analysis import (
    ItemAnalysis,
    ItemText,
    SummaryRequest,
    analyse_items,
    summarise_report,
)
from news.worker_pool import WorkerGone, WorkerPool

# Items per request: a feed's new items are one request; a backlog of thousands is several,
# each with its own time limit.
BATCH = 100
# Per request. A hundred real items take ~0.1 s; the classifier reads at most the first
# 3,000 characters of an item, so only a bug in a rule could take this long.
ANALYSIS_TIMEOUT = 60.0
# The worker's address space: ~60 MB of it is the classifier's tables, the rest its caches.
MEMORY_LIMIT = 512 * 1024 * 1024


class AnalysisError(Exception):
    """A batch could not be analysed (time limit, worker gone, a bug in a rule)."""


class Analyser(Protocol):
    """What the event pipeline needs: the analysis of items, the summary of a new event."""

    async def analyse(self, items: Sequence[ItemText]) -> list[ItemAnalysis]: ...

    async def summarise(self, request: SummaryRequest) -> str: ...


class ThreadAnalyser:
    """In this process, off the event loop (tests, and a bot started without workers)."""

    async def analyse(self, items: Sequence[ItemText]) -> list[ItemAnalysis]:
        return await asyncio.to_thread(analyse_items, items)

    async def summarise(self, request: SummaryRequest) -> str:
        return await asyncio.to_thread(summarise_report, request)


class AnalysisPool(WorkerPool):
    """Analyses items in `workers` processes (one by default: the other core polls)."""

    module = "news.analysis_worker"
    name = "analysis worker"
    max_reply = 64 * 1024 * 1024

    def __init__(
        self,
        workers: int = 1,
        *,
        timeout: float = ANALYSIS_TIMEOUT,
        memory_limit: int = MEMORY_LIMIT,
    ) -> None:
        super().__init__(workers, timeout=timeout, memory_limit=memory_limit)

    async def analyse(self, items: Sequence[ItemText]) -> list[ItemAnalysis]:
        found: list[ItemAnalysis] = []
        for start in range(0, len(items), BATCH):
            batch = list(items[start : start + BATCH])
            value = await self._request(b"analyse", batch, first=False)
            if not isinstance(value, list) or len(value) != len(batch):
                raise AnalysisError("the analysis worker answered with the wrong number of items")
            found.extend(value)
        return found

    async def summarise(self, request: SummaryRequest) -> str:
        # Asked while the pipeline holds its grouping lock: ahead of the batches waiting.
        value = await self._request(b"summarise", request, first=True)
        if not isinstance(value, str):
            raise AnalysisError("the analysis worker answered a summary with something else")
        return value

    async def _request(self, kind: bytes, request: object, *, first: bool) -> object:
        body = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            # Waiting requests take the worker smallest size first, then in the order they
            # came: all batches alike, a summary before them.
            status, value = await self.call(kind, body, size=-1 if first else 0)
        except TimeoutError:
            raise AnalysisError(f"the analysis took longer than {self.timeout:g} s") from None
        except WorkerGone as exc:
            raise AnalysisError(str(exc)) from exc
        if status != "ok":
            raise AnalysisError(str(value))
        return value

    def stopped(self) -> Exception:
        return AnalysisError("the analysis stopped: shutting down")
