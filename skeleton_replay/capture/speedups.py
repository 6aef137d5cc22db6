"""The optional C fast paths (_speedups.c), when they were compiled and are wanted.

`SKELETON_PURE_PYTHON=1` runs the pure-Python callbacks only (tests compare the two;
the benchmarks measure both). Both write the same records.
"""

from __future__ import annotations

import os
import time
import weakref

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import AttributeError
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import origin
from . import records as R

if TYPE_CHECKING:
    from .recorder import Recorder

_is_tracing: Callable[[], bool] | None
try:
    import _tracemalloc

    _is_tracing = _tracemalloc.is_tracing
except ImportError:  # pragma: no cover - CPython always has it
    _is_tracing = None


def load() -> ModuleType | None:
    if os.environ.get("SKELETON_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _speedups  # type: ignore[attr-defined]  # a C extension (_speedups.c), no stubs
    except ImportError:  # not compiled here (no compiler at install time): the Python callbacks do it all
        return None
    module: ModuleType = _speedups
    return module


def status() -> str:
    """One phrase for the trace header: which implementation of the callbacks ran."""
    if os.environ.get("SKELETON_PURE_PYTHON", "") not in ("", "0"):
        return "pure Python (SKELETON_PURE_PYTHON)"
    return "C fast paths" if load() is not None else "pure Python (C fast paths not compiled)"


def hooks(
    rec: Recorder,
    py_start: Callable[..., Any],
    py_return: Callable[..., Any],
    py_yield: Callable[..., Any] | None = None,
    py_resume: Callable[..., Any] | None = None,
) -> Any | None:
    """The C fast paths over this Recorder's state (None when not compiled or not wanted).

    py_start / py_return (/ py_yield / py_resume, sys.monitoring): the Python callbacks that
    handle what the C code hands back.
    """
    fast = load()
    if fast is None:
        return None
    tls, new_thread = rec.tls, rec.new_thread

    def thread_state() -> list[Any]:
        try:
            p: list[Any] = tls.p
        except AttributeError:
            return new_thread()
        return p

    b = rec.budget
    if rec.object_addrs is None:
        rec.object_addrs = fast.AddrSet()  # filled with the keys of rec.objects by Hooks, then by object_id
    h = fast.Hooks(
        table=rec.table,
        buf=rec.buf,
        counts=rec.counts,
        state=rec.state,
        mode=rec.mode,
        objects=rec.objects,
        overflow=rec.overflow,
        thread_state=thread_state,
        receiver_id=rec.receiver_id,
        summarise_args=rec.summarise_args,
        summarise_value=rec.summarise_return,
        summaries=rec.fast_summaries,  # its args_json/result_json called by the hooks themselves
        args_failed=rec.args_failed,
        now=time.perf_counter_ns,
        flush=rec.flush,
        gap=rec.gap,
        py_start=py_start,
        py_return=py_return,
        kind_call=R.CALL,
        kind_return=R.RETURN,
        span=R.NODE_KEY_SPAN,
        first_calls=b.first_calls,
        per_code=b.per_code,
        sample_every=b.sample_every,
        limit=rec.limit,
        py_yield=py_yield,
        py_resume=py_resume,
        kind_yield=R.YIELD,
        kind_resume=R.RESUME,
        inits=rec.inits,
        foreign=origin.PREFIXES,
        is_tracing=_is_tracing,
        reserve=rec.reserve,
        importing=rec.importing,
        first_per_edge=b.first_per_edge,
        rows=rec.spill.row_queue(),  # event records as rows, not tuples (None: tuples, packed in Python)
        addrs=rec.object_addrs,
    )
    rec.count_tables.append(weakref.ref(h))  # its counts of edges go to the dicts at each checkpoint (counting.py)
    return h
