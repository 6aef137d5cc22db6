"""Gated capture: record only the code running in one context (one web request).

A Gate pairs a ContextVar with a token: the callbacks record only where
`var.get() is token`. A ContextVar works for threads (each has its own value) and
for asyncio tasks (each task runs in a copy of its creator's context, so child
tasks inherit the request; other requests' tasks do not).

sys.monitoring is process-wide, so the gate is checked inside the callbacks. The
wrappers (sysmon.gate_sysmon_callbacks: sys.monitoring exists on 3.12+ only) never
return DISABLE for a closed gate: DISABLE switches a code location
off for every thread until restart_events(). The only exception is code outside
the project, which no request ever traces (the same answer the ungated callback
gives). Ungated runs never see these wrappers: `skeleton run` keeps its callbacks.
"""

from __future__ import annotations

import sys

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import getattr
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any


@dataclass(frozen=True)
class Gate:
    var: ContextVar[Any]  # only the identity of its value counts (is token)
    token: object

    def is_open(self) -> bool:
        return self.var.get(None) is self.token


def gated_getframe(extra: int) -> Callable[..., Any]:
    """sys._getframe for callbacks called through `extra` more Python frames (the gate wrapper)."""
    getframe = sys._getframe

    def frame_at(depth: int = 0) -> FrameType:
        return getframe(depth + 1 + extra)

    return frame_at


def gate_profiler(profiler: Callable[..., Any], gate: Gate, stopped: list[bool], previous: Any) -> Callable[..., Any]:
    """Wrap a sys.setprofile function for one thread.

    Where the gate is closed, the event goes to the previous hook when that is another
    gated hook (two traced requests on one event loop thread stack their hooks). Once
    stopped, the hook removes itself when it is the thread's current one; further down
    a stack it only passes events on, until the hooks above it are gone.
    """
    get = gate.var.get
    token = gate.token
    setprofile = sys.setprofile
    getprofile = sys.getprofile
    chained = previous if getattr(previous, "skeleton_gated", False) else None

    def gated(frame: FrameType, event: str, arg: Any) -> Any:
        if get(None) is token:
            return profiler(frame, event, arg)
        if stopped[0] and getprofile() is gated:  # stop() could not uninstall it (another thread, or not on top)
            setprofile(previous)
        if chained is not None:
            return chained(frame, event, arg)
        return None

    gated.skeleton_gated = True  # type: ignore[attr-defined]
    return gated
