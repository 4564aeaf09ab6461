"""An analysis worker process: `python -m news.analysis_worker PARENT_PID MEMORY_LIMIT`.

Started and fed by `news.analysis_pool`, with the frames, the death signal and the memory cap
of `news.parse_worker`. A request's header is the kind, ``b"analyse"`` (the body a pickled
list of `ItemText`) or ``b"summarise"`` (a pickled `SummaryRequest`); the reply is
``("ok", list[ItemAnalysis] | str, retiring)`` or ``("error", message, retiring)``.
"""

from __future__ import annotations

import pickle
import sys

from news.parse_worker import Reply, main, rss

# The classifier's tables and caches take ~60 MB; past this the caches are refilled by a
# fresh worker rather than kept growing.
RETIRE_RSS = 192 * 1024 * 1024


def handle(header: bytes, body: bytes) -> Reply:
    from news.analysis import analyse_items, summarise_report

    try:
        request = pickle.loads(body)
        if header == b"analyse":
            value: object = analyse_items(request)
        elif header == b"summarise":
            value = summarise_report(request)
        else:
            return ("error", f"unknown request {header[:40]!r}", False)
    except MemoryError:
        request = value = None  # let go of what can be freed before replying
        return ("error", "the analysis ran out of memory", True)
    except Exception as exc:  # a bug in a rule: this batch's error; a fresh worker next time
        return ("error", f"analysis failed: {exc!r}", True)
    return ("ok", value, rss() > RETIRE_RSS)


def preload() -> None:
    """Import the analysis and load the gazetteer, the lexicon and the morphology before the
    memory cap and outside any request's time limit."""
    import news.analysis  # noqa: F401
    from news.classify import classify_item

    classify_item("", "Президент Казахстана встретился с президентом Узбекистана.")


if __name__ == "__main__":
    main(sys.argv[1:], handle, preload)
