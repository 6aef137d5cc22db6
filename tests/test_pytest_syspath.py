"""`skeleton pytest` finds a project's modules exactly as pytest does (docs/pytest.md, "sys.path"): the `skeleton`
command puts no folder on sys.path, as the `pytest` command; `python -m skeleton_replay pytest` puts the current
folder first, as `python -m pytest`. A project whose tests import modules of its root says so to pytest."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def _project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "tests").mkdir(parents=True)
    (proj / "shelf.py").write_text("def count():\n    return 3\n")
    (proj / "tests" / "test_shelf.py").write_text("from shelf import count\n\n"
                                                   "def test_count():\n    assert count() == 3\n")
    return proj


def _rc(cmd: list[str], proj: Path, out: Path) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    skel = ["pytest", "--no-open", "--no-html", "--out-dir", str(out), "--"] if "skeleton" in " ".join(cmd) else []
    p = subprocess.run([*cmd, *skel, "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "tests"], cwd=proj,
                       capture_output=True, text=True, env={**env, "CI": "1"}, timeout=120)
    return p.returncode


def test_skeleton_pytest_puts_on_sys_path_what_pytest_does(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    # the commands: the root is not on sys.path, `from shelf import count` fails to collect (exit code 2)
    pytest_cmd = [str(BIN / "pytest")] if (BIN / "pytest").exists() else [sys.executable, "-P", "-m", "pytest"]
    assert _rc(pytest_cmd, proj, tmp_path / "a") == 2
    assert _rc([str(BIN / "skeleton")], proj, tmp_path / "b") == 2
    # python -m: the current folder first
    assert _rc([sys.executable, "-m", "pytest"], proj, tmp_path / "c") == 0
    assert _rc([sys.executable, "-m", "skeleton_replay"], proj, tmp_path / "d") == 0


def test_the_projects_pythonpath_setting_is_what_makes_its_root_importable(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    (proj / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    assert _rc([str(BIN / "skeleton")], proj, tmp_path / "o") == 0
    assert '"node_id":"fn:shelf:count"' in (tmp_path / "o" / "trace.jsonl").read_text()  # project code, recorded
