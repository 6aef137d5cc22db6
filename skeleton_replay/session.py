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
from .capture import Budget, Gate, Recorder, forks, select_backend
from .capture.boundaries import Boundaries
from .capture.filters import CodeFilter, find_project_root, module_from_path
from .capture.records import SpillWriter
from .capture.summarise import DEFAULT_SECRET_NAMES, SCAN_MARGIN, Summariser, utf8
from .capture.sysmon import NoFreeToolId
from .events.types import FORMAT_VERSION
from .options import Options, UsageError, prepare_out_dir, run_out_dir, with_project_config
from . import keep, postworker
from .pipeline import (END_SIDECAR, HEADER_SIDECAR, SESSION, SPILL, Artifacts, describe_os_error, from_spill,
                       json_safe, lost_message, remove_partial_files, write_json)
from .runner import ScriptRunner, Terminated, forget_sigterm, module_target, script_target

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
    child_process: bool = False  # True in a forked child: it wrote nothing; exit quietly with exit_code
    lost: str | None = None  # why no artifacts were written (output folder gone, disk full), else None


class _Capture:
    """Recorder + backend + spill for one run."""

    def __init__(self, opts: Options, root: Path, out_dir: Path, main_module: str, main_file: str | None,
                 gate: Gate | None = None) -> None:
        self.opts = opts
        names = tuple(DEFAULT_SECRET_NAMES) + tuple(opts.secret_names)
        self.summariser = Summariser(secret_names=names, extra_value_patterns=opts.secret_patterns)
        self.filter = CodeFilter(root, opts.include, opts.exclude, opts.include_private, utf8(main_module), main_file,
                                 opts.harness_files)
        self.spill_path = out_dir / SPILL
        try:
            self.spill = SpillWriter(self.spill_path)
        except OSError as exc:
            raise UsageError(f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); "
                             "choose another with --out-dir") from None
        budget = Budget(max_events=opts.max_events or (1 << 62))
        self.recorder = Recorder(self.filter, self.summariser, self.spill, budget)
        try:
            self.backend, self.reason = select_backend(self.recorder, opts.backend, gate)
        except ValueError as exc:
            self.spill.close()
            raise UsageError(str(exc)) from None
        self.boundaries = Boundaries(self.recorder, gate)  # I/O boundaries (capture/boundaries.py)
        self.t_start = self.t_stop = 0.0
        self.pid = os.getpid()
        self.child = False  # this process is a forked copy of the traced one
        self.forks = self.mp_forks = 0  # os.fork() calls while tracing; those made by multiprocessing
        self.mp_processes = 0  # multiprocessing processes created while tracing (any start method)

    def start(self) -> None:
        try:
            self.backend.start()
        except NoFreeToolId as exc:
            self.spill.close()
            raise UsageError(str(exc)) from None
        self._mp_before = forks.multiprocessing_processes()
        forks.watch(self)
        self.boundaries.start()
        self.t_start = time.perf_counter()

    def stop(self) -> None:
        self.t_stop = time.perf_counter()
        forks.unwatch(self)
        self.boundaries.stop()
        self.backend.stop()
        self.recorder.finish()
        self.spill.close()
        if not self.child:
            self.mp_processes = forks.multiprocessing_processes() - self._mp_before

    # -- os.fork: called by capture/forks.py ---------------------------------------
    def after_fork_parent(self, multiprocessing_fork: bool) -> None:
        self.forks += 1
        self.mp_forks += multiprocessing_fork

    def after_fork_child(self) -> None:
        self.child = True
        self.recorder.after_fork_child()
        try:
            self.backend.stop()
        except Exception:
            pass
        forget_sigterm()

    def gaps(self) -> list[dict]:
        gaps = [{"kind": g.kind, "message": g.message, "count": g.count} for g in self.recorder.gaps.values()]
        children = self.forks + max(0, self.mp_processes - self.mp_forks)  # spawn/forkserver do not fork us
        if children:
            gaps.append({"kind": "child_process", "count": children,
                         "message": f"{children:,} child process{'es' if children != 1 else ''} (os.fork, multiprocessing) "
                                    "ran untraced: only this process is traced"})
        return gaps


