"""Dump what the classifier and the report reading make of every corpus item, to compare the
dumps of two versions byte for byte (identical output is required of any speed-up).

Run: .venv/bin/python bench/classify_identical.py OUT  (then `cmp` OUT with the other dump)

Per item (bench/classify_corpus.py: dev.jsonl, dev2.jsonl, clusters_dev.jsonl, the feed
fixtures, generated word-salad feeds) and per way of asking (dated with the item's language;
undated without a language, as bench/classify.py asks; title alone; text alone): the
`coopwatch classify` object and the verdict's repr (notes and language included); for a
report of an event, `news.analysis.read_report` (facts, candidate, topics, terms) and
`news.summary.summarise`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from classify_corpus import CorpusItem, every_item

from news.analysis import ItemText, read_report
from news.candidates import is_event
from news.classify import classify_item, to_json
from news.summary import summarise


def readings(n: int, item: CorpusItem) -> list[str]:
    asked = {
        "dated": (item.title, item.text, item.published, item.language),
        "undated": (item.title, item.text, None, None),
        "title": (item.title, "", item.published, item.language),
        "text": ("", item.text, item.published, None),
    }
    lines = []
    for how, (title, text, published, language) in asked.items():
        result = classify_item(title, text, published=published, language=language)
        line = [item.source, how, json.dumps(to_json(n, result), ensure_ascii=False), repr(result)]
        if is_event(result):
            when = published or item.published
            report = read_report(ItemText(n, title, text, when, language), result)
            line += [
                repr(report.facts),
                repr(report.candidate),
                repr(report.topics),
                repr(sorted(report.terms)),
                summarise(title, text, language=result.language, countries=result.countries),
            ]
        lines.append("\t".join(line))
    return lines


def main() -> None:
    out = Path(sys.argv[1])
    items = positives = 0
    digest = hashlib.sha256()
    with out.open("w", encoding="utf-8") as f:
        for n, item in enumerate(every_item()):
            items += 1
            for line in readings(n, item):
                positives += line.count("\t") > 3
                f.write(line + "\n")
                digest.update(line.encode())
    print(f"{items} items, {items * 4} readings, {positives} reports read: {digest.hexdigest()}")


if __name__ == "__main__":
    main()
