"""Post-processing: one streaming pass from events to every artifact.

spill (capture records) --decode--> events --+--> trace.jsonl
                                             +--> SnapshotBuilder --> snapshot.json, report.html
                                             +--> CallTree ---------> workflow.md
`skeleton report` runs the same pass from trace.jsonl instead of the spill.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import orjson

from .capture.records import read_spill
from .events.decode import Decoder
from .events.jsonl import TraceWriter, read_trace
from .events.types import Event
from .model.build import SnapshotBuilder
from .model.calltree import CallTree
from .render.workflow_md import render_workflow, write_text

TRACE, SNAPSHOT, WORKFLOW, REPORT, SESSION = "trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"


@dataclass
class Artifacts:
    out_dir: Path
    trace_path: Path | None
    snapshot_path: Path
    workflow_path: Path
    report_path: Path | None
    snapshot: dict
    warnings: list[str]


def write_json(path: Path, data) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(data))
    os.replace(tmp, path)
    return path


def _fan_out(events: Iterable[Event], builder: SnapshotBuilder, tree: CallTree, writer: TraceWriter | None,
             progress: Callable[[int], None] | None) -> None:
    add, tree_add = builder.add, tree.add
    write = writer.event if writer is not None else None
    n = 0
    # Millions of short-lived tuples and no cycles: the cyclic GC would only rescan
    # the growing model again and again.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for e in events:
            add(e)
            tree_add(e)
            if write is not None and e.order >= 0:
                write(e)
            n += 1
            if progress is not None and not n & 0x3FFFF:
                progress(n)
    finally:
        if gc_was_enabled:
            gc.enable()


def from_spill(spill: Path, out_dir: Path, header: dict, end: dict, max_events: int, html: bool,
               progress: Callable[[int], None] | None = None) -> Artifacts:
    decoder = Decoder(max_events)
    writer = TraceWriter(out_dir / TRACE)
    writer.record(header)
    builder = SnapshotBuilder(header)
    tree = CallTree()
    _fan_out(decoder.events(read_spill(spill)), builder, tree, writer, progress)
    for caller, callee, count, raised in decoder.aggregates:
        builder.add_counted(caller, callee, count, raised)
    gaps = list(end.get("gaps", []))
    if decoder.dropped:
        gaps.insert(0, {"kind": "cap", "message": f"--max-events {max_events} reached: {decoder.dropped:,} events were not written", "count": decoder.dropped})
    if decoder.unmatched:
        gaps.append({"kind": "unmatched", "message": "returns without a matching call (the stack was repaired)", "count": decoder.unmatched})
    end = {**end, "events": decoder.order, "dropped_events": decoder.dropped, "calls": decoder.calls,
           "threads": decoder.threads(), "gaps": gaps}
    writer.record({"record": "end", "schema_version": header["schema_version"], **end})
    trace_path = writer.close()
    return _finish(out_dir, builder, tree, end, html, trace_path, [])


def from_trace(trace: Path, out_dir: Path, html: bool, progress: Callable[[int], None] | None = None) -> Artifacts:
    contents, events = read_trace(trace)
    builder = SnapshotBuilder(contents.header)
    tree = CallTree()
    threads: dict[int, dict] = {}

    def counted(evs: Iterable[Event]):
        for e in evs:
            t = threads.get(e.thread)
            if t is None:
                t = threads[e.thread] = {"id": e.thread, "name": e.thread_name or f"thread-{e.thread}", "events": 0}
            t["events"] += 1
            yield e

    _fan_out(counted(events), builder, tree, None, progress)
    warnings = list(contents.warnings)
    end = contents.end
    if end is None:
        warnings.append(f"{trace.name} has no end record: the traced process did not finish writing it (killed?); the report shows what was recorded")
        end = {"status": "incomplete", "exit_code": None, "error": None,
               "gaps": [{"kind": "truncated", "message": "the trace ends without an end record", "count": 1}]}
    end.setdefault("threads", sorted(threads.values(), key=lambda t: t["id"]))
    end.setdefault("dropped_events", 0)
    return _finish(out_dir, builder, tree, end, html, trace, warnings)


def _finish(out_dir: Path, builder: SnapshotBuilder, tree: CallTree, end: dict, html: bool,
            trace_path: Path | None, warnings: list[str]) -> Artifacts:
    snapshot = builder.snapshot(end, end.get("threads", []), end.get("gaps", []), end.get("dropped_events", 0))
    snapshot_path = write_json(out_dir / SNAPSHOT, snapshot)
    workflow_path = write_text(out_dir / WORKFLOW, render_workflow(snapshot, tree))
    report_path = None
    if html:
        from .render.html import ReportTemplateMissing, write_report
        try:
            report_path = write_report(snapshot, out_dir / REPORT)
        except ReportTemplateMissing as exc:
            warnings.append(f"report.html not written: {exc}")
    else:
        stale = out_dir / REPORT
        if stale.exists():
            stale.unlink()
    return Artifacts(out_dir, trace_path, snapshot_path, workflow_path, report_path, snapshot, warnings)
