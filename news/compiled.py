"""The classifier's modules that setup.py compiles with mypyc, and whether the compiled files
are current.

Where a C compiler is present, `make` (pip install) compiles these modules into extension
files beside their sources, which Python imports in preference to the sources: the same code,
about twice as fast (issue 14; docs/design.md). An extension older than its source is code that
no longer exists: `make` rebuilds it, and `stale_modules` lets the test suite and the bot say
so when it was not run. This module imports only the standard library: setup.py reads it
before the package is installed.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

# Pure functions over strings, dicts and sets, run per word or per sentence: the classifier's
# text cleaning, tokens, phrase matching, sentence reading and item rules. Not news/records.py,
# nor the report reading's modules: their frozen dataclasses cross the workers' pipes, and a
# frozen dataclass compiled by mypyc cannot be unpickled.
COMPILED_MODULES = (
    "news.text",
    "news.sentence",
    "news.classify",
    "news.item",
    "news.gazetteer",
    "news.language",
)


def source_path(module: str) -> Path:
    """The module's source file in this source tree."""
    return Path(__file__).resolve().parent.parent.joinpath(*module.split(".")).with_suffix(".py")


def extension_path(module: str) -> Path | None:
    """The compiled file Python would import for ``module``, or None when it imports the source."""
    spec = importlib.util.find_spec(module)
    if spec is None or not isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
        return None
    return Path(str(spec.origin))


def compiled_modules() -> list[str]:
    """Those of COMPILED_MODULES that are imported from an extension file."""
    return [m for m in COMPILED_MODULES if extension_path(m) is not None]


def stale_modules() -> list[str]:
    """Compiled modules whose source changed after they were compiled: run `make` again."""
    stale = []
    for module in COMPILED_MODULES:
        extension = extension_path(module)
        source = source_path(module)
        if extension and source.exists() and source.stat().st_mtime > extension.stat().st_mtime:
            stale.append(module)
    return stale
