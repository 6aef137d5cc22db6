"""What `skeleton run` imports before the program for the post-run path (keep.preload): what that path needs,
and not more (issue 16: every import is paid by every run)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BREAK_IMPORTS_THEN_FAIL = """
import sys
def inner():
    raise ValueError("boom")
sys.meta_path[:] = []
sys.path_hooks[:] = []
sys.path_importer_cache.clear()
for name in [n for n in sys.modules if n.split(".")[0] in ("traceback", "linecache", "textwrap", "tokenize")]:
    del sys.modules[name]
inner()
"""


def _skeleton(tmp_path: Path, script: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", str(tmp_path / "o"), str(script)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)


def test_the_traceback_module_is_preloaded_only_where_python_prints_with_it(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text("import sys\nprint('traceback' in sys.modules)\n")
    p = _skeleton(tmp_path, script)
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"{sys.version_info >= (3, 13)}\n"


def test_an_uncaught_exception_after_the_program_broke_imports_prints_as_under_python(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(BREAK_IMPORTS_THEN_FAIL)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    traced = _skeleton(tmp_path, script)
    assert traced.returncode == plain.returncode == 1, traced.stderr
    program_err = "".join(x for x in traced.stderr.splitlines(True) if not x.startswith("skeleton: "))
    assert program_err == plain.stderr
    assert 'raise ValueError("boom")' in program_err and "ValueError: boom" in program_err
