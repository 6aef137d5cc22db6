"""Skeleton: run a Python program under a runtime tracer and map its architecture."""
__version__ = "0.1.0"

from .options import Options, UsageError  # noqa: E402
from .session import RunResult, TraceSession, trace  # noqa: E402

__all__ = ["Options", "RunResult", "TraceSession", "UsageError", "__version__", "trace"]
