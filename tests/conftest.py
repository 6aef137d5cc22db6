"""Shared helpers: run Skeleton on fixture apps in a subprocess and read what it wrote."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

import tracecheck

APPS = Path(__file__).parent / "apps"
collect_ignore = ["apps"]  # fixture programs and the sample pytest project, not tests of this suite
REPO = Path(__file__).parent.parent
HAS_SYSMON = sys.version_info >= (3, 12)


@dataclass
class Run:
    proc: subprocess.CompletedProcess
    out: Path

    @property
    def code(self) -> int:
        return self.proc.returncode

    def lines(self) -> list[dict]:
        return tracecheck.check_trace(self.out / "trace.jsonl")  # checked against trace.schema.json

    def events(self) -> list[dict]:
        return [d for d in self.lines() if "event_type" in d]

    def header(self) -> dict:
        return self.lines()[0]

    def end(self) -> dict:
        return self.lines()[-1]

    def snapshot(self) -> dict:
        return orjson.loads((self.out / "snapshot.json").read_bytes())

    def workflow(self) -> str:
        return (self.out / "workflow.md").read_text("utf-8")


# scripts/test.sh (and so CI) runs the suite against the wheel installed in the venv, not the checkout:
# it sets SKELETON_TEST_INSTALLED=1 and runs pytest from an empty folder (not with -P: a host started with -P
# makes run_script follow python -P), so the checkout is not on sys.path. `python -m skeleton_replay` would put
# the current folder first on sys.path, so Skeleton is started the way users start it, through the installed
# `skeleton` command.
INSTALLED = os.environ.get("SKELETON_TEST_INSTALLED") == "1"
SKELETON_CMD = [str(Path(sys.executable).parent / "skeleton")] if INSTALLED else [sys.executable, "-m", "skeleton_replay"]


def pytest_configure(config):
    config.addinivalue_line("markers", "trace_tampered: the test rewrites a trace.jsonl on purpose; "
                                       "it is not checked against trace.schema.json")
    if INSTALLED:
        import skeleton_replay
        where = Path(skeleton_replay.__file__).resolve()
        assert REPO / "skeleton_replay" not in where.parents, (
            f"SKELETON_TEST_INSTALLED=1 but skeleton_replay was imported from the checkout ({where}): "
            "run pytest from a folder outside the checkout and install the wheel (scripts/test.sh)")


def skeleton(*args: str, cwd: Path | None = None, stdin: str | None = None, env: dict | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "CI": "1", **(env or {})}
    return subprocess.run([*SKELETON_CMD, *args], cwd=cwd, input=stdin, text=True,
                          capture_output=True, env=full_env, timeout=timeout)


@pytest.fixture
def run_app(tmp_path):
    """run_app("basics", "arg", backend=None, extra=[...]) -> Run"""
    counter = [0]

    def run(app: str, *args: str, backend: str | None = None, extra: tuple[str, ...] = (), stdin: str | None = None) -> Run:
        counter[0] += 1
        out = tmp_path / f"out{counter[0]}"
        folder = APPS / app
        opts = ["run", "--no-open", "--out-dir", str(out), "--project-root", str(folder), *extra]
        if backend:
            opts += ["--backend", backend]
        proc = skeleton(*opts, str(folder / "app.py"), *args, stdin=stdin)
        return Run(proc, out)

    return run


BACKENDS = ["setprofile"] + (["sysmon"] if HAS_SYSMON else [])


# -- every trace.jsonl a test leaves in its tmp_path is checked against trace.schema.json (tests/tracecheck.py) --
# Tests that rewrite a trace on purpose (cut, corrupt, forged) carry @pytest.mark.trace_tampered (registered in
# pytest_configure above): their traces are not checked.


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield  # the fixtures are torn down: traces written at teardown (skeleton_trace) exist now
    tmp = (getattr(item, "funcargs", None) or {}).get("tmp_path")
    if isinstance(tmp, Path) and tmp.is_dir():
        tampered = item.get_closest_marker("trace_tampered") is not None
        for trace in tracecheck.traces_under(tmp):
            if tampered:
                tracecheck.skip(trace)
            elif not tracecheck.seen(trace):
                tracecheck.check_trace(trace)  # a teardown error names the file and line
    return result


def pytest_sessionfinish(session, exitstatus):
    """Traces written outside a test's own tmp_path (module fixtures use tmp_path_factory)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    base = getattr(factory, "_basetemp", None)
    if base is None or not Path(base).is_dir():
        return
    problems = []
    for trace in tracecheck.traces_under(Path(base)):
        if not tracecheck.seen(trace):
            try:
                tracecheck.check_trace(trace)
            except (AssertionError, ValueError) as exc:
                problems.append(str(exc).splitlines()[0])
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            reporter.write_sep("=", "trace.jsonl files that do not match trace.schema.json", red=True)
            for line in problems:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from this run")
