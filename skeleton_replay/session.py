"""The Python API: TraceSession(...).run_script(path, args) and the trace() context manager."""
from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import __version__
from .capture import Budget, Gate, Recorder, select_backend
from .capture.filters import CodeFilter, find_project_root, module_from_path
from .capture.records import SpillWriter
from .capture.summarise import DEFAULT_SECRET_NAMES, Summariser
from .capture.sysmon import NoFreeToolId
from .events.types import FORMAT_VERSION
from .options import Options, UsageError, prepare_out_dir, resolve_out_dir
from .pipeline import HEADER_SIDECAR, SESSION, SPILL, Artifacts, from_spill, write_json
from .runner import ScriptRunner, Terminated, module_target, script_target

SESSION_FORMAT_VERSION = 1


@dataclass
class RunResult:
    out_dir: Path
    trace_path: Path | None
    snapshot_path: Path | None
    workflow_path: Path | None
    report_path: Path | None
    session_path: Path | None
    exit_code: int
    status: str
    event_count: int
    dropped_events: int
    error: dict | None
    warnings: list[str] = field(default_factory=list)
    report_opened: bool = False
    metrics: dict = field(default_factory=dict)


class _Capture:
    """Recorder + backend + spill for one run."""

    def __init__(self, opts: Options, root: Path, out_dir: Path, main_module: str, main_file: str | None,
                 gate: Gate | None = None) -> None:
        self.opts = opts
        names = tuple(DEFAULT_SECRET_NAMES) + tuple(opts.secret_names)
        self.summariser = Summariser(secret_names=names)
        self.filter = CodeFilter(root, opts.include, opts.exclude, opts.include_private, main_module, main_file,
                                 opts.harness_files)
        self.spill_path = out_dir / SPILL
        self.spill = SpillWriter(self.spill_path)
        budget = Budget(max_events=opts.max_events or (1 << 62))
        self.recorder = Recorder(self.filter, self.summariser, self.spill, budget)
        try:
            self.backend, self.reason = select_backend(self.recorder, opts.backend, gate)
        except ValueError as exc:
            self.spill.close()
            raise UsageError(str(exc)) from None
        self.t_start = self.t_stop = 0.0

    def start(self) -> None:
        try:
            self.backend.start()
        except NoFreeToolId as exc:
            self.spill.close()
            raise UsageError(str(exc)) from None
        self.t_start = time.perf_counter()

    def stop(self) -> None:
        self.t_stop = time.perf_counter()
        self.backend.stop()
        self.recorder.finish()
        self.spill.close()

    def gaps(self) -> list[dict]:
        return [{"kind": g.kind, "message": g.message, "count": g.count} for g in self.recorder.gaps.values()]


