"""The package map of docs/design.md ("Packages and what may import what"), enforced.

Every import statement of each package is read from its source, those inside functions too
(the CLI imports lazily), so a rule cannot be broken by an import that only runs sometimes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "coopwatch", "handlers", "news", "storage")
DATABASE = frozenset({"sqlalchemy", "sqlmodel", "alembic"})
WEB = frozenset({"starlette", "uvicorn", "h11", "jinja2"})

# What each package must never import (top-level names).
FORBIDDEN: dict[str, frozenset[str]] = {
    # The core: feed bytes to events, with neither Telegram nor a database.
    "news": frozenset({"bot", "coopwatch", "handlers", "storage", "telegram"}) | DATABASE | WEB,
    # Tables and queries; it reads news' plain records, nothing above it.
    "storage": frozenset({"bot", "coopwatch", "handlers", "telegram"}) | WEB,
    # The Telegram-free application the bot, the CLI and the web share.
    "coopwatch": frozenset({"bot", "handlers", "telegram"}) | DATABASE | WEB,
    # Telegram handlers go through coopwatch and storage's functions, never SQL.
    "handlers": DATABASE | WEB,
    "bot": DATABASE,
}

# Known exceptions, each with the reason it still stands.
ALLOWED: dict[tuple[str, str], str] = {}


def imports_of(path: Path) -> set[str]:
    """The top-level names of every absolute import in a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_follow_the_map(package: str) -> None:
    broken = []
    for path in sorted((ROOT / package).rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        for name in sorted(imports_of(path) & FORBIDDEN[package]):
            if (where, name) not in ALLOWED:
                broken.append(f"{where} imports {name}")
    assert broken == []


def test_the_allowed_exceptions_are_still_needed() -> None:
    """An exception that no longer occurs is dropped, so the map stays exact."""
    for where, name in ALLOWED:
        assert name in imports_of(ROOT / where), f"{where} no longer imports {name}"


def coopwatch_modules_used_by(path: Path) -> set[str]:
    used: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coopwatch."):
            used.add(node.module or "")
        elif isinstance(node, ast.Import):
            used.update(a.name for a in node.names if a.name.startswith("coopwatch."))
    return used


def test_the_rest_goes_through_the_application_object() -> None:
    """Outside coopwatch/, only the application, its settings and the leader lease (which
    the bot's run holds) are used, not the application's parts: nothing else wires a poller
    or a pipeline (PollReport is a plain record of a poll)."""
    public = {"coopwatch.app", "coopwatch.settings", "coopwatch.leadership", "coopwatch.polling"}
    reached = {
        f"{path.relative_to(ROOT)}: {module}"
        for package in ("bot", "handlers")
        for path in (ROOT / package).rglob("*.py")
        for module in coopwatch_modules_used_by(path) - public
    }
    assert reached == set()
    polling_users = {
        path.relative_to(ROOT).as_posix()
        for package in ("bot", "handlers")
        for path in (ROOT / package).rglob("*.py")
        if "coopwatch.polling" in coopwatch_modules_used_by(path)
    }
    for where in polling_users:
        source = (ROOT / where).read_text(encoding="utf-8")
        assert "from coopwatch.polling import PollReport\n" in source, where


def test_only_storage_touches_the_database_libraries() -> None:
    users = {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if imports_of(path) & DATABASE
    }
    assert users and all(user.startswith("storage/") for user in users)


def test_design_notes_cited_in_the_code_exist() -> None:
    """A comment that sends the reader to a docs/design.md heading names a real one."""
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    headings = {line[3:].strip() for line in design.splitlines() if line.startswith("## ")}
    cited = re.compile(r'design\.md[,:]?\s+\(?"([^"]+)"')
    missing = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            # A citation may wrap over a comment or docstring line.
            text = re.sub(r"\s*\n\s*#?\s*", " ", path.read_text(encoding="utf-8"))
            missing += [
                f"{path.relative_to(ROOT)}: {title}"
                for title in cited.findall(text)
                if title not in headings
            ]
    assert missing == []
