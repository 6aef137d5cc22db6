"""Post-processing: one streaming pass from events to every artifact.

spill (capture records) --decode--> events --+--> trace.jsonl
                                             +--> SnapshotBuilder --> snapshot.json, report.html
                                             +--> CallTree ---------> workflow.md
`skeleton report` runs the same pass from trace.jsonl instead of the spill.
"""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from . import safefiles
from .capture.records import read_chunks
from .capture.summarise import utf8
from .events.decode import Decoder
from .events.jsonl import TraceWriter, read_trace
from .events.types import Endpoint, Event, TraceEnd
from .events.write_trace import end_record, write_trace
from .model.build import SnapshotBuilder
from .model.calltree import CallTree
from .process import owns_process
from .render.workflow import render_workflow

TRACE, SNAPSHOT, WORKFLOW = "trace.jsonl", "snapshot.json", "workflow.md"
REPORT, SESSION = "report.html", "session.json"
SPILL, HEADER_SIDECAR = ".trace.spill", ".trace-header.json"  # exist only while a run is being traced
END_SIDECAR = ".trace-end.json"  # the run's end, written when the program ended: it was not killed
WRITER_ARGS = ".trace-writer.json"  # arguments of the trace writer helper process


@dataclass
class Artifacts:
    out_dir: Path
    trace_path: Path | None
    snapshot_path: Path
    workflow_path: Path
    report_path: Path | None
    snapshot: dict[str, Any]
    warnings: list[str]


def write_json(path: Path, data: object) -> Path:
    """A private file, written whole through a random temporary (safefiles.py): never through a link."""
    return safefiles.write_atomic(path, orjson.dumps(data))


