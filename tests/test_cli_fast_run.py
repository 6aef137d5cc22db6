"""`skeleton run` parses its plain command lines without importing click (cli.fast_run: click's import cost more
than the rest of the command line); whatever it takes, it gives exactly the values click gives."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skeleton_replay.cli import _split_module_args, cli, fast_run


def _click(argv: list[str]) -> dict[str, Any]:
    ctx = cli.commands["run"].make_context("run", argv[1:])
    return dict(ctx.params)


TAKEN = [
    ["run", "app.py"],
    ["run", "app.py", "--json", "-m", "x", "--", "--no-open"],
    ["run", "--no-open", "--json", "--max-events", "0", "--out-dir", "o", "app.py", "a", "-b"],
    ["run", "--max-events=12", "--include", "a.*", "--include=b", "--exclude", "c", "app.py"],
    ["run", "--project-root", "/tmp", "--secret-name", "pin", "--secret-pattern", "zz[0-9]+", "app.py"],
    ["run", "--no-html", "--include-private", "--check", "--rules", "r.toml", "--backend", "setprofile", "x.py"],
    ["run", "--backend=sysmon", "--", "-odd-name.py", "--flag"],
    ["run", "--", "app.py"],
    ["run", "-"],
    ["run", "-m", "pkg.mod", "arg", "--json"],
    ["run", "--json", "-m", "pkg.mod"],
    ["run", "-mpkg.mod", "x"],
    ["run", "--out-dir", "o", "-m", "pkg", "--", "y"],
    ["run"],
    ["run", "--no-open"],
    ["run", "-m", "a", "-m", "b"],  # everything after the module is its own
]

LEFT_TO_CLICK = [
    ["run", "--help"],
    ["run", "-h", "app.py"],
    ["--version"],
    ["report", "out"],
    ["run", "--bogus", "app.py"],
    ["run", "--max-events", "-1", "app.py"],
    ["run", "--max-events", "1e3", "app.py"],
    ["run", "--max-events", "５", "app.py"],
    ["run", "--max-events", "1", "--max-events", "2", "app.py"],
    ["run", "--backend", "nosuch", "app.py"],
    ["run", "--out-dir=", "app.py"],
    ["run", "--out-dir", "", "app.py"],
    ["run", "--include", "-x", "app.py"],
    ["run", "--no-open=1", "app.py"],
    ["run", "--out-dir"],
    ["run", "", "x"],
    ["run", "--no-ope", "app.py"],
]


@pytest.mark.parametrize("argv", TAKEN, ids=" ".join)
def test_plain_run_command_lines_are_parsed_as_click_parses_them(argv: list[str]) -> None:
    argv = _split_module_args(argv)
    fast = fast_run(argv)
    assert fast is not None
    assert fast == _click(argv)


@pytest.mark.parametrize("argv", LEFT_TO_CLICK, ids=" ".join)
def test_anything_else_is_left_to_click(argv: list[str]) -> None:
    assert fast_run(_split_module_args(argv)) is None


TOKENS = ["run", "--", "-", "-m", "--json", "--no-open", "--no-html", "--check", "--max-events", "--max-events=3",
          "--include", "--include=", "--out-dir", "--backend", "sysmon", "7", "-7", "app.py", "x", "", "--help",
          "-mpkg", "--include-private", "--rules=r", "--secret-name", "=", "-x"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=9))
def test_whatever_the_fast_path_takes_click_parses_the_same(tokens: list[str]) -> None:
    argv = _split_module_args(["run", *tokens])
    fast = fast_run(argv)
    if fast is not None:
        assert fast == _click(argv)


def test_skeleton_run_does_not_import_click(tmp_path: Path) -> None:
    """The traced program shares the interpreter: it sees whether Skeleton imported click."""
    script = tmp_path / "app.py"
    script.write_text("import sys\nprint('click' in sys.modules, 'skeleton_replay.commands.app' in sys.modules)\n")
    run = [sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "o")]
    p = subprocess.run([*run, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "False False\n"
    p = subprocess.run([*run, "--max-events", "1", "--max-events", "2", str(script)], capture_output=True, text=True,
                       cwd=tmp_path)  # repeated: click parses, and the run is the same
    assert p.returncode == 0, p.stderr
    assert p.stdout == "True True\n"
