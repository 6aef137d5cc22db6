"""Skeleton and coverage.py in one process: both measure, neither breaks the other.

Skeleton takes a free sys.monitoring tool id (preferring 4) and coverage takes 1, so on 3.12+
both can use sys.monitoring at once; with coverage's trace-function cores, settrace and
Skeleton's hooks are independent."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS, HAS_SYSMON, skeleton  # noqa: E402

from ._checks import check_stacks, read_trace

coverage = pytest.importorskip("coverage")

CORES = ["ctrace"] + (["sysmon"] if HAS_SYSMON else [])

APP = """
def helper(x):
    if x > 2:
        return "big"
    return "small"

def main():
    print([helper(i) for i in range(5)])

main()
"""

SELF_COVERING = """
import coverage
cov = coverage.Coverage(data_file="self.coverage")
cov.start()

def helper(x):
    if x > 2:
        return "big"
    return "small"

def main():
    return [helper(i) for i in range(5)]

print(main())
cov.stop()
cov.save()
print("saved")
"""


def executed(data_file: Path, source: Path) -> set[int]:
    data = coverage.CoverageData(basename=str(data_file))
    data.read()
    return set(data.lines(str(source.resolve())) or ())


def calls(out: Path) -> list[str]:
    header, events, end = read_trace(out)
    check_stacks(events)
    assert not [g for g in end["gaps"] if g["kind"] == "tracer_error"], end["gaps"]
    return [e["callee"]["function"] for e in events if e["event_type"] == "call"]


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_skeleton_under_coverage_run(tmp_path, core, backend):
    (tmp_path / "pyproject.toml").write_text("")
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(APP))
    env = {**os.environ, "COVERAGE_CORE": core, "CI": "1"}
    plain = subprocess.run([sys.executable, str(app)], capture_output=True, text=True, cwd=tmp_path)
    p = subprocess.run([sys.executable, "-m", "coverage", "run", "--data-file", str(tmp_path / "cov.data"), "-m",
                        "skeleton_replay", "run", "--no-open", "--no-html", "--backend", backend, "--out-dir", "out",
                        str(app)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == plain.stdout
    assert calls(tmp_path / "out") == ["main"] + ["helper"] * 5
    assert executed(tmp_path / "cov.data", app) == {2, 3, 4, 5, 7, 8, 10}


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_program_that_starts_coverage_itself(tmp_path, core, backend):
    (tmp_path / "pyproject.toml").write_text("")
    app = tmp_path / "selfcov.py"
    app.write_text(textwrap.dedent(SELF_COVERING))
    env = {"COVERAGE_CORE": core}
    plain = subprocess.run([sys.executable, str(app)], capture_output=True, text=True, cwd=tmp_path,
                           env={**os.environ, **env})
    assert plain.returncode == 0, plain.stderr
    expected = executed(tmp_path / "self.coverage", app)
    assert {7, 8, 9, 12} <= expected  # the functions' bodies ran under coverage
    (tmp_path / "self.coverage").unlink()
    traced = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", "out", str(app),
                      cwd=tmp_path, env=env)
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    assert executed(tmp_path / "self.coverage", app) == expected  # coverage measured exactly as without Skeleton
    assert calls(tmp_path / "out") == ["main"] + ["helper"] * 5


@pytest.mark.skipif(not HAS_SYSMON, reason="sys.monitoring tool ids exist on 3.12+")
def test_every_tool_id_taken_is_one_clear_line(tmp_path):
    """Other tools hold all six sys.monitoring ids: Skeleton says so and how to go on; it evicts nobody."""
    app = tmp_path / "app.py"
    app.write_text(textwrap.dedent(APP))
    hog = ("import sys\nfor i in range(6):\n    sys.monitoring.use_tool_id(i, f'tool{i}')\n"
           "from skeleton_replay.cli import main\nrc = main()\n"
           "assert [sys.monitoring.get_tool(i) for i in range(6)] == [f'tool{i}' for i in range(6)]\nsys.exit(rc)\n")
    p = subprocess.run([sys.executable, "-c", hog, "run", "--no-open", "--out-dir", "out", str(app)],
                       capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "CI": "1"}, timeout=120)
    assert p.returncode == 2 and p.stdout == "", p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skeleton: error: no free sys.monitoring tool id (held: 0=tool0")
    assert lines[0].endswith("stop the other tool or use --backend setprofile")
    p = subprocess.run([sys.executable, "-c", hog, "run", "--no-open", "--no-html", "--backend", "setprofile",
                        "--out-dir", "out", str(app)], capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "CI": "1"}, timeout=120)
    assert p.returncode == 0, p.stderr
    assert calls(tmp_path / "out") == ["main"] + ["helper"] * 5
