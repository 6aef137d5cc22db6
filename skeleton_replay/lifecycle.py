"""One run lifecycle for every entry point: prepare → start → stop → finish → RunResult.

`skeleton run` and `-m` (through TraceSession), trace(), the pytest plugin and the web middlewares all
trace through RunLifecycle, so each gets the same steps: options validated and [tool.skeleton] merged,
the output folder prepared, the header built and redacted, the capture started and stopped, the end
record, the artifacts, session.json. A new entry point describes itself with an Entry:

    run = RunLifecycle(options, Entry(kind="api", name="job", path="job"))
    run.start()
    ...                      # the traced code
    run.stop()
    result = run.finish()    # or finish("exception", 1, run.error_info(exc))
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import keep, postworker
from .capture import Gate, Recorder
from .capture.summarise import Summariser
from .events.types import TraceEnd, TraceHeader
from .options import Options, UsageError, prepare_out_dir, run_out_dir, with_project_config
from .pipeline import (
    END_SIDECAR,
    HEADER_SIDECAR,
    SESSION,
    describe_os_error,
    from_spill,
    json_safe,
    lost_message,
    remove_partial_files,
    write_json,
)
from .plain import FrozenRecord, PlainRecord
from .result import RunResult, child_result, lost_result, result_from, session_manifest
from .run_capture import Capture, project_root_for
from .run_records import build_header, end_of_run, error_info, safe_line, scrub_header


class Entry(PlainRecord):
    """What a run traces, as its header shows it (`target`, `command`, `app_name`). (A plain record, not a
    dataclass: on the start-up path of every run, plain.py.)"""

    FIELDS = ("kind", "name", "path", "args", "command", "invocation", "main_module", "main_file", "key")

    def __init__(
        self,
        kind: str,
        name: str,
        path: str,
        args: list[str] | None = None,
        command: list[str] | None = None,
        invocation: list[str] | Callable[[Path], list[str]] | None = None,
        main_module: str | None = None,
        main_file: str | None = None,
        key: str | None = None,
    ) -> None:
        self.kind = kind  # script, module, pytest, api, request (the header's target.kind)
        self.name = name  # the app name: names the run folder (runs.py) and the report
        self.path = path  # target.path: the script, module, pytest rootdir, block name or request path
        self.args: list[str] = [] if args is None else args
        self.command = command  # what was typed (default: [name]); redacted before it is written
        # a command line that reproduces the run, when there is one (a function of the run's folder when it
        # names it); redacted before it is written
        self.invocation = invocation
        self.main_module = main_module  # the module that runs as __main__ (default: name)
        self.main_file = main_file  # its file
        self.key = key  # the absolute path of what runs: keeps run folders of same-named apps apart


class PreparedOptions(FrozenRecord):
    """Options ready for runs: validated, the project root found, its [tool.skeleton] merged in. Made once by
    prepare_options(); a RunLifecycle given them uses them as they are (the web middlewares prepare theirs at
    set-up, so a traced request neither validates them again nor re-reads pyproject.toml)."""

    FIELDS = ("options", "root")
    options: Options
    root: Path

    def __init__(self, options: Options, root: Path) -> None:
        object.__setattr__(self, "options", options)
        object.__setattr__(self, "root", root)


def prepare_options(options: Options, root: Path | None = None) -> PreparedOptions:
    """Validate (UsageError), find the project root (default: --project-root, else the nearest project above
    the working folder) and add its [tool.skeleton] settings."""
    options.validate()
    root = root if root is not None else project_root_for(options, Path.cwd() / "x.py")
    return PreparedOptions(with_project_config(options, root), root)


class RunLifecycle:
    """One traced run. Creating it prepares everything (UsageError for bad options or an unwritable
    folder); start() and stop() bracket the traced code; finish() writes the artifacts and returns the
    RunResult. Nothing is imported or built after stop() that could have been done before."""

    def __init__(
        self,
        options: Options | PreparedOptions,
        entry: Entry,
        *,
        root: Path | None = None,
        out_dir: Path | None = None,
        default_out: Path | None = None,
        gate: Gate | None = None,
        progress: Callable[[str], None] | None = None,
        whole_program: bool = False,
    ) -> None:
        """root: the project root (default: --project-root, else the nearest project above the working folder);
        out_dir: this exact folder (default: --out-dir, $SKELETON_OUT_DIR, else a new run folder, under
        default_out when given); gate: record only where it holds (web requests); whole_program: the run is a
        program started for it (`skeleton run`, run_script): post-processing starts now on the other core.
        PreparedOptions (prepare_options()) are used as they are, with their root (then `root` must be None)."""
        if isinstance(options, PreparedOptions):
            if root is not None:
                raise ValueError("prepared options carry their project root: pass root to prepare_options()")
            prepared = options
        else:
            prepared = prepare_options(options, root)
        self.entry = entry
        self.root, self.options = prepared.root, prepared.options
        self.progress = progress
        if out_dir is None:
            out_dir = run_out_dir(self.options.out_dir, entry.name, entry.key or str(self.root), self.root, default_out)
        self.out_dir = prepare_out_dir(out_dir).resolve()  # the program may chdir
        self.capture = Capture(
            self.options, self.root, self.out_dir, entry.main_module or entry.name, entry.main_file, gate
        )
        invocation = entry.invocation(self.out_dir) if callable(entry.invocation) else entry.invocation
        header = build_header(
            self.options,
            self.capture.backend.name,
            self.capture.reason,
            str(self.root),
            entry.command or [entry.name],
            {"kind": entry.kind, "path": entry.path, "args": list(entry.args)},
            entry.name,
            invocation,
        )
        self.header = _json_safe(scrub_header(self.summariser, header))  # JSON needs UTF-8 paths and arguments
        self.worker: postworker.Worker | None = None
        try:
            write_json(self.out_dir / HEADER_SIDECAR, self.header.as_json())  # `skeleton report` recovers a killed run
        except OSError as exc:
            self.discard()
            raise UsageError(
                f"cannot write to the output folder {self.out_dir} ({exc.strerror or exc}); "
                "choose another with --out-dir"
            ) from None
        if whole_program:  # the records are post-processed on the other core as they arrive (postworker.py)
            self.worker = postworker.start(
                self.out_dir, self.capture.spill_path, self.header.as_json(), self.options.max_events, self.options.html
            )
            keep.preload(("webbrowser",) if self.options.open_report else ())  # nothing is imported after the program

    # -- what entry points use while the code runs --------------------------------------------
    @property
    def recorder(self) -> Recorder:
        return self.capture.recorder

    @property
    def summariser(self) -> Summariser:
        return self.capture.summariser

    @property
    def child(self) -> bool:
        """This process is a forked copy of the traced one: it writes nothing."""
        return self.capture.child

    def update_header(self, **fields: Any) -> None:
        """Header fields known only once the capture exists (a web request's summary, made with the run's
        Summariser so that the secrets it redacts stay hidden in the trace too): before start()."""
        self.header = _json_safe(dataclasses.replace(self.header, **fields))
        write_json(self.out_dir / HEADER_SIDECAR, self.header.as_json())

    def start(self) -> None:
        self.capture.start()

    def stop(self) -> None:
        self.capture.stop()

    def discard(self) -> None:
        """A run that will not be finished: close the capture and drop its raw records."""
        self.capture.discard()
        if self.worker is not None:
            self.worker.abandon()
        with contextlib.suppress(OSError):
            self.capture.spill_path.unlink()

    def error_info(self, exc: BaseException | None) -> dict[str, Any] | None:
        """{"type", "message"} of the exception that ended the run, redacted as the run's summaries are."""
        return error_info(self.summariser, exc)

    def safe_text(self, text: str, limit: int = 300) -> str:
        """One line of free text (a test failure message) that may be shown in the artifacts."""
        return safe_line(self.summariser, text, limit)

    # -- the end ----------------------------------------------------------------------------
    def finish(self, status: str = "ok", exit_code: int | None = 0, error: dict[str, Any] | None = None) -> RunResult:
        """The end record, then every artifact and session.json (after stop())."""
        if self.capture.child:  # a forked copy of the traced code ended here: the parent writes the artifacts
            return child_result(self.out_dir, exit_code or 0, status)
        end = end_of_run(self.capture.duration_s, status, exit_code, error, self.capture.gaps())
        end.sampling = self.capture.recorder.sampled  # the recording budgets' account (capture/budget.py)
        self.header = scrub_header(self.summariser, self.header)  # secrets learned during the run
        return self._write(end)

    def _write(self, end: TraceEnd) -> RunResult:
        cap, out_dir, opts, say = self.capture, self.out_dir, self.options, self.progress
        t0 = time.perf_counter()

        def progress(n: int) -> None:
            if say is not None:
                say(f"processed {n:,} events")

        spill_error = cap.spill.error
        if spill_error is not None:  # disk full or folder gone during the run: build from what was written
            end.gaps.append(
                {
                    "kind": "truncated",
                    "count": cap.spill.records_lost,
                    "message": f"writing the raw records failed during the run "
                    f"({describe_os_error(spill_error)}): the last "
                    f"{cap.spill.records_lost:,} records are lost",
                }
            )
        with contextlib.suppress(OSError):  # evidence for `skeleton report` that the program did end
            write_json(out_dir / END_SIDECAR, end.run_end())
        try:
            arts = None
            if self.worker is not None:
                if spill_error is None:
                    arts = self.worker.finish(end.run_end(), say)  # None: it failed or stepped aside; do it here
                else:
                    self.worker.abandon()
            if arts is None:
                arts = from_spill(
                    cap.spill_path, out_dir, self.header.as_json(), end.run_end(), opts.max_events, opts.html, progress
                )
        except OSError as exc:  # the output folder disappeared or filled up: the program's result still counts
            remove_partial_files(out_dir)
            self._drop_raw_records()
            return lost_result(out_dir, end, lost_message(out_dir, exc))
        # (any other error is Skeleton's: the raw records stay for `skeleton report`)
        self._drop_raw_records()
        post_s = time.perf_counter() - t0
        opened = False
        if opts.open_report and arts.report_path is not None:
            from .render.browser import open_in_browser

            opened = open_in_browser(arts.report_path)
        result = result_from(arts, end, opened)
        if spill_error is not None:
            result.warnings.insert(
                0,
                f"writing the raw records to {out_dir} failed during the run "
                f"({describe_os_error(spill_error)}): the artifacts hold only what was written "
                "before; free some space or choose another folder with --out-dir",
            )
        if self.worker is not None:
            result.metrics.update(self.worker.metrics)  # the worker is not our child: its cost, counted by itself
        result.metrics.update(
            {
                "tracing_s": end.duration_s,
                "postprocess_s": round(post_s, 6),
                "spill_bytes": cap.spill.bytes_written,
                "tracer_errors": sum(g["count"] for g in end.gaps if g["kind"] == "tracer_error"),
            }
        )
        try:
            result.session_path = write_json(out_dir / SESSION, json_safe(session_manifest(self.header, result)))
        except OSError as exc:
            remove_partial_files(out_dir)
            result.warnings.append(f"session.json not written ({describe_os_error(exc)})")
        return result

    def _drop_raw_records(self) -> None:
        if os.environ.get("SKELETON_KEEP_SPILL"):  # debugging aid: keep the raw records
            return
        for path in (self.capture.spill_path, self.out_dir / HEADER_SIDECAR, self.out_dir / END_SIDECAR):
            with contextlib.suppress(OSError):
                path.unlink()


def _json_safe(header: TraceHeader) -> TraceHeader:
    """Undecodable bytes in paths and arguments (lone surrogates) become U+FFFD."""
    return dataclasses.replace(
        header, **{f.name: json_safe(getattr(header, f.name)) for f in dataclasses.fields(header)}
    )
