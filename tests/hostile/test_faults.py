"""The traced program misbehaves: Skeleton's artifacts and the program's own behaviour survive."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS, skeleton  # noqa: E402


def run(tmp_path, source, *args, backend=None, out="out"):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    opts = ["run", "--no-open", "--no-html", "--out-dir", out, *(["--backend", backend] if backend else []), str(script), *args]
    plain = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, capture_output=True, text=True)
    traced = skeleton(*opts, cwd=tmp_path)
    return plain, traced, tmp_path / out


@pytest.mark.parametrize("backend", BACKENDS)
def test_program_changes_directory(tmp_path, backend):
    (tmp_path / "elsewhere").mkdir()
    plain, traced, out = run(tmp_path, """
        import os
        def move():
            os.chdir("elsewhere")
            return os.getcwd()
        print(os.path.basename(move()))
    """, backend=backend)
    assert traced.returncode == plain.returncode == 0 and traced.stdout == plain.stdout
    assert (out / "trace.jsonl").exists() and (out / "snapshot.json").exists()  # relative --out-dir kept its meaning
    assert not (tmp_path / "elsewhere" / "out").exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_program_replaces_stdout_and_uses_its_own_profiler(tmp_path, backend):
    plain, traced, out = run(tmp_path, """
        import io, sys
        seen = []
        def hook(frame, event, arg):
            if event == "call":
                seen.append(frame.f_code.co_name)
        def work(x):
            return x * 2
        buf = io.StringIO()
        real, sys.stdout = sys.stdout, buf
        print("captured")
        sys.stdout = real
        sys.setprofile(hook)
        work(2)
        sys.setprofile(None)
        print(buf.getvalue().strip(), "work" in seen)
    """, backend=backend)
    assert traced.returncode == plain.returncode == 0
    if backend == "sysmon" or sys.version_info < (3, 12) and backend is None:
        assert traced.stdout == plain.stdout == "captured True\n"
    else:  # setprofile backend: the program's own hook replaced ours while it was set
        assert traced.stdout.startswith("captured")
    end = json.loads((out / "trace.jsonl").read_text().splitlines()[-1])
    assert end["status"] == "ok"


@pytest.mark.parametrize("code,expected", [("None", 0), ("0", 0), ("4", 4), ("'bye'", 1), ("True", 1), ("-1", 255)])
def test_sys_exit_values(tmp_path, code, expected):
    plain, traced, out = run(tmp_path, f"""
        import sys
        def leave():
            sys.exit({code})
        leave()
    """)
    assert traced.returncode == plain.returncode == expected
    assert traced.stdout == plain.stdout
    assert plain.stderr in traced.stderr
    end = json.loads((out / "trace.jsonl").read_text().splitlines()[-1])
    assert end["exit_code"] == expected and end["status"] == "exit"


def test_os_exit_leaves_a_recoverable_run(tmp_path):
    """os._exit skips all cleanup (documented): the spill and header remain for `skeleton report`."""
    plain, traced, out = run(tmp_path, """
        import os
        def quit_now():
            os._exit(7)
        quit_now()
    """)
    assert traced.returncode == plain.returncode == 7
    assert not (out / "trace.jsonl").exists() and (out / ".trace-header.json").exists()
    p = skeleton("report", "--no-html", str(out))
    assert p.returncode == 0 and "killed before it finished" in p.stderr
