"""The one JSON Lines reader: `coopwatch classify`, `coopwatch group` and `coopwatch eval`.

Each command answers a bad line its own way (an error object in its place, or a refusal of
the whole file), so the reader says what each line held and leaves the wording to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class JsonLine:
    """One input line: its number (from 1) and its value, or why it is not JSON."""

    number: int
    value: Any = None
    error: ValueError | None = None  # json.JSONDecodeError is a ValueError

    @property
    def item(self) -> dict[str, Any] | None:
        """The line's object; None when the line is not a JSON object."""
        return self.value if isinstance(self.value, dict) else None


def read_json_lines(lines: Iterable[str], *, skip_blank: bool = False) -> Iterator[JsonLine]:
    """Every line parsed, in order; ``skip_blank`` passes over empty lines."""
    import json

    for number, line in enumerate(lines, start=1):
        if skip_blank and not line.strip():
            continue
        try:
            yield JsonLine(number, json.loads(line))
        except ValueError as exc:
            yield JsonLine(number, error=exc)