def _fan_out(
    batches: Iterable[list[Event]],
    builder: SnapshotBuilder,
    tree: CallTree,
    writer: TraceWriter | None,
    progress: Callable[[int], None] | None,
) -> None:
    n = 0
    for batch in batches:
        builder.add_batch(batch)
        tree.add_batch(batch)
        if writer is not None:
            writer.write_batch(batch)
        n += len(batch)
        if progress is not None:
            progress(n)


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Millions of short-lived tuples and no cycles: the cyclic GC would only rescan the growing model
    (and whatever the host holds: the traced program's objects, a pytest session) again and again.
    Restored as it was, also on error. Held over the whole of a post-processing (from_records, from_trace):
    a collection is scheduled while the GC is on and runs at the next check even after gc.disable(), so
    each gap between two shorter spans (and each entry into one) could start a full pass over the model
    (~2 % of call_heavy's post-processing, 3.12).
    At the end, what it allocated has not been through a collection: turned back on as it was, the GC would
    scan all of it at once (everything still alive: the model, the call tree, the host's objects), ~0.15 s on
    a real test suite's model. gc.freeze() then gc.unfreeze() moves every tracked object to the oldest
    generation and sets the young count back to 0 instead (both constant-time list splices): the model dies by
    reference counting when its caller lets go of it, a cycle among the host's objects is still found by the
    next full collection. unfreeze() also moves what was frozen before: done only where nothing was (or the
    process is a `skeleton` command's: process.owns_process()); in a host that froze objects (a pre-forking
    server, for copy-on-write), the scan is paid instead."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if owns_process() or gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _batched(events: Iterable[Event], size: int = 8192) -> Iterator[list[Event]]:
    batch: list[Event] = []
    for e in events:
        batch.append(e)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Below this, the helper process costs more than it saves: it starts an interpreter and decodes the
# spill a second time, CPU that a user pays on a busy machine, in CI or under pytest (the second core
# is not idle there). Measured (3.12, 2-core VM): the mixed benchmark at the default cap (200k events,
# 11.5 MB of spill) took 0.85 s of CPU to post-process in one process and 1.25 s with the helper
# (0.6 s here + 0.65 s there), for ~0.6 s less wall on an idle second core. 64 MiB of spill is about
# 1-2 M recorded events (--max-events 0 or a raised cap): there a 5M-event run took 53 s with the
# helper and 68 s without, and the duplicated decoding is a smaller share of the whole.
PARALLEL_MIN_SPILL = 64 << 20
# Not lowered for pytest runs either, although their trace.jsonl is ~13x their spill (sqlparse's suite: 14.5 MB
# of spill, 190 MB of trace, 35 MB of it the per-test counted entries of the end record): there the helper took
# the main process's post-processing from 9.7 to 7.8 G instructions but cost 5.0 G of its own (decoding and
# marshal.loads again, 2.1 G), +32 % in all for ~0.4 s less wall on an idle second core (3.12, callgrind).


def _joined(batches: Iterable[list[Event]], size: int = 8192) -> Iterator[list[Event]]:
    """Consecutive batches joined into lists of at least `size` events (the last one shorter). The decoder gives
    one batch per spill chunk, and a pytest run flushes its records at the end of every test: sqlparse's suite
    gave 1,201 batches of ~145 events, and each batch paid the C loops' set-up (the trace writer's 64 KiB
    endpoint cache, the model's state fetch) and a zlib call per step column. The model, the call tree and
    the trace writer give the same result for any split into batches (`skeleton report` feeds them 8k-event
    batches of the same events; tests/test_aggregate_native.py compares splits byte for byte)."""
    joined: list[Event] = []
    for batch in batches:
        if not joined and len(batch) >= size:
            yield batch
            continue
        joined += batch
        if len(joined) >= size:
            yield joined
            joined = []
    if joined:
        yield joined


def use_trace_writer(spill_bytes: int) -> bool:
    """Whether trace.jsonl is written by a helper process (on the other core) for a spill this big."""
    return not os.environ.get("SKELETON_SERIAL") and spill_bytes >= PARALLEL_MIN_SPILL and bool(sys.executable)


def _start_trace_writer(
    spill: Path, trace: Path, header: dict[str, Any], end: dict[str, Any], max_events: int
) -> subprocess.Popen[bytes] | None:
    """trace.jsonl on the other core: a helper process re-reads the spill and writes it."""
    if not use_trace_writer(spill.stat().st_size):
        return None
    args = write_json(
        spill.with_name(WRITER_ARGS),
        {"spill": str(spill), "trace": str(trace), "header": header, "end": end, "max_events": max_events},
    )
    try:
        code = "import sys; from skeleton_replay.events.write_trace import main; sys.exit(main(sys.argv[1:]))"
        return subprocess.Popen(
            [sys.executable, "-c", code, str(args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except OSError:
        return None


def from_spill(
    spill: Path,
    out_dir: Path,
    header: dict[str, Any],
    end: dict[str, Any],
    max_events: int,
    html: bool,
    progress: Callable[[int], None] | None = None,
) -> Artifacts:
    return from_records(
        read_chunks(spill),
        out_dir,
        header,
        lambda: end,
        max_events,
        html,
        progress,
        duration_s=end.get("duration_s"),
        spill=spill,
    )


@no_cyclic_gc()
def from_records(
    chunks: Iterable[Any],
    out_dir: Path,
    header: dict[str, Any],
    get_end: Callable[[], dict[str, Any]],
    max_events: int,
    html: bool,
    progress: Callable[[int], None] | None = None,
    duration_s: float | None = None,
    spill: Path | None = None,
) -> Artifacts:
    """Every artifact from the tracer's record chunks (as capture.records.read_chunks gives them). get_end()
    gives the run's end (exit code, status, gaps) once the chunks are exhausted (the post-processing worker
    streams a live spill).
    duration_s, when known up front, sets the step list's time unit (None: a run under 71 minutes).
    spill: the spill file, for the trace-writer helper of big runs (needs the end up front)."""
    trace = out_dir / TRACE
    helper = _start_trace_writer(spill, trace, header, get_end(), max_events) if spill is not None else None
    decoder = Decoder(max_events)
    writer = None
    if helper is None:
        writer = TraceWriter(trace)
        writer.record(header)
    builder = SnapshotBuilder(header, duration_s)
    tree = CallTree()
    _fan_out(_joined(decoder.batches(chunks)), builder, tree, writer, progress)
    # Calls past the cap, counted by the tracer or decoded from its records: counts only, exactly
    # what `skeleton report` rebuilds from the end record.
    counted = decoder.counted()
    builder.add_counted_all(counted)
    end = end_record(get_end(), decoder, max_events, counted, writer.endpoint_json if writer is not None else None)
    del counted
    warnings: list[str] = []
    if writer is not None:
        writer.record({"record": "end", "schema_version": header["schema_version"], **end})
        writer.close()
    arts = _finish(out_dir, builder, tree, end, html, trace, warnings)
    # (Waiting for the helper with the GC still off: with the model alive, a collection would walk all of it.)
    if helper is not None and spill is not None:  # (a helper is only started for a spill)
        _, err = helper.communicate()
        with contextlib.suppress(OSError):
            spill.with_name(WRITER_ARGS).unlink()
        if helper.returncode != 0:  # never lose the trace: write it here instead
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            warnings.append(f"the trace writer process failed ({detail[0]}); wrote trace.jsonl in this process")
            write_trace(spill, trace, header, end, max_events)
    return arts


def from_killed_run(out_dir: Path, html: bool, progress: Callable[[int], None] | None = None) -> Artifacts:
    """A run that did not write trace.jsonl: rebuild everything from its spill. Killed (or ended by
    os._exit()) unless END_SIDECAR shows that the program ended and Skeleton stopped afterwards."""
    header = orjson.loads((out_dir / HEADER_SIDECAR).read_bytes())
    for leftover in out_dir.glob(".post-worker*"):  # the post-processing worker's, if it was killed too
        with contextlib.suppress(OSError):
            leftover.unlink()
    end = _recorded_end(out_dir)
    if end is not None:
        code = end.get("exit_code")
        warning = (
            f"the program ended ({end.get('status')}, exit code {code}) but Skeleton stopped before it wrote "
            "the artifacts; rebuilt from everything it had recorded"
        )
    else:
        end = TraceEnd(
            0.0,
            None,
            "killed",
            gaps=[
                {
                    "kind": "truncated",
                    "count": 1,
                    "message": "the traced process "
                    "ended without finishing (killed, or os._exit()): events after the last flushed chunk are lost",
                }
            ],
        ).run_end()
        warning = (
            "the traced process was killed before it finished (or it called os._exit()); "
            "artifacts rebuilt from what it had recorded"
        )
    remove_partial_files(out_dir)
    max_events = header.get("options", {}).get("max_events", 0)
    arts = from_spill(out_dir / SPILL, out_dir, header, end, max_events, html, progress)
    arts.warnings.insert(0, warning)
    if not os.environ.get("SKELETON_KEEP_SPILL"):  # trace.jsonl now holds it all: the raw records are only weight
        for name in (SPILL, HEADER_SIDECAR, END_SIDECAR):
            with contextlib.suppress(OSError):
                (out_dir / name).unlink()
    return arts


def _recorded_end(out_dir: Path) -> dict[str, Any] | None:
    try:
        end = orjson.loads((out_dir / END_SIDECAR).read_bytes())
    except (OSError, ValueError):
        return None
    return end if isinstance(end, dict) and "status" in end else None


def unfinished_run(out_dir: Path) -> bool:
    """OUT_DIR holds the raw records of a run that wrote no trace.jsonl after them (killed, os._exit(),
    or Skeleton stopped): `skeleton report` rebuilds from those, not from an older trace.jsonl."""
    spill, header, trace = out_dir / SPILL, out_dir / HEADER_SIDECAR, out_dir / TRACE
    if not (spill.is_file() and header.is_file()):
        return False
    try:
        return not trace.exists() or header.stat().st_mtime_ns > trace.stat().st_mtime_ns
    except OSError:
        return False


def _trace_duration(trace: Path) -> float | None:
    """The run's duration from the end record, read from the file's tail without a full pass."""
    with open(trace, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 65536))
        lines = f.read().splitlines()
    for line in reversed(lines):
        try:
            d = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(d, dict) and d.get("record") == "end":
            return d.get("duration_s")
        return None
    return None


@no_cyclic_gc()
def from_trace(trace: Path, out_dir: Path, html: bool, progress: Callable[[int], None] | None = None) -> Artifacts:
    remove_partial_files(out_dir)  # a writer that crashed earlier left them
    contents, events = read_trace(trace)
    builder = SnapshotBuilder(contents.header, _trace_duration(trace))
    tree = CallTree()
    threads: dict[int, dict[str, Any]] = {}

    def counted(evs: Iterable[Event]) -> Iterator[Event]:
        for e in evs:
            t = threads.get(e.thread)
            if t is None:
                t = threads[e.thread] = {"id": e.thread, "name": e.thread_name or f"thread-{e.thread}", "events": 0}
            t["events"] += 1
            yield e

    _fan_out(_batched(counted(events)), builder, tree, None, progress)
    warnings = list(contents.warnings)
    end = contents.end
    if end is None:
        warnings.append(
            f"{trace.name} has no end record: the traced process did not finish writing it (killed?); "
            "the report shows what was recorded"
        )
        end = {
            "status": "incomplete",
            "exit_code": None,
            "error": None,
            "gaps": [{"kind": "truncated", "message": "the trace ends without an end record", "count": 1}],
        }
    endpoints: dict[str, Endpoint] = {}  # one object per node, as the decoder has (44k entries of a real suite)

    def endpoint(d: dict[str, Any]) -> Endpoint:
        ep = endpoints.get(d["node_id"])
        if ep is None:
            ep = endpoints[d["node_id"]] = Endpoint.from_json(d)
        return ep

    builder.add_counted_all(
        (
            endpoint(c["caller"]) if c["caller"] is not None else None,
            endpoint(c["callee"]),
            c["calls"],
            c["raised"],
            c.get("scenario"),
        )
        for c in end.get("counted", ())
    )
    end.setdefault("threads", sorted(threads.values(), key=lambda t: t["id"]))
    end.setdefault("dropped_events", 0)
    return _finish(out_dir, builder, tree, end, html, trace, warnings)


def _finish(
    out_dir: Path,
    builder: SnapshotBuilder,
    tree: CallTree,
    end: dict[str, Any],
    html: bool,
    trace_path: Path | None,
    warnings: list[str],
) -> Artifacts:
    snapshot = builder.snapshot(end, end.get("threads", []), end.get("gaps", []), end.get("dropped_events", 0))
    snapshot_json = orjson.dumps(snapshot)  # once: snapshot.json, and the data of report.html
    snapshot_path = safefiles.write_atomic(out_dir / SNAPSHOT, snapshot_json)
    workflow_path = safefiles.write_atomic(out_dir / WORKFLOW, render_workflow(snapshot, tree))
    report_path = None
    if html:
        from .render.html import ReportTemplateMissing, report_parts

        try:
            report_path = safefiles.write_atomic(out_dir / REPORT, report_parts(snapshot, snapshot_json))
        except ReportTemplateMissing as exc:
            warnings.append(f"report.html not written: {exc}")
    else:
        stale = out_dir / REPORT
        if stale.exists():
            stale.unlink()
    return Artifacts(out_dir, trace_path, snapshot_path, workflow_path, report_path, snapshot, warnings)


# -- for session.py: JSON-safe header data; artifacts lost to a vanished or full folder ----
def json_safe(data: Any) -> Any:
    """JSON-ready copy of header-like data: lone surrogates in strings become U+FFFD."""
    if isinstance(data, str):
        return utf8(data)
    if isinstance(data, list):
        return [json_safe(v) for v in data]
    if isinstance(data, dict):
        return {k: json_safe(v) for k, v in data.items()}
    return data


def describe_os_error(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def lost_message(out_dir: Path, exc: OSError) -> str:
    if not out_dir.is_dir():
        return (
            f"the output folder {out_dir} disappeared during the run: no artifacts were written "
            "(choose a folder the program does not delete with --out-dir)"
        )
    where = f" ({Path(exc.filename).name})" if exc.filename else ""
    return (
        f"the artifacts could not be written to {out_dir}: {describe_os_error(exc)}{where}; "
        "free some space or choose another folder with --out-dir"
    )


def remove_partial_files(out_dir: Path) -> None:
    """Half-written files would only take space and mislead: keep the complete artifacts only.
    (Unlinking a name removes a link planted there, never what it points to.)"""
    with contextlib.suppress(OSError):
        for p in out_dir.iterdir():
            if p.name.endswith((safefiles.TMP_SUFFIX, ".partial")) or p.name == WRITER_ARGS:
                with contextlib.suppress(OSError):
                    p.unlink()
