"""workflow.md's title block: the command, exit, request, timing, event counts, threads, backend, root."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import md
from .common import Write

if TYPE_CHECKING:
    from ...model.build import Record


def header(w: Write, snapshot: Record) -> None:
    run, stats = snapshot["run"], snapshot["stats"]
    w(f"# Workflow: {md.text(run['app_name'], 120)}")
    w("")
    w(f"- command: {md.code(' '.join(run['command']), 1000)}")
    err = run.get("error")
    err_md = f" ({md.text(err['type'], 120)}: {md.text(err['message'], 120)})" if err else ""
    code_md = f"{run['exit_code']:d}" if run["exit_code"] is not None else "unknown"
    w(f"- exit: {code_md} ({md.text(run['status'], 40)}){err_md}")
    req = run.get("request")
    if req:  # one traced web request (docs/web.md)
        status_md = f"{req['status']:d}" if req["status"] is not None else "no response"
        w(
            f"- request: {md.text(req['method'], 20)} {md.text(req['path'], 300)} -> {status_md}"
            f" in {req['duration_s']:.3f} s (selected by {md.text(req['selected_by'])})"
        )
    w(f"- started: {md.text(run['started_at'], 60)}, duration {run['duration_s']:.3f} s")
    w(
        f"- events: {stats['recorded_events']:,} recorded, "
        f"{stats['dropped_events']:,} not recorded (counted on edges); "
        f"{stats['calls']:,} calls; max depth {stats['max_depth']:d}"
    )
    threads_md = (
        ", ".join(f"{t['id']:d}={md.text(t['name'], 80)} ({t['events']:,} events)" for t in stats["threads"]) or "none"
    )
    w(f"- threads: {threads_md}")
    w(
        f"- backend: {md.text(run['backend'], 40)} ({md.text(run['backend_reason'])}); "
        f"Python {md.text(run['python_version'], 40)}"
    )
    w(f"- project root: {md.code(run['project_root'], 1000)}")
    w("")
    w(
        "Ids: `E<n>` is event n (`order` in trace.jsonl); backticked names are node ids in snapshot.json. "
        "Program text is quoted: names and values verbatim in backticks, messages escaped."
    )
    w("")
