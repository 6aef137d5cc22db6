"""`skeleton pytest` from a normal (wheel) install, where warnings are errors.

The suite itself usually runs from an editable install, whose metadata lists no package files:
pytest then has nothing to mark for assertion rewriting and cannot warn that skeleton_replay was
imported before it could rewrite it. A wheel lists them all; `skeleton pytest` imports the package
before pytest starts, so pytest warned (`PytestAssertRewriteWarning: Module already imported so
cannot be rewritten; skeleton_replay`), an internal error under `-W error`. This module builds a
wheel of this checkout, installs it with pytest into a fresh venv (once: ~30 s) and checks that
the warning is gone. Runs in CI like every other test.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
TEST = "def add(a, b):\n    return a + b\n\ndef test_add():\n    assert add(1, 1) == 2\n"


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SKELETON_", "PYTEST_", "PYTHON"))}
    return {**env, "CI": "1"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    if os.environ.get("SKELETON_TEST_INSTALLED") == "1":  # scripts/test.sh: this venv already holds the wheel
        return Path(sys.executable).parent
    root = tmp_path_factory.mktemp("installed")
    wheels = root / "wheels"
    run = dict(capture_output=True, text=True, timeout=600, env=_env(), cwd=root)
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(wheels)], **run)
    assert p.returncode == 0, p.stderr
    (wheel,) = wheels.glob("skeleton_replay-*.whl")
    p = subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], **run)
    assert p.returncode == 0, p.stderr
    py = root / "venv" / "bin" / "python"
    p = subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel), "pytest"], **run)
    assert p.returncode == 0, p.stderr
    p = subprocess.run([str(py), "-c", "import skeleton_replay; print(skeleton_replay.__file__)"], **run)
    assert str(root / "venv") in p.stdout, "the wheel, not this checkout, must be what runs"
    return root / "venv" / "bin"


def _project(tmp_path: Path, config: str = "") -> Path:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_add.py").write_text(TEST)
    (tmp_path / "pyproject.toml").write_text(config)
    return tmp_path


def _skeleton_pytest(bin_dir: Path, project: Path, *pytest_args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / "skeleton"), "pytest", "--no-open", "--no-html", "--out-dir", "out", "--",
                           "-q", "-p", "no:cacheprovider", *pytest_args], cwd=project, capture_output=True, text=True,
                          timeout=300, env=_env())


def _clean(p: subprocess.CompletedProcess) -> None:
    text = p.stdout + p.stderr
    assert p.returncode == 0, text
    assert "Warning" not in text and "internal error" not in text, text
    assert "warnings summary" not in text and not re.search(r"\b\d+ warnings?\b", text), text
    assert "1 passed" in p.stdout and "skeleton: " in text


def test_warnings_as_errors_on_the_command_line(venv, tmp_path):
    _clean(_skeleton_pytest(venv, _project(tmp_path), "-W", "error"))


def test_warnings_as_errors_in_the_project_config(venv, tmp_path):
    project = _project(tmp_path, '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n')
    _clean(_skeleton_pytest(venv, project))


def test_no_warning_added_to_a_normal_run(venv, tmp_path):
    _clean(_skeleton_pytest(venv, _project(tmp_path)))


def test_plugin_from_plain_pytest(venv, tmp_path):
    project = _project(tmp_path)
    p = subprocess.run([str(venv / "pytest"), "--skeleton", "--skeleton-no-html", "-W", "error", "-q",
                        "-p", "no:cacheprovider"], cwd=project, capture_output=True, text=True, timeout=300, env=_env())
    _clean(p)
    assert (project / ".skeleton" / "pytest" / "latest" / "trace.jsonl").is_file()
