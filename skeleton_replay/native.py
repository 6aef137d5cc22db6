"""The package's optional C extensions, loaded by one rule.

Every C extension of Skeleton is optional: where it was not compiled (no compiler at install
time) the pure-Python code next to it does the same work and writes the same bytes, only slower.
`SKELETON_PURE_PYTHON=1` turns every one of them off (tests compare the two paths; the benchmarks
measure both). Look a module up when the work starts, not at import, so the switch can change
between two runs of one process (the tests do).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def pure_python() -> bool:
    """SKELETON_PURE_PYTHON is set (to anything but "" or "0")."""
    return os.environ.get("SKELETON_PURE_PYTHON", "") not in ("", "0")


def load(name: str) -> ModuleType | None:
    """The compiled module `skeleton_replay.<name>` (e.g. "events._jsonw"), or None when it was not
    compiled here or SKELETON_PURE_PYTHON is set."""
    if pure_python():
        return None
    try:
        return importlib.import_module(f"skeleton_replay.{name}")
    except ImportError:
        return None
