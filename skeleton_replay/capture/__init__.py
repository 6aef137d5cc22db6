"""Capture: the tracer backends and what they record."""

from __future__ import annotations

import sys
from typing import Protocol

from .gate import Gate
from .recorder import Budget, Recorder

HAS_SYSMON = sys.version_info >= (3, 12) and hasattr(sys, "monitoring")


class NoFreeToolId(RuntimeError):
    """Every sys.monitoring tool id is taken (by other tools): the sysmon backend cannot start."""


class Backend(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


def select_backend(recorder: Recorder, forced: str | None = None, gate: Gate | None = None) -> tuple[Backend, str]:
    """The backend for this interpreter, and why, in plain words (gate: record one context only)."""
    backend, reason = _select(recorder, forced, gate)
    if gate is None:  # gated captures (one web request) always run the Python callbacks
        from . import speedups

        reason = f"{reason}; {speedups.status()}"
    return backend, reason


def _select(recorder: Recorder, forced: str | None, gate: Gate | None) -> tuple[Backend, str]:
    if forced == "setprofile":
        from .setprofile import SetProfileBackend

        return SetProfileBackend(recorder, gate), "forced with --backend setprofile"
    if forced == "sysmon" and not HAS_SYSMON:
        raise ValueError(f"--backend sysmon needs Python 3.12+ (this is {sys.version.split()[0]})")
    if sys.version_info >= (3, 12) and HAS_SYSMON:  # (the version test, for mypy as 3.11: sysmon.py is 3.12+)
        from .sysmon import SysMonitoringBackend

        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return SysMonitoringBackend(recorder, gate), f"sys.monitoring is available (Python {version})"
    from .setprofile import SetProfileBackend

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return SetProfileBackend(recorder, gate), f"Python {version} has no sys.monitoring"


__all__ = ["HAS_SYSMON", "Backend", "Budget", "Gate", "NoFreeToolId", "Recorder", "select_backend"]
