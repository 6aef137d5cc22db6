"""A run's timeline as Chrome trace-event JSON, for Perfetto (ui.perfetto.dev) and chrome://tracing.

One "X" (complete) event per stretch of a call on a thread: a plain call is one X from its call
to its return; a generator or coroutine is one X per stretch it ran (call or resume, to yield or
return). `ts`/`dur` are microseconds from the trace's first event, `pid` 1, `tid` the run-local
thread number, `name` the function's qualified name, `cat` its module, `args` the call's value
summaries (already redacted when the trace was written) and its event ids. "M" events name the
process and the threads.

Stretches nest per thread (a stack). Within a window or a test, a stretch that began before it
starts at the selection's first event (`args.started_before: true`), one still running at the end
ends at the selection's last event (`args.unfinished: true`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..events.types import CALL, EXCEPTION, RESUME, RETURN, YIELD, Endpoint, summary
from ..options import UsageError
from .select import Window

if TYPE_CHECKING:
    from ..events.jsonl import TraceContents

TraceEvent = dict[str, Any]  # one Chrome trace event: {"ph", "name", "ts", "pid", "tid", "args", ...}


class _Close(Protocol):
    def __call__(self, x: TraceEvent, t: int, **extra: Any) -> None: ...


def _us(t_ns: int) -> float:
    return round(t_ns / 1000, 3)


def _name(ep: Endpoint) -> str:
    return ep.qualified_name or ep.function


def timeline(trace: Path, window: Window | None = None, scenario: str | None = None) -> dict[str, Any]:
    from ..events.jsonl import TraceFormatError, read_trace

    try:
        contents, events = read_trace(trace)
    except (TraceFormatError, OSError) as exc:
        raise UsageError(f"cannot read {trace}: {exc}") from None
    out: list[TraceEvent] = []
    stacks: dict[int, list[TraceEvent]] = {}  # thread -> open stretches (X events without dur yet)
    thread_names: dict[int, str] = {}
    first_t: int | None = None
    last_t: int | None = None  # None: no event selected
    stop = window.last if window is not None else None

    def close(x: TraceEvent, t: int, **extra: Any) -> None:
        x["dur"] = max(round(_us(t) - x["ts"], 3), 0.0)
        x["args"].update(extra)
        out.append(x)

    try:
        for ev in events:
            if ev.thread_name is not None:
                thread_names.setdefault(ev.thread, ev.thread_name)
            if stop is not None and ev.order > stop:
                break
            if (window is not None and ev.order not in window) or (scenario is not None and ev.scenario != scenario):
                continue
            first_t = ev.t_ns if first_t is None else first_t
            last_t = ev.t_ns
            stack = stacks.setdefault(ev.thread, [])
            if ev.kind in (CALL, RESUME):
                args: dict[str, Any] = {
                    "event": ev.order,
                    "call": ev.call_id,
                    "node": ev.callee.node_id,
                    "caller": ev.caller.node_id if ev.caller is not None else None,
                }
                if ev.kind == CALL:
                    if ev.detail is not None:
                        args["args"] = summary(ev.detail)
                else:
                    args["resumed"] = True
                    if ev.detail is not None:
                        args["thrown"] = summary(ev.detail)
                if ev.scenario is not None:
                    args["test"] = ev.scenario
                stack.append(
                    {
                        "ph": "X",
                        "name": _name(ev.callee),
                        "cat": ev.callee.module,
                        "ts": _us(ev.t_ns),
                        "pid": 1,
                        "tid": ev.thread,
                        "args": args,
                    }
                )
                continue
            extra: dict[str, Any] = (
                {"return_value": summary(ev.detail)}
                if ev.kind == RETURN
                else {"exception": summary(ev.detail)}
                if ev.kind == EXCEPTION
                else {"yielded": summary(ev.detail)}
                if ev.kind == YIELD
                else {}
            )
            extra["end_event"] = ev.order
            depth = next((i for i in range(len(stack) - 1, -1, -1) if stack[i]["args"]["call"] == ev.call_id), None)
            if depth is None:  # began before the selection: it started at the selection's first event
                x = {
                    "ph": "X",
                    "name": _name(ev.callee),
                    "cat": ev.callee.module,
                    "ts": _us(first_t),
                    "pid": 1,
                    "tid": ev.thread,
                    "args": {"call": ev.call_id, "node": ev.callee.node_id, "started_before": True},
                }
                _close_all(stack, ev.t_ns, close)
                close(x, ev.t_ns, **extra)
                continue
            while len(stack) > depth + 1:  # inner stretches whose end was not recorded
                close(stack.pop(), ev.t_ns, unfinished=True)
            close(stack.pop(), ev.t_ns, **extra)
    except TraceFormatError as exc:
        raise UsageError(f"{exc}") from None
    finally:
        events.close()
    if last_t is None:
        return _document(contents, [], thread_names)
    for stack in stacks.values():
        _close_all(stack, last_t, close)
    out.sort(key=lambda x: (x["tid"], x["ts"], -x["dur"]))
    return _document(contents, out, thread_names)


def _close_all(stack: list[TraceEvent], t: int, close: _Close) -> None:
    while stack:
        close(stack.pop(), t, unfinished=True)


def _document(contents: TraceContents, xs: list[TraceEvent], thread_names: dict[int, str]) -> dict[str, Any]:
    header, end = contents.header, contents.end or {}
    for t in end.get("threads") or []:
        if isinstance(t, dict) and isinstance(t.get("id"), int):
            thread_names.setdefault(t["id"], str(t.get("name")))
    tids = sorted({x["tid"] for x in xs} | set(thread_names))
    meta = [
        {
            "ph": "M",
            "name": "process_name",
            "ts": 0,
            "pid": 1,
            "tid": tids[0] if tids else 1,
            "args": {"name": f"skeleton: {header.get('app_name') or 'run'}"},
        }
    ]
    meta += [
        {
            "ph": "M",
            "name": "thread_name",
            "ts": 0,
            "pid": 1,
            "tid": tid,
            "args": {"name": thread_names.get(tid, f"thread {tid}")},
        }
        for tid in tids
    ]
    return {
        "traceEvents": meta + xs,
        "displayTimeUnit": "ms",
        "otherData": {
            "app_name": header.get("app_name"),
            "started_at": header.get("started_at"),
            "skeleton_version": header.get("skeleton_version"),
            "python_version": header.get("python_version"),
            "backend": header.get("backend"),
        },
    }
