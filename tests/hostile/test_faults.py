"""The traced program misbehaves: Skeleton's artifacts and the program's own behaviour survive."""
from __future__ import annotations

import json
import os
import re
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
    assert p.returncode == 0 and "killed before it finished (or it called os._exit())" in p.stderr


# -- the program breaks what Skeleton needs afterwards: streams, builtins, sys.modules ----------
WRITER = """
class Writer:  # a stream without isatty, fileno, encoding...
    def write(self, s):
        return len(s)
    def flush(self):
        pass
"""
ENDINGS = {
    "stderr closed": "sys.stderr.close()",
    "fd 2 closed": "os.close(2)",
    "stderr replaced": WRITER + "sys.stderr = Writer()",
    "stderr None": "sys.stderr = None",
    "stdout closed": "sys.stdout.close()",
    "fd 1 closed": "sys.stdout.flush()\nos.close(1)",
    "stdout replaced": WRITER + "sys.stdout = Writer()",
    "builtins patched": "import builtins\nd = builtins.__dict__\nfor name in list(d):\n"
                        "    if not name.startswith('__'):\n        d[name] = None",
    "builtins deleted": "import builtins\nd = builtins.__dict__\nfor name in list(d):\n"
                        "    if not name.startswith('__') or name == '__import__':\n        del d[name]",
    "sys.modules cleared": "sys.modules.clear()",
    "Skeleton's modules deleted": "for name in list(sys.modules):\n"
                                  "    if name.split('.')[0] in ('skeleton_replay', 'orjson', 'click'):\n"
                                  "        del sys.modules[name]",
    "import system emptied": "sys.meta_path.clear()\nsys.path_hooks.clear()\nsys.path_importer_cache.clear()",
    "working directory deleted": "import tempfile\nd = tempfile.mkdtemp()\nos.chdir(d)\nos.rmdir(d)",
}


def _hostile(ending: str, tail: str = "") -> str:
    return "import os, sys\ndef work(n):\n    return n * 2\nprint(work(2), flush=True)\n" + ending + "\n" + tail