class TraceSession:
    def __init__(self, project_root: str | os.PathLike[str] | None = None, out_dir: str | os.PathLike[str] | None = None,
                 include=(), exclude=(), max_events: int | None = None, html: bool = True, open_report: bool = False,
                 include_private: bool = False, backend: str | None = None, options: Options | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        if options is None:
            options = Options(project_root=Path(project_root) if project_root else None,
                              out_dir=Path(out_dir) if out_dir else None, include=tuple(include), exclude=tuple(exclude),
                              html=html, open_report=open_report, include_private=include_private, backend=backend)
            if max_events is not None:
                options.max_events = max_events
        self.options = options
        self.progress = progress

    def run_script(self, path: str | os.PathLike[str], args: list[str] | tuple[str, ...] = ()) -> RunResult:
        """Run a script as `python path args` would."""
        self.options.validate()
        script = Path(path)
        target = script_target(script)
        root = _project_root(self.options, script)
        rel = _relative(script.resolve(), root)
        return self._run(target, list(args), root, script.stem, module_from_path(rel) if rel else script.stem,
                         {"kind": "script", "path": str(path), "args": list(args)}, [str(path)], [str(script.resolve())])

    def run_module(self, name: str, args: list[str] | tuple[str, ...] = ()) -> RunResult:
        """Run a module as `python -m name args` would (a package runs its __main__)."""
        self.options.validate()
        target = module_target(name)
        root = _project_root(self.options, Path(target.main_file))
        return self._run(target, list(args), root, name, target.module_name or name,
                         {"kind": "module", "path": name, "args": list(args)}, ["-m", name], ["-m", name])

    def _run(self, target, args: list[str], root: Path, app_name: str, main_module: str, target_info: dict,
             shown: list[str], reproduce: list[str]) -> RunResult:
        opts = self.options
        out_dir = prepare_out_dir(resolve_out_dir(opts.out_dir, app_name)).resolve()  # the program may chdir
        cap = _Capture(opts, root, out_dir, main_module, target.main_file)
        redact = cap.summariser.redact_argv  # a token passed on the command line stays out of the artifacts
        command = redact(["skeleton", "run", *_option_argv(opts), *shown, *args])
        header = _header(cap, root, command, {**target_info, "args": redact(target_info["args"])}, app_name)
        header["invocation"] = redact([sys.executable, "-m", "skeleton_replay", "run", *_option_argv(opts, absolute=True),
                                       "--out-dir", str(out_dir), "--project-root", str(root), *reproduce, *args])
        write_json(out_dir / HEADER_SIDECAR, header)  # lets `skeleton report` recover a killed run
        outcome = ScriptRunner(target, args).run(cap.start, cap.stop)
        error = _error_info(cap.summariser, outcome.exception) if outcome.status in ("exception", "interrupted") else None
        if outcome.status == "exit" and outcome.exit_code != 0:
            error = _error_info(cap.summariser, outcome.exception)
        end = {"duration_s": round(cap.t_stop - cap.t_start, 6), "exit_code": outcome.exit_code,
               "status": outcome.status, "error": error, "gaps": cap.gaps()}
        return self._finish(cap, out_dir, header, end)

    def _finish(self, cap: _Capture, out_dir: Path, header: dict, end: dict) -> RunResult:
        opts = self.options
        t0 = time.perf_counter()
        say = self.progress

        def progress(n: int) -> None:
            if say is not None:
                say(f"processed {n:,} events")

        try:
            arts = from_spill(cap.spill_path, out_dir, header, end, opts.max_events, opts.html, progress)
        finally:
            if not os.environ.get("SKELETON_KEEP_SPILL"):  # debugging aid: keep the raw records
                with contextlib.suppress(OSError):
                    cap.spill_path.unlink()
                with contextlib.suppress(OSError):
                    (out_dir / HEADER_SIDECAR).unlink()
        post_s = time.perf_counter() - t0
        opened = False
        if opts.open_report and arts.report_path is not None:
            from .render.browser import open_in_browser
            opened = open_in_browser(arts.report_path)
        result = _result(arts, end, opened)
        result.metrics.update({"tracing_s": end["duration_s"], "postprocess_s": round(post_s, 6),
                               "spill_bytes": cap.spill.bytes_written,
                               "tracer_errors": sum(g["count"] for g in end["gaps"] if g["kind"] == "tracer_error")})
        result.session_path = write_json(out_dir / SESSION, session_manifest(header, result))
        return result


def _project_root(opts: Options, anchor: Path) -> Path:
    """--project-root when given, else the nearest marker folder above the file being run."""
    return Path(opts.project_root).resolve() if opts.project_root else find_project_root(anchor)


def _relative(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _option_argv(opts: Options, absolute: bool = False) -> list[str]:
    """The options as command-line flags (absolute=True: without the folders, given separately)."""
    argv: list[str] = []
    if opts.project_root and not absolute:
        argv += ["--project-root", str(opts.project_root)]
    if opts.out_dir and not absolute:
        argv += ["--out-dir", str(opts.out_dir)]
    for p in opts.include:
        argv += ["--include", p]
    for p in opts.exclude:
        argv += ["--exclude", p]
    if opts.max_events != Options().max_events:
        argv += ["--max-events", str(opts.max_events)]
    if opts.include_private:
        argv.append("--include-private")
    if not opts.html:
        argv.append("--no-html")
    for name in opts.secret_names:
        argv += ["--secret-name", name]
    if not opts.open_report:
        argv.append("--no-open")
    if opts.backend:
        argv += ["--backend", opts.backend]
    return argv


def _header(cap: _Capture, root: Path, command: list[str], target: dict, app_name: str) -> dict:
    return {
        "record": "header",
        "schema_version": FORMAT_VERSION,
        "skeleton_version": __version__,
        "python_version": sys.version.split()[0],
        "backend": cap.backend.name,
        "backend_reason": cap.reason,
        "project_root": str(root),
        "command": command,
        "target": target,
        "app_name": app_name,
        "started_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "options": {"max_events": cap.opts.max_events, "include": list(cap.opts.include),
                    "exclude": list(cap.opts.exclude), "include_private": cap.opts.include_private},
    }


def _error_info(summariser: Summariser, exc: BaseException | None) -> dict | None:
    if exc is None:
        return None
    if isinstance(exc, Terminated):
        return {"type": "SIGTERM", "message": "terminated by signal 15"}
    info = summariser.exception(exc)
    msg = info["message"]
    if msg.get("redacted"):
        text = f"<redacted {msg.get('type')} len={msg.get('len', '?')}>"
    elif msg.get("type") == "str":
        text = str(msg.get("value", ""))
    else:
        from .render.text import short
        text = short(msg, 200)
    if isinstance(exc, SystemExit):
        text = str(exc.code) if isinstance(exc.code, int) else text
    return {"type": info["type"], "message": text}


def _result(arts: Artifacts, end: dict, opened: bool) -> RunResult:
    s = arts.snapshot["stats"]
    return RunResult(arts.out_dir, arts.trace_path, arts.snapshot_path, arts.workflow_path, arts.report_path, None,
                     end.get("exit_code") if end.get("exit_code") is not None else 0, end.get("status", "ok"),
                     s["recorded_events"], s["dropped_events"], end.get("error"), arts.warnings, opened,
                     {"events": s["recorded_events"], "dropped_events": s["dropped_events"], "nodes": s["nodes"],
                      "edges": s["edges"], "calls": s["calls"], "threads": len(s["threads"]),
                      "scenarios": len(arts.snapshot.get("scenarios", ()))})


def session_manifest(header: dict, r: RunResult) -> dict:
    def p(x):
        return str(x) if x is not None else None
    manifest = {
        "format_version": SESSION_FORMAT_VERSION,
        "skeleton_version": __version__,
        "command": header["command"],
        "invocation": header.get("invocation", header["command"]),
        "cwd": os.getcwd(),
        "project_root": header["project_root"],
        "target": header["target"],
        "artifacts": {"out_dir": p(r.out_dir), "trace": p(r.trace_path), "snapshot": p(r.snapshot_path),
                      "workflow": p(r.workflow_path), "report": p(r.report_path),
                      "session": p(r.out_dir / SESSION)},
        "metrics": {**r.metrics},
        "exit_code": r.exit_code,
        "status": r.status,
        "error": r.error,
        "report_opened": r.report_opened,
        "backend": header["backend"],
    }
    if "request" in header:  # one traced web request (skeleton_replay.integrations)
        manifest["request"] = header["request"]
    return manifest


class LiveTrace:
    """Tracing code that is already running in this process: start(), then stop() -> RunResult.

    The trace() context manager and the pytest plugin are built on it.
    """

    def __init__(self, opts: Options, name: str, root: Path, out_dir: Path, target: dict, command: list[str],
                 invocation: list[str] | None = None) -> None:
        opts.validate()
        self.options = opts
        self.out_dir = prepare_out_dir(out_dir).resolve()
        self.cap = _Capture(opts, root, self.out_dir, name, None)
        redact = self.cap.summariser.redact_argv
        self.header = _header(self.cap, root, redact(command), {**target, "args": redact(target.get("args", []))}, name)
        if invocation is not None:
            self.header["invocation"] = redact(invocation)
        write_json(self.out_dir / HEADER_SIDECAR, self.header)  # lets `skeleton report` recover a killed run
        self.started = False

    @property
    def recorder(self) -> Recorder:
        return self.cap.recorder

    def start(self) -> None:
        self.cap.start()
        self.started = True

    def error_info(self, exc: BaseException | None) -> dict | None:
        return _error_info(self.cap.summariser, exc)

    def safe_text(self, text: str, limit: int = 300) -> str:
        """One line of free text (a test failure message) that may be shown in the artifacts."""
        s = self.cap.summariser
        line = text.strip().splitlines()[0] if text.strip() else ""
        if line.startswith("AssertionError: assert "):  # pytest's introspection shows values: keep only the shape
            line = re.sub(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "'…'", line)
        if s.secret_value(line) or s.secret_name(line):
            return f"<redacted: {len(line)} characters that may hold a secret>"
        return line if len(line) <= limit else line[: limit - 1] + "…"

    def stop(self, status: str = "ok", exit_code: int | None = 0, error: dict | None = None) -> RunResult:
        cap = self.cap
        cap.stop()
        end = {"duration_s": round(cap.t_stop - cap.t_start, 6), "exit_code": exit_code, "status": status,
               "error": error, "gaps": cap.gaps()}
        return TraceSession(options=self.options)._finish(cap, self.out_dir, self.header, end)


@contextlib.contextmanager
def trace(out_dir: str | os.PathLike[str] | None = None, project_root: str | os.PathLike[str] | None = None,
          name: str = "trace", scenario: str | None = None, **kwargs) -> Iterator[dict]:
    """Trace a block of code already running in this process.

    with trace(out_dir="out") as run: ...   then run["result"] is a RunResult.
    scenario="checkout" records the block as one named scenario.
    """
    opts = Options(project_root=Path(project_root) if project_root else None, out_dir=Path(out_dir) if out_dir else None)
    unknown = sorted(set(kwargs) - set(Options.__dataclass_fields__))
    if unknown:
        raise TypeError(f"trace() got unknown option(s) {', '.join(unknown)}; known: {', '.join(Options.__dataclass_fields__)}")
    for k, v in kwargs.items():
        setattr(opts, k, tuple(v) if k in ("include", "exclude", "secret_names", "harness_files") else v)
    opts.validate()
    root = _project_root(opts, Path.cwd() / "x.py")
    live = LiveTrace(opts, name, root, resolve_out_dir(opts.out_dir, name), {"kind": "api", "path": name, "args": []}, [name])
    holder: dict = {"recorder": live.recorder}
    status, code, err = "ok", 0, None
    live.start()
    t0 = time.perf_counter()
    if scenario is not None:
        live.recorder.begin_scenario(scenario, "block")
    try:
        yield holder
    except BaseException as exc:
        status, code, err = "exception", 1, live.error_info(exc)
        raise
    finally:
        if scenario is not None:
            live.recorder.end_scenario("passed" if status == "ok" else "failed", round(time.perf_counter() - t0, 6),
                                       f"{err['type']}: {err['message']}" if err else None)
        holder["result"] = live.stop(status, code, err)
