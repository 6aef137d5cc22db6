"""Which calls an export shows: the whole run, one test (--scenario), an event window (--window).

The result is always the same shape: calls per (caller node id, callee node id) of the snapshot,
root calls coming from `scenario:run`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..options import UsageError

RUN = "scenario:run"
_WINDOW = re.compile(r"\s*(?:[Ee]?(\d{1,18}))?\s*(:)?\s*(?:[Ee]?(\d{1,18}))?\s*")


@dataclass(frozen=True)
class Window:
    """Events E<first>..E<last>, both included; None = open end."""

    first: int | None
    last: int | None

    def __contains__(self, order: int) -> bool:
        return (self.first is None or order >= self.first) and (self.last is None or order <= self.last)

    def describe(self) -> str:
        a = "" if self.first is None else f"E{self.first}"
        b = "" if self.last is None else f"E{self.last}"
        return a if self.first == self.last else f"{a}:{b}"


def parse_window(text: str) -> Window:
    """`E100:E500`, `100:500`, `E100:` (to the end), `:E500` (from the start) or `E42` (one event)."""
    m = _WINDOW.fullmatch(text or "")
    if not m or (m.group(1) is None and m.group(3) is None) or (m.group(2) is None and m.group(3) is not None):
        raise UsageError(
            f"--window takes event ids like E100:E500 (both included; either end may be left out), not {text!r}"
        )
    first = int(m.group(1)) if m.group(1) is not None else None
    last = int(m.group(3)) if m.group(3) is not None else None
    if m.group(2) is None:  # one event
        last = first
    if first is not None and last is not None and first > last:
        raise UsageError(f"--window {text}: the window starts after it ends; give E<first>:E<last> with first <= last")
    return Window(first, last)


Counts = dict[tuple[str, str], "int | None"]


def from_snapshot(snapshot: dict[str, Any], scenario_id: int | None = None) -> Counts:
    """Calls per edge from the snapshot; with a scenario, its edges (edge `scenarios` lists), counts unknown."""
    out: Counts = {}
    for e in snapshot.get("edges") or []:
        if scenario_id is not None and scenario_id not in (e.get("scenarios") or ()):
            continue
        out[(e["source"], e["target"])] = None if scenario_id is not None else int(e.get("count") or 0)
    return out


@dataclass
class Selected:
    counts: Counts
    first: int | None = None  # first and last event order in the selection
    last: int | None = None
    trace_events: int = 0  # event lines in the trace


def from_trace(trace: Path, window: Window | None, scenario: str | None) -> Selected:
    """Calls per edge among the trace's events in the window and/or of the scenario (a test id).

    Without a window, calls of the scenario past the event cap (the end record's `counted`) are
    added, so the counts are complete."""
    from ..events.jsonl import TraceFormatError, read_trace
    from ..events.types import CALL

    try:
        contents, events = read_trace(trace)
    except (TraceFormatError, OSError) as exc:
        raise UsageError(f"cannot read {trace}: {exc}") from None
    counts: Counts = {}
    sel = Selected(counts)
    stop = window.last if window is not None else None
    try:
        for ev in events:
            sel.trace_events += 1
            if stop is not None and ev.order > stop:
                break
            if (window is not None and ev.order not in window) or (scenario is not None and ev.scenario != scenario):
                continue
            sel.first = ev.order if sel.first is None else sel.first
            sel.last = ev.order
            if ev.kind == CALL:
                key = (ev.caller.node_id if ev.caller is not None else RUN, ev.callee.node_id)
                counts[key] = (counts.get(key) or 0) + 1
    except TraceFormatError as exc:
        raise UsageError(f"{exc}") from None
    finally:
        events.close()
    if window is None and scenario is not None:
        for c in (contents.end or {}).get("counted") or []:
            if c.get("scenario") != scenario or not isinstance(c.get("callee"), dict):
                continue
            caller = c.get("caller")
            key = (caller["node_id"] if isinstance(caller, dict) else RUN, c["callee"]["node_id"])
            counts[key] = (counts.get(key) or 0) + int(c.get("calls") or 0)
    return sel
