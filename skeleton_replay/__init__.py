"""Skeleton: run a Python program under a runtime tracer and map its architecture.

PYTEST_DONT_REWRITE: `skeleton pytest` imports this package before pytest starts; pytest would
otherwise warn that it is already imported and cannot be rewritten (an error under -W error).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Entry",
    "Options",
    "RunLifecycle",
    "RunResult",
    "TraceSession",
    "TracedBlock",
    "UsageError",
    "__version__",
    "trace",
]

# Imported on first use, so `import skeleton_replay.integrations.pytest_plugin` (which pytest
# does in every run where skeleton-replay is installed) stays cheap.
_LAZY = {
    "Options": ".options",
    "UsageError": ".options",
    "RunResult": ".result",
    "TraceSession": ".session",
    "TracedBlock": ".session",
    "trace": ".session",
    "RunLifecycle": ".lifecycle",
    "Entry": ".lifecycle",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