class TraceSession:
    def __init__(self, project_root: str | os.PathLike[str] | None = None, out_dir: str | os.PathLike[str] | None = None,
                 include=(), exclude=(), max_events: int | None = None, html: bool = True, open_report: bool = False,
                 include_private: bool = False, backend: str | None = None, options: Options | None = None,
                 progress: Callable[[str], None] | None = None) -> None:
        if options is None:
            options = Options(project_root=project_root, out_dir=out_dir,  # checked by validate()
                              include=include if isinstance(include, str) else tuple(include),
                              exclude=exclude if isinstance(exclude, str) else tuple(exclude),
                              html=html, open_report=open_report, include_private=include_private, backend=backend)
            if max_events is not None:
                options.max_events = max_events
        self.options = options
        self.progress = progress
        self.owns_process = False  # set by the CLI: the process exists only to run this program

    def run_script(self, path: str | os.PathLike[str], args: list[str] | tuple[str, ...] = ()) -> RunResult:
        """Run a script as `python path args` would."""
        self.options.validate()
        script = Path(path)
        target = script_target(script)
        main = Path(target.main_file)  # a folder runs its __main__.py, as with python
        in_zip = not main.parent.is_dir()  # python app.zip: app.zip/__main__.py
        root = _project_root(self.options, Path(os.path.abspath(script)) if in_zip else main)
        rel = None if in_zip else _relative(main.resolve(), root)
        return self._run(target, list(args), root, script.stem, module_from_path(rel) if rel else main.stem,
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
        # a folder of its own for this run unless --out-dir / $SKELETON_OUT_DIR names one (runs.py)
        out_dir = run_out_dir(opts.out_dir, app_name, os.path.abspath(target.main_file), root)
        out_dir = prepare_out_dir(out_dir).resolve()  # the program may chdir
        cap = _Capture(with_project_config(opts, root), root, out_dir, main_module, target.main_file)
        redact = cap.summariser.redact_argv  # a token passed on the command line stays out of the artifacts
        command = redact(["skeleton", "run", *_option_argv(opts), *shown, *args])
        header = _header(cap, root, command, {**target_info, "args": redact(target_info["args"])}, app_name)
        header["invocation"] = redact([sys.executable, "-m", "skeleton_replay", "run", *_option_argv(opts, absolute=True),
                                       "--out-dir", str(out_dir), "--project-root", str(root), *reproduce, *args])
        try:
            header = json_safe(header)  # undecodable bytes in paths and arguments: JSON needs UTF-8
            write_json(out_dir / HEADER_SIDECAR, header)  # lets `skeleton report` recover a killed run
        except OSError as exc:
            cap.spill.close()
            with contextlib.suppress(OSError):
                cap.spill_path.unlink()
            raise UsageError(f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); "
                             "choose another with --out-dir") from None
        # Post-processing starts now, on the other core, as the records arrive (postworker.py).
        worker = postworker.start(out_dir, cap.spill_path, header, opts.max_events, opts.html)
        keep.preload(("webbrowser",) if opts.open_report else ())  # nothing is imported after the program
        outcome = ScriptRunner(target, args, self.owns_process).run(cap.start, cap.stop)
        if cap.child:  # a forked copy of the program ended here: the parent writes the artifacts
            return _child_result(out_dir, outcome.exit_code, outcome.status)
        error = _error_info(cap.summariser, outcome.exception) if outcome.status in ("exception", "interrupted") else None
        if outcome.status == "exit" and outcome.exit_code != 0:
            error = _error_info(cap.summariser, outcome.exception)
        end = {"duration_s": round(cap.t_stop - cap.t_start, 6), "exit_code": outcome.exit_code,
               "status": outcome.status, "error": error, "gaps": cap.gaps()}
        header = scrub_header(cap.summariser, header)  # secrets learned during the run
        return self._finish(cap, out_dir, header, end, worker)

    def _finish(self, cap: _Capture, out_dir: Path, header: dict, end: dict,
                worker: postworker.Worker | None = None) -> RunResult:
        opts = self.options
        t0 = time.perf_counter()
        say = self.progress

        def progress(n: int) -> None:
            if say is not None:
                say(f"processed {n:,} events")

        spill_error = cap.spill.error
        if spill_error is not None:  # disk full or folder gone during the run: build from what was written
            end["gaps"].append({"kind": "truncated", "count": cap.spill.records_lost,
                                "message": f"writing the raw records failed during the run ({describe_os_error(spill_error)}): "
                                           f"the last {cap.spill.records_lost:,} records are lost"})
        with contextlib.suppress(OSError):  # evidence for `skeleton report` that the program did end
            write_json(out_dir / END_SIDECAR, end)
        try:
            arts = None
            if worker is not None:
                if spill_error is None:
                    arts = worker.finish(end, say)  # None: it failed or stepped aside; do it here
                else:
                    worker.abandon()
            if arts is None:
                arts = from_spill(cap.spill_path, out_dir, header, end, opts.max_events, opts.html, progress)
        except OSError as exc:  # the output folder disappeared or filled up: the program's result still counts
            remove_partial_files(out_dir)
            _drop_raw_records(cap, out_dir)
            return _lost_result(out_dir, end, lost_message(out_dir, exc))
        # (any other error is Skeleton's: the raw records stay for `skeleton report`)
        _drop_raw_records(cap, out_dir)
        post_s = time.perf_counter() - t0
        opened = False
        if opts.open_report and arts.report_path is not None:
            from .render.browser import open_in_browser
            opened = open_in_browser(arts.report_path)
        result = _result(arts, end, opened)
        if spill_error is not None:
            result.warnings.insert(0, f"writing the raw records to {out_dir} failed during the run ({describe_os_error(spill_error)}): "
                                      f"the artifacts hold only what was written before; free some space or choose "
                                      "another folder with --out-dir")
        if worker is not None:
            result.metrics.update(worker.metrics)  # the worker is not our child: its cost, counted by itself
        result.metrics.update({"tracing_s": end["duration_s"], "postprocess_s": round(post_s, 6),
                               "spill_bytes": cap.spill.bytes_written,
                               "tracer_errors": sum(g["count"] for g in end["gaps"] if g["kind"] == "tracer_error")})
        try:
            result.session_path = write_json(out_dir / SESSION, json_safe(session_manifest(header, result)))
        except OSError as exc:
            remove_partial_files(out_dir)
            result.warnings.append(f"session.json not written ({describe_os_error(exc)})")
        return result