@pytest.mark.parametrize("case", list(ENDINGS))
def test_program_breaks_what_skeleton_needs(tmp_path, case):
    script = tmp_path / "prog.py"
    script.write_text(_hostile(ENDINGS[case]))
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    traced = skeleton("run", "--no-open", "--out-dir", "out", str(script), cwd=tmp_path)
    assert traced.returncode == plain.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "4\n"
    out = tmp_path / "out"
    lines = [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()]
    assert lines[0]["record"] == "header" and lines[-1]["record"] == "end" and lines[-1]["status"] == "ok"
    assert [e["callee"]["function"] for e in lines if e.get("event_type") == "call"] == ["work"]
    for name in ("snapshot.json", "workflow.md", "report.html", "session.json"):
        assert (out / name).is_file(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert "skeleton: 2 events recorded" in traced.stderr  # Skeleton's own lines still reach the terminal
    assert "Traceback" not in traced.stderr and "internal error" not in traced.stderr


@pytest.mark.parametrize("case", ["stderr closed", "builtins patched", "sys.modules cleared"])
def test_broken_program_that_then_fails(tmp_path, case):
    """Exit codes and the program's own traceback (or its absence) as under plain python."""
    script = tmp_path / "prog.py"
    script.write_text(_hostile(ENDINGS[case], "raise SystemExit(7)" if case != "stderr closed" else "1 / 0"))
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    traced = skeleton("run", "--no-open", "--no-html", "--out-dir", "out", str(script), cwd=tmp_path)
    assert traced.returncode == plain.returncode != 0, traced.stderr
    program_err = "".join(x for x in traced.stderr.splitlines(True) if not x.startswith("skeleton: "))
    assert _no_addresses(program_err) == _no_addresses(plain.stderr)
    end = json.loads((tmp_path / "out" / "trace.jsonl").read_text().splitlines()[-1])
    assert end["exit_code"] == plain.returncode


def _no_addresses(text: str) -> str:
    """Python's last-resort report of a broken sys.stderr shows an address and a reference count; with
    every builtin replaced, 3.13's traceback printer falls back to one without the ~~~^^^ markers."""
    text = re.sub(r"(?m)^[ ~^]+\n", "", text)
    return re.sub(r"object refcount : \d+", "object refcount : …", re.sub(r"0x[0-9a-f]+", "0x…", text))


def test_json_line_survives_a_closed_stdout(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(_hostile(ENDINGS["fd 1 closed"]))
    traced = skeleton("run", "--no-open", "--no-html", "--json", "--out-dir", "out", str(script), cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr
    first, second = traced.stdout.splitlines()
    assert first == "4" and json.loads(second)["exit_code"] == 0


def test_report_after_skeleton_stopped_does_not_say_killed(tmp_path):
    """Skeleton failed after the program ended: `skeleton report` rebuilds from the records with the
    program's real end, and does not claim the process was killed."""
    script = tmp_path / "prog.py"
    script.write_text("import sys\ndef work():\n    return 1\nwork()\nsys.exit(4)\n")
    crash = ("import sys\nfrom skeleton_replay import pipeline\n"
             "def broken(*a, **k):\n    raise RuntimeError('bug in post-processing')\n"
             "pipeline.from_spill = broken\nimport skeleton_replay.session as s\ns.from_spill = broken\n"
             "from skeleton_replay.cli import main\nsys.exit(main())\n")
    p = subprocess.run([sys.executable, "-c", crash, "run", "--no-open", "--no-html", "--out-dir", "out", str(script)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**__import__("os").environ, "CI": "1", "SKELETON_SERIAL": "1"})
    assert p.returncode == 3 and "internal error: RuntimeError: bug in post-processing" in p.stderr
    out = tmp_path / "out"
    assert not (out / "trace.jsonl").exists() and (out / ".trace.spill").exists()
    r = skeleton("report", "--no-html", str(out))
    assert r.returncode == 0, r.stderr
    assert "killed" not in r.stderr and "exit code 4" in r.stderr
    end = json.loads((out / "trace.jsonl").read_text().splitlines()[-1])
    assert end["status"] == "exit" and end["exit_code"] == 4
    assert [g for g in end["gaps"] if g["kind"] == "truncated"] == []


def test_report_prefers_newer_raw_records_over_an_old_trace(tmp_path):
    """A run that stopped early in a folder holding an older run's trace.jsonl: report rebuilds the new run."""
    script = tmp_path / "prog.py"
    script.write_text("import os\ndef first():\n    return 1\nfirst()\n")
    assert skeleton("run", "--no-open", "--no-html", "--out-dir", "out", str(script), cwd=tmp_path).returncode == 0
    script.write_text("import os\ndef second():\n    return 2\nfor _ in range(40_000):\n    second()\nos._exit(0)\n")
    assert skeleton("run", "--no-open", "--no-html", "--out-dir", "out", str(script), cwd=tmp_path).returncode == 0
    r = skeleton("report", "--no-html", str(tmp_path / "out"))
    assert r.returncode == 0 and "os._exit()" in r.stderr, r.stderr
    lines = [json.loads(line) for line in (tmp_path / "out" / "trace.jsonl").read_text().splitlines()]
    assert {e["callee"]["function"] for e in lines if e.get("event_type") == "call"} == {"second"}


@pytest.mark.parametrize("flags", [["-X", "dev"], ["-W", "error::ResourceWarning"]], ids=["dev", "W-error"])
def test_no_resource_warning_of_skeleton_s_own(tmp_path, flags):
    """Skeleton's copies of fds 1 and 2 (keep.Streams) are no unclosed file of the program's: under -X dev or
    -W error::ResourceWarning a clean program prints what it prints under python, nothing more."""
    script = tmp_path / "clean.py"
    script.write_text("def main():\n    print('hello')\nmain()\n")
    plain = subprocess.run([sys.executable, *flags, str(script)], cwd=tmp_path, capture_output=True, text=True)
    traced = subprocess.run([sys.executable, *flags, "-m", "skeleton_replay", "run", "--no-open", "--no-html",
                             "--out-dir", "out", str(script)], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "CI": "1"}, timeout=120)
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "hello\n"
    assert "ResourceWarning" not in traced.stderr and "Exception ignored" not in traced.stderr, traced.stderr
