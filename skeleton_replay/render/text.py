"""Short one-line text for safe summaries and run summaries (shared by workflow.md, the CLI and the pytest plugin)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

_SHORT = 40


class RunOutcome(Protocol):
    """What run_summary reads of a finished run (session.RunResult); render does not import session."""

    @property
    def out_dir(self) -> Path: ...
    @property
    def trace_path(self) -> Path | None: ...
    @property
    def snapshot_path(self) -> Path | None: ...
    @property
    def workflow_path(self) -> Path | None: ...
    @property
    def report_path(self) -> Path | None: ...
    @property
    def event_count(self) -> int: ...
    @property
    def dropped_events(self) -> int: ...
    @property
    def report_opened(self) -> bool: ...
    @property
    def metrics(self) -> Mapping[str, Any]: ...
    @property
    def lost(self) -> str | None: ...


def short(s: object, limit: int = _SHORT) -> str:
    """A value summary (a dict written by capture/summarise.py) in a few characters; "?" for anything else."""
    if not isinstance(s, dict):
        return "?"
    t = s.get("type", "?")
    if s.get("redacted"):
        n = f" len={s['len']}" if "len" in s else ""
        return f"<redacted {t}{n}>"
    if "value" in s:
        v = s["value"]
        if t == "str":  # repr() shows a newline as \n itself: escaping it first would double the backslash
            text = _cut(str(v).replace("`", "'"), limit)
            more = f"…({s['len']})" if s.get("truncated") else ""
            return repr(text) + more
        if t in ("bytes", "bytearray"):
            return f"{t}(len={s.get('len', '?')})"
        return _clip(str(v), limit)
    if "items" in s or "entries" in s or "len" in s:
        n = s.get("len", "?")
        if "items" in s:
            inner = ", ".join(short(i, 12) for i in s["items"][:3])
            more = ", …" if s.get("len", 0) > 3 else ""
            return f"{t}[{inner}{more}]" if n else f"{t}[]"
        if "entries" in s:
            inner = ", ".join(f"{short(k, 12)}: {short(v, 12)}" for k, v in s["entries"][:3])
            more = ", …" if s.get("len", 0) > 3 else ""
            return f"{{{inner}{more}}}"
        return f"{t}(len={n})"
    if "id" in s:
        return f"<{t.rsplit('.', 1)[-1]} #{s['id']}>"
    if t == "None":
        return "None"
    return f"<{t}>"


def args_text(args: Any, limit: int = 100) -> str:
    if not isinstance(args, dict):
        return ""
    text = ", ".join(f"{k}={short(v)}" for k, v in args.items())
    return _clip(text, limit)


def _clip(text: str, limit: int) -> str:
    return _cut(text.replace("\n", "\\n").replace("`", "'"), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_summary(result: RunOutcome, cap_option: str = "--max-events") -> list[str]:
    """The lines printed at the end of a run (a RunResult): counts, where the artifacts are, the report."""
    if result.lost:  # the program ran; only Skeleton's output is gone
        return [f"error: {result.lost}"]
    lines = []
    errors = result.metrics.get("tracer_errors", 0)
    if errors:
        lines.append(
            f"warning: {errors:,} errors inside Skeleton's tracer were contained (the program was not "
            f"affected); see 'Limits and gaps' in {result.workflow_path}"
        )
    dropped = (
        (f", {result.dropped_events:,} not recorded (past {cap_option} or its recording budgets; counted on edges)")
        if result.dropped_events
        else ""
    )
    tests = f"{result.metrics['scenarios']:,} tests, " if result.metrics.get("scenarios") else ""
    names = [p.name for p in (result.report_path, result.workflow_path, result.snapshot_path, result.trace_path) if p]
    lines.append(
        f"{result.event_count:,} events recorded{dropped}; {tests}{result.metrics.get('nodes', 0)} nodes, "
        f"{result.metrics.get('edges', 0)} edges"
    )
    lines.append(f"artifacts in {result.out_dir}: {', '.join(names)}")
    if result.report_path is not None:
        lines.append(f"report: {result.report_path.resolve().as_uri()}" + (" (opened)" if result.report_opened else ""))
    return lines
