"""Recording a pytest session with Skeleton: one scenario per test.

Used by the `pytest --skeleton` plugin (pytest_plugin.py) and by `skeleton pytest`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..capture.filters import HARNESS_FILES
from ..lifecycle import Entry, RunLifecycle
from ..options import Options, UsageError
from ..pipeline import no_cyclic_gc
from ..render.text import run_summary
from ..result import RunResult
from ..run_capture import relative_to

DEFAULT_OUT = Path(".skeleton") / "pytest"  # under the rootdir
STASH = pytest.StashKey["SkeletonPytest"]()


class SkeletonPytest:
    """Records one pytest session; each test (setup, call, teardown) is one scenario."""

    def __init__(
        self,
        options: Options,
        command: list[str] | None = None,
        invocation: list[str] | None = None,
        announce: bool = False,
    ) -> None:
        self.options = options
        self.command = command
        self.invocation = invocation
        self.announce = announce  # print the summary in pytest's terminal report (pytest --skeleton)
        self.check_lines: list[str] = []  # --skeleton-check: the rule check's lines (printed with the summary)
        self.live: RunLifecycle | None = None
        self.result: RunResult | None = None
        self.error: str | None = None  # why nothing was recorded
        self._reports: list[pytest.TestReport] = []
        self._t0 = 0.0
        self._active = False
        self._files: dict[str, str] = {}  # a test file's path -> its name in the scenarios (_test_file)
        self._root: Path | None = None  # the project root, resolved once

    # -- session ---------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        if self.live is not None or self.error is not None:
            return
        config.stash[STASH] = self
        rootdir = Path(config.rootpath)
        # the browser is opened by `skeleton pytest` once pytest is done, never from inside the session
        opts = dataclasses.replace(
            self.options, harness_files=self.options.harness_files or HARNESS_FILES, open_report=False
        )
        args = list(config.invocation_params.args)
        command = self.command or ["pytest", *args]
        fixed = self.invocation or [
            sys.executable,
            "-m",
            "pytest",
            *args,
            *([] if "--skeleton" in args else ["--skeleton"]),
        ]

        def invocation(out_dir: Path) -> list[str]:
            if self.invocation and "--out-dir" not in fixed and "--" in fixed:  # reproduce into the same folder
                cut = fixed.index("--")
                return [*fixed[:cut], "--out-dir", str(out_dir), *fixed[cut:]]
            return fixed

        entry = Entry(
            kind="pytest",
            name="pytest",
            path=str(rootdir),
            args=args,
            command=command,
            invocation=invocation,
            key=str(rootdir.resolve()),
        )
        root = Path(opts.project_root).resolve() if opts.project_root else rootdir
        try:  # a run folder of its own per session, <rootdir>/.skeleton/pytest/<time>/, unless --out-dir (runs.py)
            self.live = RunLifecycle(opts, entry, root=root, default_out=rootdir / DEFAULT_OUT)
            self.live.start()
        except UsageError as exc:
            self.error = str(exc)
            self.live = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._finish(int(exitstatus))
        if (
            self.result is not None
            and self.result.snapshot_path is not None
            and not self.result.lost
            and (self.options.check or self.options.rules_file)
        ):  # --skeleton-check (commands/check.py)
            from ..commands.check import after_run

            try:
                session.exitstatus = after_run(
                    self.result.snapshot_path, self.options.rules_file, self.check_lines.append, int(session.exitstatus)
                )
            except UsageError as exc:
                self.check_lines.append(f"error: {exc}")
                session.exitstatus = session.exitstatus or pytest.ExitCode.USAGE_ERROR

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self._finish(None)  # when the session never finished (an internal error)

    def _finish(self, exitstatus: int | None) -> None:
        if self.live is not None and self._active:  # the session ended inside a test (Ctrl-C, pytest.exit)
            self._end_scenario()
        live, self.live = self.live, None
        if live is None:
            return
        status, error = "ok", None
        if exitstatus is None:
            status, error = "exception", {"type": "pytest", "message": "the pytest session did not finish"}
        elif exitstatus != 0:
            status = "interrupted" if exitstatus == 2 else "exit"
            meaning = _EXIT_MEANING.get(exitstatus, "see the pytest output")
            error = {"type": "pytest", "message": f"exit code {exitstatus}: {meaning}"}
        # No cyclic GC while the artifacts are built: the model makes hundreds of thousands of containers
        # and no cycles, and each full collection would walk them and everything the pytest session
        # holds (sqlparse's suite, 540 tests: 1.6 s of 4.3 s of post-processing CPU). Restored after,
        # with no collection due over what it allocated (pipeline.no_cyclic_gc).
        with no_cyclic_gc():
            live.stop()
            self.result = live.finish(status, exitstatus, error)

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
    ) -> None:
        if not self.announce:
            return
        tr = terminalreporter
        if self.error:
            tr.write_line(f"skeleton: error: {self.error}", red=True)
        elif self.result is not None:
            warnings = [f"warning: {w}" for w in self.result.warnings]
            for line in [*warnings, *run_summary(self.result, "--skeleton-max-events"), *self.check_lines]:
                tr.write_line(f"skeleton: {line}")

    # -- tests as scenarios ----------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        live = self.live
        if live is None:
            return (yield)
        file = line = None
        with contextlib.suppress(Exception):
            file = self._test_file(os.fspath(item.path), live.root)
            line = item.location[1] + 1 if item.location[1] is not None else None
        # a parametrized test's id shows its parameters: secret-looking ones and known secrets are redacted
        # each test gets its share of the recording budget: what is left / tests still to run (capture/budget.py)
        self._begun = getattr(self, "_begun", 0) + 1
        remaining = max(1, len(getattr(item.session, "items", ())) - self._begun + 1)
        live.recorder.begin_scenario(live.summariser.scrub_text(item.nodeid), "test", file, line, remaining)
        self._reports = []
        self._t0 = time.perf_counter()
        self._active = True
        try:
            return (yield)
        finally:
            if self._active:
                self._end_scenario()

    def _test_file(self, path: str, root: Path) -> str:
        """A test's file as the scenario names it: relative to the project root, else absolute (POSIX).
        Resolved once per file (two realpath walks a test were ~0.3 ms each on sqlparse's suite)."""
        file = self._files.get(path)
        if file is None:
            if self._root is None:
                self._root = root.resolve()
            resolved = Path(path).resolve()
            file = self._files[path] = relative_to(resolved, self._root) or resolved.as_posix()
        return file

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self._active:
            self._reports.append(report)

    def _end_scenario(self) -> None:
        self._active = False
        live = self.live
        if live is None:
            return
        outcome, message = _outcome(self._reports)
        if message:
            message = live.safe_text(message)
        live.recorder.end_scenario(outcome, round(time.perf_counter() - self._t0, 6), message)


_EXIT_MEANING = {1: "tests failed", 2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests collected"}


def _outcome(reports: list[pytest.TestReport]) -> tuple[str, str | None]:
    """pytest's outcome of one test from its setup/call/teardown reports."""
    if not reports:
        return "interrupted", None
    for r in reports:
        if r.failed and r.when != "call":
            return "error", _message(r)
    for r in reports:
        if r.when == "call" and hasattr(r, "wasxfail"):
            return ("xfailed" if r.skipped else "xpassed"), getattr(r, "wasxfail", None) or None
        if r.skipped:
            if hasattr(r, "wasxfail"):
                return "xfailed", r.wasxfail or None
            return "skipped", _message(r)
        if r.failed:
            return "failed", _message(r)
    if not any(r.when == "call" for r in reports):  # stopped before its call phase reported (pytest.exit, Ctrl-C)
        return "interrupted", None
    return "passed", None


def _message(report: pytest.TestReport) -> str | None:
    lr = report.longrepr
    if lr is None:
        return None
    if isinstance(lr, tuple) and len(lr) == 3:  # a skip: (file, line, reason)
        return re.sub(r"^Skipped: ", "", str(lr[2]))
    crash = getattr(lr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    text = str(lr).strip().splitlines()
    return text[-1] if text else None


def run_pytest(
    options: Options, args: list[str], command: list[str], invocation: list[str]
) -> tuple[int, SkeletonPytest]:
    """`skeleton pytest`: pytest in this process, recorded; returns pytest's exit code and the plugin.

    What exists before pytest starts (Skeleton's modules, click, orjson, pytest's own: nothing of the suite's,
    which pytest imports later) is frozen out of the suite's garbage collections, as `skeleton run` does
    (runner._freeze_startup_objects): each full collection of a suite otherwise walks it too (sqlparse's
    suite: 6 full collections, 0.43 s against 0.30 s for plain pytest's 5)."""
    from ..runner import _freeze_startup_objects

    plugin = SkeletonPytest(options, command, invocation)
    saved = list(sys.path)
    froze = _freeze_startup_objects(owns_process=True)
    try:
        code = pytest.main(list(args), plugins=[plugin])
    finally:
        if froze == "undo":
            gc.unfreeze()
        sys.path[:] = saved
        os.environ.pop("PYTEST_CURRENT_TEST", None)
    return int(code), plugin