def _drop_raw_records(cap: _Capture, out_dir: Path) -> None:
    if os.environ.get("SKELETON_KEEP_SPILL"):  # debugging aid: keep the raw records
        return
    for path in (cap.spill_path, out_dir / HEADER_SIDECAR, out_dir / END_SIDECAR):
        with contextlib.suppress(OSError):
            path.unlink()


def _lost_result(out_dir: Path, end: dict, message: str) -> RunResult:
    code = end.get("exit_code")
    return RunResult(out_dir, None, None, None, None, None, code if code is not None else 0, end.get("status", "ok"),
                     0, 0, end.get("error"), [], False, {}, lost=message)


def _child_result(out_dir: Path, exit_code: int, status: str) -> RunResult:
    return RunResult(out_dir, None, None, None, None, None, exit_code, status, 0, 0, None, child_process=True)


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
    for pattern in opts.secret_patterns:
        argv += ["--secret-pattern", pattern]
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
    line = line[:limit + SCAN_MARGIN]  # scanning costs what is written, not what the program produced
    if line.startswith(("AssertionError: assert ", "assert ")):  # pytest shows values: keep only the shape
        line = re.sub(r"'(?:[^'\\]|\\.){0,4096}'|\"(?:[^\"\\]|\\.){0,4096}\"", "'…'", line)
    line = summariser.scrub_text(line)
    if summariser.secret_name(line):
        return f"<redacted: {len(line)} characters that may hold a secret>"
    return line if len(line) <= limit else line[: limit - 1] + "…"


