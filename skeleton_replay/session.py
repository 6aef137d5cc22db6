"""The Python API: TraceSession(...).run_script(path, args) and the trace() context manager.

Both trace through the run lifecycle (lifecycle.py), as the CLI, pytest and the web middlewares do.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .capture import Recorder
from .capture.filters import in_stdlib_or_installed, module_from_path
from .lifecycle import Entry, RunLifecycle
from .options import Options, option_argv, options_from
from .plain import PlainRecord
from .result import SESSION_FORMAT_VERSION, RunResult, session_manifest
from .run_capture import project_root_for, relative_to
from .run_records import safe_line, scrub_header
from .runner import ScriptRunner
from .targets import Target, module_target, script_target

__all__ = [
    "SESSION_FORMAT_VERSION",
    "RunResult",
    "TraceSession",
    "TracedBlock",
    "safe_line",
    "scrub_header",
    "session_manifest",
    "trace",
]


class TraceSession:
    """Run a script or a module under the tracer, in this process, as `python` would."""

    def __init__(
        self,
        project_root: str | os.PathLike[str] | None = None,
        out_dir: str | os.PathLike[str] | None = None,
        include: str | Iterable[str] = (),
        exclude: str | Iterable[str] = (),
        max_events: int | None = None,
        html: bool = True,
        open_report: bool = False,
        include_private: bool = False,
        backend: str | None = None,
        options: Options | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        if options is None:
            given: dict[str, Any] = {
                "project_root": project_root,
                "out_dir": out_dir,  # checked by validate()
                "include": include if isinstance(include, str) else tuple(include),
                "exclude": exclude if isinstance(exclude, str) else tuple(exclude),
                "html": html,
                "open_report": open_report,
                "include_private": include_private,
                "backend": backend,
            }
            if max_events is not None:
                given["max_events"] = max_events
            options = options_from(given)
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
        root = project_root_for(self.options, Path(os.path.abspath(script)) if in_zip else main)
        rel = None if in_zip else relative_to(main.resolve(), root)
        entry = Entry(
            kind="script",
            name=script.stem,
            path=str(path),
            args=list(args),
            main_module=module_from_path(rel) if rel else main.stem,
        )
        return self._run(target, entry, root, [str(path)], [str(script.resolve())])

    def run_module(self, name: str, args: list[str] | tuple[str, ...] = ()) -> RunResult:
        """Run a module as `python -m name args` would (a package runs its __main__)."""
        self.options.validate()
        target = module_target(name)
        # the project is the module's own, unless the module is the standard library's or an installed package's
        # (python -m unittest, -m http.server): then the code it runs is the current folder's
        main = Path(target.main_file)
        root = project_root_for(self.options, Path.cwd() / "x.py" if in_stdlib_or_installed(str(main)) else main)
        entry = Entry(kind="module", name=name, path=name, args=list(args), main_module=target.module_name or name)
        return self._run(target, entry, root, ["-m", name], ["-m", name])

    def _run(self, target: Target, entry: Entry, root: Path, shown: list[str], reproduce: list[str]) -> RunResult:
        opts = self.options
        entry.main_file = target.main_file
        entry.key = os.path.abspath(target.main_file)
        entry.command = ["skeleton", "run", *option_argv(opts), *shown, *entry.args]
        entry.invocation = lambda out_dir: [
            sys.executable,
            "-m",
            "skeleton_replay",
            "run",
            *option_argv(opts, absolute=True),
            "--out-dir",
            str(out_dir),
            "--project-root",
            str(root),
            *reproduce,
            *entry.args,
        ]
        run = RunLifecycle(opts, entry, root=root, progress=self.progress, whole_program=True)
        outcome = ScriptRunner(target, entry.args, self.owns_process).run(run.start, run.stop)
        error = None
        if outcome.status in ("exception", "interrupted") or (outcome.status == "exit" and outcome.exit_code != 0):
            error = run.error_info(outcome.exception)
        return run.finish(outcome.status, outcome.exit_code, error)


class TracedBlock(PlainRecord):
    """What `with trace() as run:` gives: run.recorder while the block runs, run.result once it is done."""

    FIELDS = ("recorder", "result", "session")

    def __init__(self, recorder: Recorder, result: RunResult | None = None, session: bool = False) -> None:
        self.recorder = recorder
        self.result = result
        self.session = session  # skeleton_trace under `pytest --skeleton`: the test is part of the session's recording

    def __getitem__(self, key: str) -> Any:
        """run["result"], run["recorder"]: the mapping access of earlier versions."""
        if key not in ("result", "recorder", "session"):
            raise KeyError(key)
        return getattr(self, key)


@contextlib.contextmanager
def trace(
    out_dir: str | os.PathLike[str] | None = None,
    project_root: str | os.PathLike[str] | None = None,
    name: str = "trace",
    scenario: str | None = None,
    **options: Any,
) -> Iterator[TracedBlock]:
    """Trace a block of code already running in this process.

    with trace(out_dir="out") as run: ...   then run.result is a RunResult.
    scenario="checkout" records the block as one named scenario.
    """
    opts = options_from({"project_root": project_root, "out_dir": out_dir, **options}, "trace() got ")
    opts.validate()
    root = project_root_for(opts, Path.cwd() / "x.py")
    run = RunLifecycle(opts, Entry(kind="api", name=name, path=name), root=root)
    block = TracedBlock(run.recorder)
    status, code, err = "ok", 0, None
    run.start()
    t0 = time.perf_counter()
    if scenario is not None:  # the block's own recording share, as a pytest test gets (budget.py)
        run.recorder.begin_scenario(scenario, "block", remaining=1)
    try:
        yield block
    except BaseException as exc:
        status, code, err = "exception", 1, run.error_info(exc)
        raise
    finally:
        if scenario is not None:
            run.recorder.end_scenario(
                "passed" if status == "ok" else "failed",
                round(time.perf_counter() - t0, 6),
                f"{err['type']}: {err['message']}" if err else None,
            )
        run.stop()
        block.result = run.finish(status, code, err)
