"""Event dates and grouping on labelled clusters: what `coopwatch group` and `/event` would show.

Usage: python bench/event_dates.py [PATH] [-v] [--gold-labels]
       (default: ../shared/data/clusters_dev.jsonl)

The file has the clusters_dev.jsonl fields (`id, cluster, date, title, text, event_date`).
Reports are fed in publication order (a partial `date` such as "2018-10" is passed as is:
`coopwatch group` takes it as undated, with that month as the year of the dates it states).
For each gold event whose reports state a full `event_date`, the event that holds most of its
reports is found and the date that event shows (`coopwatch export`, `/event`) is compared with
the gold date the event began on (the earliest full gold date among its reports). Printed:
the share of events whose shown date is that day (strict) and whose shown span contains it,
and B-cubed precision, recall and F1 of the grouping over all reports. With `--gold-labels`
the reports' gold label, type and parties replace the classifier's (its evidence is kept), which
shows what grouping and dates miss on their own.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "clusters_dev.jsonl"
sys.path.insert(0, str(ROOT))

from bench.grouping import bcubed  # noqa: E402
from news.group_stream import group_rows, read_rows  # noqa: E402
from news.grouping import Grouper  # noqa: E402
from news.records import Classification  # noqa: E402


def _group_input(item: dict[str, str]) -> str:
    row = {"id": item["id"], "title": item.get("title", ""), "text": item.get("text", "")}
    written = item.get("date") or ""
    if len(written) == 10:
        row["published"] = datetime.fromisoformat(written).replace(hour=12, tzinfo=UTC).isoformat()
    elif written:
        row["published"] = written  # "2021-10", "2025": published some time then
    return json.dumps(row, ensure_ascii=False)


def _full_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value and len(value) == 10 else None


def main(argv: Sequence[str]) -> None:
    verbose = "-v" in argv
    paths = [a for a in argv if not a.startswith("-")]
    path = Path(paths[0]) if paths else DEFAULT_DATA
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows, errors = read_rows(_group_input(it) for it in items)
    if errors:
        raise SystemExit(f"unreadable lines: {errors}")
    gold_by_id = {it["id"]: it for it in items}

    def gold_label(item_id: object, found: Classification) -> Classification:
        gold = gold_by_id[item_id]
        return replace(
            found,
            label=True,
            event_type=gold["event_type"],
            countries=tuple(sorted(gold["countries"])),
        )

    relabel = gold_label if "--gold-labels" in argv else None
    grouper = Grouper()
    done = {}
    states = {}  # each event as it stood after its last report (closed events are pruned)
    for grouped in group_rows(rows, grouper, relabel=relabel):
        done[grouped.item_id] = grouped
        if grouped.event:
            states[grouped.event] = grouper.event(grouped.event)
    predicted = [done[it["id"]].event for it in items]
    gold_keys = [it["cluster"] for it in items]
    precision, recall, f1 = bcubed(gold_keys, predicted)

    strict = within = scored = unseen = 0
    for cluster in dict.fromkeys(gold_keys):
        members = [it for it in items if it["cluster"] == cluster]
        golds = [d for d in (_full_date(it.get("event_date")) for it in members) if d]
        if not golds:
            continue
        scored += 1
        gold = min(golds)
        keys = Counter(done[it["id"]].event for it in members if done[it["id"]].event)
        if not keys:
            unseen += 1
            print(f"  {cluster}: gold {gold}, no report recognised as an event")
            continue
        # The event holding most reports; on a tie the one opened first by a dated report.
        key = max(keys, key=lambda k: (keys[k], states[k].date_stated, -list(states).index(k)))
        state = states.get(key)
        if state is None:
            continue
        start, end = state.start, state.end
        ok_strict = start == gold
        ok_within = start <= gold <= end
        strict += ok_strict
        within += ok_within
        if verbose or not ok_within:
            mark = "ok" if ok_within else "WRONG"
            print(f"  {cluster}: gold {gold}, shown {start}..{end} ({key}) {mark}")
            for it in members:
                g = done[it["id"]]
                stated = g.facts.date_text if g.facts else None
                print(f"      {it['id']} {it.get('date')} -> {g.event} stated {stated!r}")
    print(f"{len(items)} reports, {len(set(gold_keys))} gold events, {scored} with a stated date")
    print(
        f"event date: start = gold {strict}/{scored} ({strict / scored:.3f}), "
        f"span contains gold {within}/{scored} ({within / scored:.3f}), "
        f"{unseen} events not recognised"
    )
    shown, missed = len({p for p in predicted if p}), sum(p is None for p in predicted)
    print(f"grouping: {shown} predicted events, {missed} reports not events")
    print(f"B-cubed precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