def scrub_header(summariser: Summariser, header: dict) -> dict:
    """The header's command lines once more at the end of the run: a word the run showed to be a
    secret (passed on the command line, then received under a secret name) is redacted too."""
    redact = summariser.redact_argv
    header = dict(header)
    for key in ("command", "invocation"):
        if isinstance(header.get(key), list):
            header[key] = redact(header[key])
    if isinstance(header.get("target"), dict) and isinstance(header["target"].get("args"), list):
        header["target"] = {**header["target"], "args": redact(header["target"]["args"])}
    return header


def _result(arts: Artifacts, end: dict, opened: bool) -> RunResult:
    s = arts.snapshot["stats"]
    return RunResult(arts.out_dir, arts.trace_path, arts.snapshot_path, arts.workflow_path, arts.report_path, None,
                     end.get("exit_code") if end.get("exit_code") is not None else 0, end.get("status", "ok"),
                     s["recorded_events"], s["dropped_events"], end.get("error"), arts.warnings, opened,
                     {"events": s["recorded_events"], "dropped_events": s["dropped_events"], "nodes": s["nodes"],
                      "edges": s["edges"], "calls": s["calls"], "threads": len(s["threads"]),
                      "scenarios": len(arts.snapshot.get("scenarios", ()))})


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the program deleted its working directory
        return None


def session_manifest(header: dict, r: RunResult) -> dict:
    def p(x):
        return str(x) if x is not None else None
    manifest = {
        "format_version": SESSION_FORMAT_VERSION,
        "skeleton_version": __version__,
        "command": header["command"],
        "invocation": header.get("invocation", header["command"]),
        "cwd": _cwd(),
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
        self.cap = _Capture(with_project_config(opts, root), root, self.out_dir, name, None)
        redact = self.cap.summariser.redact_argv
        header = _header(self.cap, root, redact(command), {**target, "args": redact(target.get("args", []))}, name)
        if invocation is not None:
            header["invocation"] = redact(invocation)
        self.header = json_safe(header)  # undecodable bytes in paths and arguments: JSON needs UTF-8
        write_json(self.out_dir / HEADER_SIDECAR, self.header)  # lets `skeleton report` recover a killed run

    @property
    def recorder(self) -> Recorder:
        return self.cap.recorder

    def start(self) -> None:
        self.cap.start()

    def error_info(self, exc: BaseException | None) -> dict | None:
        return _error_info(self.cap.summariser, exc)

    def safe_text(self, text: str, limit: int = 300) -> str:
        """One line of free text (a test failure message) that may be shown in the artifacts."""
        return safe_line(self.cap.summariser, text, limit)

    def stop(self, status: str = "ok", exit_code: int | None = 0, error: dict | None = None) -> RunResult:
        cap = self.cap
        cap.stop()
        if cap.child:  # a forked copy of the traced code ended here: the parent writes the artifacts
            return _child_result(self.out_dir, exit_code or 0, status)
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
    opts = Options(project_root=project_root, out_dir=out_dir)  # type: ignore[arg-type]  # checked by validate()
    unknown = sorted(set(kwargs) - set(Options.__dataclass_fields__))
    if unknown:
        raise TypeError(f"trace() got unknown option(s) {', '.join(unknown)}; known: {', '.join(Options.__dataclass_fields__)}")
    for k, v in kwargs.items():
        setattr(opts, k, tuple(v) if k in ("include", "exclude", "secret_names", "harness_files") and not isinstance(v, str) else v)
    opts.validate()
    root = _project_root(opts, Path.cwd() / "x.py")
    out_dir = run_out_dir(opts.out_dir, name, str(root), root)  # a run folder of its own by default (runs.py)
    live = LiveTrace(opts, name, root, out_dir, {"kind": "api", "path": name, "args": []}, [name])
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
