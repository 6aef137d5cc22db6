"""Shared helpers: run Skeleton on fixture apps in a subprocess and read what it wrote."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

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
        return [orjson.loads(line) for line in (self.out / "trace.jsonl").read_bytes().splitlines()]

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
# it sets SKELETON_TEST_INSTALLED=1 and runs pytest with -P. `python -m skeleton_replay` would put the
# current folder first on sys.path (the checkout, when it is the repository), so Skeleton is started the
# way users start it, through the installed `skeleton` command.
INSTALLED = os.environ.get("SKELETON_TEST_INSTALLED") == "1"
SKELETON_CMD = [str(Path(sys.executable).parent / "skeleton")] if INSTALLED else [sys.executable, "-m", "skeleton_replay"]


def pytest_configure(config):
    if INSTALLED:
        import skeleton_replay
        where = Path(skeleton_replay.__file__).resolve()
        assert REPO not in where.parents, (
            f"SKELETON_TEST_INSTALLED=1 but skeleton_replay was imported from the checkout ({where}): "
            "run pytest with python -P and install the wheel")


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


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from this run")
