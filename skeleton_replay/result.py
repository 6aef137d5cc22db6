"""What a finished run returns (RunResult) and the session.json manifest written from it (docs/session.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .events.types import TraceEnd, TraceHeader
from .pipeline import SESSION, Artifacts

SESSION_FORMAT_VERSION = 1


@dataclass(kw_only=True)
class RunResult:
    """One traced run, once it is done: where its artifacts are and how the program ended."""

    out_dir: Path
    exit_code: int
    status: str  # ok, exception, exit, interrupted (events/types.py STATUSES)
    trace_path: Path | None = None
    snapshot_path: Path | None = None
    workflow_path: Path | None = None
    report_path: Path | None = None
    session_path: Path | None = None
    event_count: int = 0
    dropped_events: int = 0
    error: dict[str, Any] | None = None  # {"type", "message"}
    warnings: list[str] = field(default_factory=list)
    report_opened: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    child_process: bool = False  # True in a forked child: it wrote nothing; exit quietly with exit_code
    lost: str | None = None  # why no artifacts were written (output folder gone, disk full), else None


def result_from(arts: Artifacts, end: TraceEnd, opened: bool) -> RunResult:
    s = arts.snapshot["stats"]
    return RunResult(
        out_dir=arts.out_dir,
        trace_path=arts.trace_path,
        snapshot_path=arts.snapshot_path,
        workflow_path=arts.workflow_path,
        report_path=arts.report_path,
        exit_code=end.exit_code or 0,
        status=end.status,
        event_count=s["recorded_events"],
        dropped_events=s["dropped_events"],
        error=end.error,
        warnings=arts.warnings,
        report_opened=opened,
        metrics={
            "events": s["recorded_events"],
            "dropped_events": s["dropped_events"],
            "nodes": s["nodes"],
            "edges": s["edges"],
            "calls": s["calls"],
            "threads": len(s["threads"]),
            "scenarios": len(arts.snapshot.get("scenarios", ())),
        },
    )


def lost_result(out_dir: Path, end: TraceEnd, message: str) -> RunResult:
    """The program ran, but its artifacts could not be written (message: why)."""
    return RunResult(out_dir=out_dir, exit_code=end.exit_code or 0, status=end.status, error=end.error, lost=message)


def child_result(out_dir: Path, exit_code: int, status: str) -> RunResult:
    """A forked copy of the traced program ended: the parent writes the artifacts."""
    return RunResult(out_dir=out_dir, exit_code=exit_code, status=status, child_process=True)


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the program deleted its working directory
        return None


def session_manifest(header: TraceHeader, r: RunResult) -> dict[str, Any]:
    def p(x: Path | None) -> str | None:
        return str(x) if x is not None else None

    manifest: dict[str, Any] = {
        "format_version": SESSION_FORMAT_VERSION,
        "skeleton_version": __version__,
        "command": header.command,
        "invocation": header.invocation if header.invocation is not None else header.command,
        "cwd": _cwd(),
        "project_root": header.project_root,
        "target": header.target,
        "artifacts": {
            "out_dir": p(r.out_dir),
            "trace": p(r.trace_path),
            "snapshot": p(r.snapshot_path),
            "workflow": p(r.workflow_path),
            "report": p(r.report_path),
            "session": p(r.out_dir / SESSION),
        },
        "metrics": {**r.metrics},
        "exit_code": r.exit_code,
        "status": r.status,
        "error": r.error,
        "report_opened": r.report_opened,
        "backend": header.backend,
    }
    if header.request is not None:  # one traced web request (skeleton_replay.integrations)
        manifest["request"] = header.request
    return manifest
