"""The traced program reloads and deletes its own modules (and Skeleton's) while it runs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS, skeleton  # noqa: E402

from ._checks import check_stacks, no_leftovers, read_trace, run_both

MOD = """
VERSION = 1
class Thing:
    def value(self):
        return VERSION
def helper(x):
    return x + VERSION
def gen(n):
    for i in range(n):
        yield helper(i)
"""

APP = """
import importlib, sys
import pkg.mod as mod

def run_once(label):
    m = sys.modules.get("pkg.mod") or importlib.import_module("pkg.mod")
    g = m.gen(3)
    first = next(g)
    return label, m.Thing().value(), m.helper(1), first, list(g)

def main():
    print(run_once("a"))
    old_gen = mod.gen(2)  # suspended across the reload: resumes in the old code
    next(old_gen)
    with open(mod.__file__, "a") as f:
        f.write("\\nVERSION = 2\\n")
    importlib.reload(mod)
    print(run_once("b"))
    print("old gen", list(old_gen))
    del sys.modules["pkg.mod"]
    del sys.modules["pkg"]
    print(run_once("c"))
    sys.modules.pop("__main__", None)  # the program drops its own __main__
    print(run_once("d"))

main()
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_reload_and_delete_own_modules(tmp_path, backend):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(MOD)
    script = tmp_path / "app.py"
    script.write_text(APP)
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert plain.returncode == 0, plain.stderr
    (tmp_path / "pkg" / "mod.py").write_text(MOD)  # the program edited it: start again from version 1
    shutil.rmtree(tmp_path / "pkg" / "__pycache__", ignore_errors=True)
    out = tmp_path / "out"
    traced = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out), str(script),
                      cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    assert "('b', 2, 3, 2, [3, 4])" in traced.stdout and "old gen [3]" in traced.stdout
    header, events, end = read_trace(out)
    check_stacks(events)
    assert end["gaps"] == []
    calls = [e["callee"]["node_id"] for e in events if e["event_type"] == "call"]
    # one node per function, whichever copy of the module ran it
    assert calls.count("fn:pkg.mod:helper") == 4 * (3 + 1) + 2  # 4 runs, and the old generator twice
    assert calls.count("fn:pkg.mod:gen") == 5
    snap = json.loads((out / "snapshot.json").read_text())
    ids = [n["id"] for n in snap["nodes"]]
    assert len(ids) == len(set(ids))
    assert ids.count("fn:pkg.mod:helper") == 1
    assert no_leftovers(out) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_program_deletes_skeletons_modules(tmp_path, backend):
    """Post-processing imports lazily; a program that empties Skeleton's modules must not break it."""
    plain, traced, out = run_both(tmp_path, """
        import importlib, json, sys
        def work(x):
            return x + 1
        def main():
            work(1)
            gone = [k for k in sys.modules if k.startswith("skeleton_replay")]
            for k in gone:
                del sys.modules[k]
            importlib.reload(json)
            print(work(2))
        main()
    """, backend=backend, extra=("--out-dir", "html-out"))
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "3\n"
    out = out.parent / "html-out"  # the later --out-dir wins; this run also writes report.html
    header, events, end = read_trace(out)
    check_stacks(events)
    assert [e["callee"]["function"] for e in events if e["event_type"] == "call"] == ["main", "work", "work"]
    assert "Traceback" not in traced.stderr
