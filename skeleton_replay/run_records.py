"""The header and end records of a run (events/types.py's TraceHeader and TraceEnd), built and redacted.

Used by the run lifecycle (lifecycle.py) only: every entry point gets the same header fields, the same
redaction of its command line and the same end record.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import sys
from typing import Any

from . import __version__
from .capture.budget import UNLIMITED, Budget
from .capture.summarise import SCAN_MARGIN, Summariser
from .events.types import TraceEnd, TraceHeader
from .options import Options
from .runner import Terminated


def build_header(
    opts: Options,
    backend: str,
    reason: str,
    root: str,
    command: list[str],
    target: dict[str, Any],
    app_name: str,
    invocation: list[str] | None = None,
) -> TraceHeader:
    return TraceHeader(
        skeleton_version=__version__,
        python_version=sys.version.split()[0],
        backend=backend,
        backend_reason=reason,
        project_root=root,
        command=command,
        target=target,
        app_name=app_name,
        started_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        options={
            "max_events": opts.max_events,
            "include": list(opts.include),
            "exclude": list(opts.exclude),
            "include_private": opts.include_private,
            "sampling": Budget(max_events=opts.max_events or UNLIMITED).policy(),
        },  # capture/budget.py
        invocation=invocation,
    )


def scrub_header(summariser: Summariser, header: TraceHeader) -> TraceHeader:
    """The header's command lines, target and name through the redaction: at the start of the run, and
    once more at its end, when a word the run showed to be a secret (passed on the command line or in a
    request path, then received under a secret name) is known."""
    redact = summariser.redact_argv
    target = dict(header.target)
    app_name = header.app_name
    if isinstance(target.get("args"), list):
        target["args"] = redact(target["args"])
    if target.get("kind") == "request" and isinstance(target.get("path"), str):  # a path from the network
        target["path"] = redact([target["path"]])[0]
        app_name = " ".join(redact(app_name.split(" ")))
    return dataclasses.replace(
        header,
        command=redact(header.command),
        target=target,
        app_name=app_name,
        invocation=redact(header.invocation) if header.invocation is not None else None,
    )


def end_of_run(
    duration_s: float, status: str, exit_code: int | None, error: dict[str, Any] | None, gaps: list[dict[str, Any]]
) -> TraceEnd:
    """The run's part of the end record (TraceEnd.RUN_FIELDS); the totals come when its records are decoded."""
    return TraceEnd(duration_s=round(duration_s, 6), exit_code=exit_code, status=status, error=error, gaps=gaps)


def error_info(summariser: Summariser, exc: BaseException | None) -> dict[str, Any] | None:
    """{"type", "message"} of an exception that ended a run, its message summarised (and redacted)."""
    if exc is None:
        return None
    if isinstance(exc, Terminated):
        return {"type": "SIGTERM", "message": "terminated by signal 15"}
    info = summariser.exception(exc)
    msg = info["message"]
    if msg.get("redacted"):
        text = f"<redacted {msg.get('type')} len={msg.get('len', '?')}>"
    elif msg.get("type") == "str":
        text = summariser.scrub_text(str(msg.get("value", "")))
    else:
        from .render.text import short

        text = summariser.scrub_text(short(msg, 200))
    if isinstance(exc, SystemExit):
        text = str(exc.code) if isinstance(exc.code, int) else text
    return {"type": info["type"], "message": text}


def safe_line(summariser: Summariser, text: str, limit: int = 300) -> str:
    """The first line of a free text (a test failure message), safe to write: pytest's assertion
    introspection reduced to its shape (the compared values become '…'), secret-looking pieces and
    known secrets replaced by <redacted>; a line that names a secret is withheld whole."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = line[: limit + SCAN_MARGIN]  # scanning costs what is written, not what the program produced
    if line.startswith(("AssertionError: assert ", "assert ")):  # pytest shows values: keep only the shape
        line = re.sub(r"'(?:[^'\\]|\\.){0,4096}'|\"(?:[^\"\\]|\\.){0,4096}\"", "'…'", line)
    line = summariser.scrub_text(line)
    if summariser.secret_name(line):
        return f"<redacted: {len(line)} characters that may hold a secret>"
    return line if len(line) <= limit else line[: limit - 1] + "…"
