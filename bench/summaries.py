"""Summaries: does the first sentence name both parties and the event?

Usage: python bench/summaries.py [PATH ...] [-v]
       (default: ../shared/data/dev.jsonl ../shared/data/dev2.jsonl)

For every positive (label true, not doubtful) the alert's summary is built as the pipeline
builds it (`summarise` with the classifier's parties), and its first sentence alone is read by
the classifier's gazetteer: it counts when that sentence names both gold parties (by country,
demonym, capital or a known official) and an event word (visit, talks, call, signing), whether
or not the classifier would call the sentence alone an event (`sentence_mentions` reads the
sentence's own gazetteer mentions and trigger words; until issue 17 it read the classifier's
evidence, which lists mentions only for a sentence with two anchored parties, so a capital
named as the host, "talks in Moscow", never counted). Printed: the share (with the
classifier's parties, as the pipeline runs; and with the gold parties, which separates the
summary's choice from the classifier's misses), the longest summary, the misses with `-v`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from news.classify import classify_item  # noqa: E402
from news.summary import sentence_mentions, summarise  # noqa: E402
from news.text import split_sentences  # noqa: E402


def first_sentence(summary: str) -> str:
    sentences = split_sentences(summary)
    return sentences[0] if sentences else summary


def names_event(sentence: str, countries: Sequence[str], language: str) -> bool:
    """True when `sentence` alone names both gold parties and an event word."""
    named, event = sentence_mentions(sentence, language)
    return event and set(countries) <= named


def main(argv: Sequence[str]) -> None:
    verbose = "-v" in argv
    paths = [Path(a) for a in argv if not a.startswith("-")] or [
        DATA / "dev.jsonl",
        DATA / "dev2.jsonl",
    ]
    total = good = good_gold = longest = 0
    by_language: dict[str, list[int]] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if not item.get("label") or item.get("doubtful"):
                continue
            language = item.get("language") or "en"
            title, text = item.get("title", ""), item["text"]
            found = classify_item(title, text, language=language)
            summary = summarise(title, text, language=language, countries=found.countries)
            ok = names_event(first_sentence(summary), item["countries"], language)
            gold = summarise(title, text, language=language, countries=item["countries"])
            good_gold += names_event(first_sentence(gold), item["countries"], language)
            total += 1
            good += ok
            longest = max(longest, len(summary))
            counts = by_language.setdefault(language, [0, 0])
            counts[0] += ok
            counts[1] += 1
            if verbose and not ok:
                print(f"  {item['id']} {item['countries']}: {summary}")
    print(f"{total} positives: first sentence names both parties and the event in {good}")
    print(f"share {good / total:.3f}; longest summary {longest} chars")
    print(f"with the gold parties: {good_gold} ({good_gold / total:.3f})")
    for language, (ok_count, count) in sorted(by_language.items()):
        print(f"  {language}: {ok_count}/{count} ({ok_count / count:.3f})")


if __name__ == "__main__":
    main(sys.argv[1:])
