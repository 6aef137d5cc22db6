"""The Python API leaves the interpreter as it found it; trace() records code already running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import orjson

from conftest import APPS, HAS_SYSMON, SKELETON_CMD, skeleton
from skeleton_replay import TraceSession, trace
from skeleton_replay.capture.records import read_spill


def test_run_script_restores_interpreter_state(tmp_path):
    argv, path, main = list(sys.argv), list(sys.path), sys.modules["__main__"]
    profile = sys.getprofile()
    result = TraceSession(out_dir=tmp_path / "o", project_root=APPS / "basics", html=False).run_script(
        APPS / "basics" / "app.py", ["x"]
    )
    assert result.exit_code == 0 and result.status == "ok"
    assert result.event_count > 50 and result.report_path is None
    assert result.trace_path.exists() and result.snapshot_path.exists() and result.workflow_path.exists()
    assert sys.argv == argv and sys.path == path and sys.modules["__main__"] is main
    assert sys.getprofile() is profile
    if HAS_SYSMON:
        assert all(sys.monitoring.get_tool(i) != "skeleton" for i in range(6))


GC_APP = textwrap.dedent("""
    import gc, sys, weakref

    class Node:
        def link(self, other):
            self.other = other

    def make_cycle():
        a, b = Node(), Node()
        a.link(b)
        b.link(a)
        return weakref.ref(a)

    ref = make_cycle()
    gc.collect()
    print("collected" if ref() is None else "leaked", gc.isenabled(), gc.get_freeze_count())
    sys.exit(0 if ref() is None else 3)
""")


def test_skeletons_objects_stay_out_of_the_programs_collections(tmp_path):
    """`skeleton run` freezes what exists before the program starts (gc.freeze): the program's own
    cycles are still collected; run_script in a host process restores the freeze state exactly."""
    import gc

    script = tmp_path / "gcapp.py"
    script.write_text(GC_APP)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    status, enabled, frozen_plain = plain.stdout.split()
    assert (plain.returncode, status, enabled) == (0, "collected", "True")
    p = skeleton(
        "run",
        "--no-open",
        "--no-html",
        "--out-dir",
        str(tmp_path / "cli"),
        "--project-root",
        str(tmp_path),
        str(script),
    )
    status, enabled, frozen = p.stdout.split()
    assert (p.returncode, status, enabled) == (0, "collected", "True"), p.stderr
    assert int(frozen) > int(frozen_plain) + 10_000  # Skeleton's objects, out of the program's way
    events = [orjson.loads(line) for line in (tmp_path / "cli" / "trace.jsonl").read_bytes().splitlines()[1:-1]]
    assert [e["callee"]["function"] for e in events if e["event_type"] == "call"] == ["make_cycle", "link", "link"]
    before = gc.get_freeze_count()
    result = TraceSession(out_dir=tmp_path / "o", project_root=tmp_path, html=False).run_script(script)
    assert result.exit_code == 0 and result.event_count == 6
    assert gc.get_freeze_count() == before and gc.isenabled()


def test_run_script_reports_the_programs_failure(tmp_path):
    result = TraceSession(out_dir=tmp_path / "o", project_root=APPS / "basics", html=False).run_script(
        APPS / "basics" / "app.py", ["fail"]
    )
    assert result.exit_code == 1 and result.status == "exception"
    assert result.error == {"type": "RuntimeError", "message": "boom on purpose"}


def test_trace_context_manager(tmp_path, monkeypatch):
    pkg = tmp_path / "proj"
    pkg.mkdir()
    (pkg / "pyproject.toml").write_text("")
    (pkg / "calc.py").write_text("def double(x):\n    return helper(x) * 2\n\ndef helper(x):\n    return x\n")
    monkeypatch.syspath_prepend(str(pkg))
    import calc

    with trace(out_dir=tmp_path / "o", project_root=pkg, html=False) as run:
        assert calc.double(21) == 42
    result = run["result"]
    events = [orjson.loads(l) for l in result.trace_path.read_bytes().splitlines()[1:-1]]
    assert [(e["event_type"], e["callee"]["function"]) for e in events] == [
        ("call", "double"),
        ("call", "helper"),
        ("return", "helper"),
        ("return", "double"),
    ]
    assert events[-1]["return_value"] == {"type": "int", "value": 42}


def test_project_root_inside_site_packages(tmp_path):
    lib = tmp_path / "venv" / "lib" / "site-packages" / "mylib"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text(
        "def parse(text):\n    return _split(text)\n\ndef _split(text):\n    return text.split()\n"
    )
    script = tmp_path / "drive.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(lib.parent)!r})\nimport mylib\nprint(mylib.parse('a b'))\n")
    result = TraceSession(out_dir=tmp_path / "o", project_root=lib, html=False, include_private=True).run_script(script)
    assert result.exit_code == 0
    events = [orjson.loads(l) for l in result.trace_path.read_bytes().splitlines()[1:-1]]
    calls = [e["callee"] for e in events if e["event_type"] == "call"]
    assert [c["qualified_name"] for c in calls] == ["parse", "_split"]
    assert calls[1]["internal"] is True and "internal" not in calls[0]
    assert calls[0]["file"] == "__init__.py"


def test_installer_import_hooks_in_site_packages_are_not_project_code(tmp_path):
    """With site-packages itself as the project root, an editable install's finder (setuptools writes
    `__editable___<name>_finder.py` there; its functions run at every import) is not drawn on the map."""
    site = tmp_path / "venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "__editable___mylib_1_0_finder.py").write_text("def install():\n    return 1\n")
    (site / "_virtualenv.py").write_text("def patch():\n    return 2\n")
    (site / "wheeled.py").write_text("def parse(text):\n    return text.split()\n")
    script = tmp_path / "drive.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(site)!r})\nimport __editable___mylib_1_0_finder as f, "
        "_virtualenv as v, wheeled\nf.install(); v.patch()\nprint(wheeled.parse('a b'))\n"
    )
    result = TraceSession(out_dir=tmp_path / "o", project_root=site, html=False).run_script(script)
    assert result.exit_code == 0
    events = [orjson.loads(l) for l in result.trace_path.read_bytes().splitlines()[1:-1]]
    assert [e["callee"]["qualified_name"] for e in events if e["event_type"] == "call"] == ["parse"]


def test_ctrl_c_writes_artifacts_and_exits_130(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(
        textwrap.dedent("""
        import time
        def step(i):
            return i
        def main():
            i = 0
            print("ready", flush=True)
            while True:
                step(i)
                i += 1
                time.sleep(0.001)
        main()
    """)
    )
    out = tmp_path / "o"
    # Ctrl-C in a terminal: SIGINT at its default. A job started in the background by a shell without job
    # control (nohup make test &) inherits SIGINT ignored, and python then ignores it too: the run never ends.
    proc = subprocess.Popen(
        [*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out), str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "KeyboardInterrupt" in err
    end = orjson.loads((out / "trace.jsonl").read_bytes().splitlines()[-1])
    assert end["record"] == "end" and end["status"] == "interrupted" and end["exit_code"] == 130
    assert (out / "snapshot.json").exists() and (out / "workflow.md").exists()


LONG_RUNNING = textwrap.dedent("""
    import time
    def step(i):
        return i * 2
    def main():
        print("ready", flush=True)
        i = 0
        while True:
            step(i)
            i += 1
            if i % 1000 == 0:
                time.sleep(0.001)
    main()
