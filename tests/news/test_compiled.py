"""The classifier compiled with mypyc gives exactly the verdicts of its pure-Python sources.

`make` compiles the modules news/compiled.py lists where a C compiler exists; a machine
without one runs the sources. Users of either must get the same alerts.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from news.compiled import COMPILED_MODULES, compiled_modules
from tests.feedserver import FIXTURES
from tests.news.test_classify import NEGATIVES, POSITIVES

ROOT = Path(__file__).resolve().parents[2]

# Classifies the composed sentences of test_classify and every item of the fixture feeds,
# each dated and undated, and prints which modules were compiled, then one verdict per line.
SCRIPT = """
import json, sys
from datetime import UTC, date, datetime
from pathlib import Path
from news.classify import classify_item, to_json
from news.compiled import compiled_modules
from news.errors import FeedParseError
from news.parse import parse_feed

pairs, fixtures = json.loads(sys.stdin.read())
for name in fixtures:
    try:
        feed = parse_feed(Path(name).read_bytes(), {}, url="https://example.org/feed",
                          fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    except FeedParseError:  # the fixtures include feeds that are refused on purpose
        continue
    pairs += [(item.title, item.text) for item in feed.items]
print(json.dumps(compiled_modules()))
for n, (title, text) in enumerate(pairs):
    for day in (date(2025, 6, 1), None):
        result = classify_item(title, text, published=day)
        print(json.dumps([to_json(n, result), repr(result)], ensure_ascii=False))
"""


def _verdicts(pythonpath: Path) -> tuple[list[str], list[str]]:
    pairs = [(p[0], p[1]) for p in POSITIVES] + [(n[0], n[1]) for n in NEGATIVES]
    fixtures = [str(p) for p in sorted(FIXTURES.iterdir()) if p.suffix in (".xml", ".rss", ".atom")]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=json.dumps([pairs, fixtures]),
        capture_output=True,
        encoding="utf-8",
        cwd=pythonpath,
        env={"PYTHONPATH": str(pythonpath), "PYTHONIOENCODING": "utf-8", "PATH": "/usr/bin:/bin"},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    first, *lines = done.stdout.splitlines()
    return json.loads(first), lines


@pytest.mark.slow
def test_compiled_and_pure_classifiers_give_the_same_verdicts(tmp_path: Path) -> None:
    if not compiled_modules():
        pytest.skip("the classifier runs from its sources here (not compiled): nothing to compare")
    # The sources alone, without the compiled files beside them: what a machine without a
    # C compiler runs.
    shutil.copytree(ROOT / "news", tmp_path / "news", ignore=shutil.ignore_patterns("*.so"))
    compiled, compiled_lines = _verdicts(ROOT)
    pure, pure_lines = _verdicts(tmp_path)
    assert compiled == list(COMPILED_MODULES)
    assert pure == []
    assert len(compiled_lines) > 2 * (len(POSITIVES) + len(NEGATIVES))  # the fixtures' items too
    assert compiled_lines == pure_lines


def test_make_recompiles_every_compiled_module_when_its_source_changes() -> None:
    """The Makefile's NATIVE list (the install's prerequisites) names every compiled module."""
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^NATIVE := ((?:.*\\\n)*.*)$", makefile, re.M)
    assert found is not None
    native = set(found.group(1).replace("\\\n", " ").split())
    expected = {f"{m.replace('.', '/')}.py" for m in COMPILED_MODULES} | {"news/compiled.py"}
    assert native == expected
