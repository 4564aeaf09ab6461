"""The classifier's hot modules, compiled with mypyc where a C compiler and Python's headers
exist; elsewhere the package installs as pure Python, which behaves the same, only slower.

Everything else about the package is in pyproject.toml. Why: docs/design.md, "The classifier's
modules are compiled with mypyc where a C compiler exists".
"""

from __future__ import annotations

import os
import runpy
import shutil
import sysconfig
from pathlib import Path

from setuptools import setup

# The list lives in the package (news/compiled.py), which also tells the bot and the tests
# whether the compiled files are current; it imports only the standard library.
_LISTED = runpy.run_path(str(Path(__file__).parent / "news" / "compiled.py"))["COMPILED_MODULES"]
COMPILED = [f"{module.replace('.', '/')}.py" for module in _LISTED]


def can_compile() -> bool:
    """A C compiler and Python's headers; COOPWATCH_PURE=1 asks for the pure-Python modules."""
    if os.environ.get("COOPWATCH_PURE", "") not in ("", "0"):
        return False
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return shutil.which(compiler) is not None and headers.exists()


def ext_modules() -> list[object]:
    if not can_compile():
        return []
    from mypyc.build import mypycify

    # Not pyproject.toml's [tool.mypy]: its pydantic plugin is not in the build environment,
    # and these modules need none of it (`make lint` type-checks them strictly anyway).
    options = ["--config-file=", "--ignore-missing-imports", "--python-version=3.11"]
    # One shared library for the group, named rather than hashed, beside the package folders.
    compiled = mypycify(
        [*options, *COMPILED], opt_level="3", debug_level="0", group_name="coopwatch_native"
    )
    return list(compiled)


setup(ext_modules=ext_modules())