""")


def _start(tmp_path, *opts):
    script = tmp_path / "forever.py"
    script.write_text(LONG_RUNNING)
    out = tmp_path / "o"
    proc = subprocess.Popen(
        [*SKELETON_CMD, "run", "--no-open", "--no-html", "--out-dir", str(out), *opts, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc, out


def test_sigterm_writes_artifacts_then_dies_like_python(tmp_path):
    proc, out = _start(tmp_path)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM, err
    assert "Traceback" not in err
    end = orjson.loads((out / "trace.jsonl").read_bytes().splitlines()[-1])
    assert end["status"] == "interrupted" and end["exit_code"] == -15 and end["error"]["type"] == "SIGTERM"
    assert (out / "snapshot.json").exists()


def _whole_spill_records(spill):
    if not spill.exists():
        return 0
    return sum(len(chunk) for chunk in read_spill(spill))


def test_kill_9_then_report_recovers_what_was_recorded(tmp_path):
    proc, out = _start(tmp_path, "--max-events", "0")
    # Wait for whole chunks, not for a file size: under load stat() can see a chunk half-written.
    spill = out / ".trace.spill"
    deadline = time.time() + 60
    while time.time() < deadline and _whole_spill_records(spill) < 5000:
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    assert not (out / "trace.jsonl").exists()
    p = subprocess.run(
        [*SKELETON_CMD, "report", "--no-html", str(out)], capture_output=True, text=True, env={**os.environ, "CI": "1"}
    )
    assert p.returncode == 0, p.stderr
    assert "killed before it finished" in p.stderr
    lines = (out / "trace.jsonl").read_bytes().splitlines()
    events = [orjson.loads(l) for l in lines[1:-1]]
    assert len(events) > 1000 and [e["order"] for e in events] == list(range(len(events)))
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    assert snap["run"]["status"] == "killed"
    assert any(n["id"] == "fn:forever:step" and n["call_count"] > 500 for n in snap["nodes"])
