"""Calls into storage are type-checked: mypy sees a misspelt keyword or a wrong type."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[2]

SNIPPET = """
from storage import Database
from storage import chats, feeds as feed_store


async def good(db: Database) -> None:
    removed = await db.run(feed_store.remove_feed, feed_id=3)
    reveal_type(removed)
    db.call(chats.get_chat, chat_id=1)


async def misspelt(db: Database) -> None:
    await db.run(feed_store.remove_feed, feed_idd=3)


async def wrong_type(db: Database) -> None:
    db.call(feed_store.remove_feed, feed_id="3")


async def missing(db: Database) -> None:
    await db.run(chats.get_chat)
"""


@pytest.mark.slow
def test_mypy_checks_storage_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's example, ``db.run(feed_store.remove_feed, feed_idd="3")``, is an error."""
    monkeypatch.chdir(ROOT)  # mypy finds the packages from the working directory
    source = tmp_path / "calls.py"
    source.write_text(textwrap.dedent(SNIPPET), encoding="utf-8")
    out, err, _status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-incremental",
            "--follow-imports=silent",
            str(source),
        ]
    )
    assert not err, err
    lines = out.splitlines()

    def at(line_text: str) -> list[str]:
        number = textwrap.dedent(SNIPPET).splitlines().index(line_text) + 1
        return [line for line in lines if f"calls.py:{number}:" in line]

    assert any("FeedInfo | None" in line for line in at("    reveal_type(removed)")), out
    assert not any("error" in line for line in at("    db.call(chats.get_chat, chat_id=1)")), out
    assert any(
        'Unexpected keyword argument "feed_idd"' in line
        for line in at("    await db.run(feed_store.remove_feed, feed_idd=3)")
    ), out
    assert any(
        "incompatible type" in line
        for line in at('    db.call(feed_store.remove_feed, feed_id="3")')
    ), out
    assert any(
        'Missing named argument "chat_id"' in line
        for line in at("    await db.run(chats.get_chat)")
    ), out
