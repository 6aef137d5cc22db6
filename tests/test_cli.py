"""The command line: fidelity to `python script.py`, exit codes, and one-line errors."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conftest import APPS, skeleton


def test_exception_exit_code_traceback_and_artifacts(run_app):
    r = run_app("basics", "fail")
    assert r.code == 1
    err = r.proc.stderr
    assert "Traceback (most recent call last):" in err
    assert "RuntimeError: boom on purpose" in err
    assert "skeleton_replay" not in err.split("RuntimeError")[0], "no Skeleton frames in the program's traceback"
    end = r.end()
    assert end["status"] == "exception" and end["exit_code"] == 1
    assert end["error"] == {"type": "RuntimeError", "message": "boom on purpose"}
    snap = r.snapshot()
    assert snap["run"]["status"] == "exception"
    assert "exit: 1 (exception)" in r.workflow()


@pytest.mark.parametrize("arg,code,message", [("3", 3, None), ("0", 0, None), ("bye", 1, "bye")])
def test_sys_exit(run_app, arg, code, message):
    r = run_app("basics", "exit", arg)
    assert r.code == code
    if message:
        assert r.proc.stderr.splitlines()[0] == message
    assert r.end()["exit_code"] == code and r.end()["status"] == "exit"


def test_stdin_passes_through(tmp_path):
    script = tmp_path / "echo.py"
    script.write_text("import sys\ndef shout(s):\n    return s.upper()\nprint(shout(sys.stdin.read()))\n")
    p = skeleton("run", "--no-open", "--out-dir", str(tmp_path / "o"), str(script), stdin="hello")
    assert p.returncode == 0 and p.stdout == "HELLO\n"


def test_double_dash_and_script_args(tmp_path):
    script = tmp_path / "args.py"
    script.write_text("import sys\nprint(sys.argv[1:])\n")
    p = skeleton("run", "--no-open", "--out-dir", str(tmp_path / "o"), "--", str(script), "--flag", "-x", "--", "y")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "['--flag', '-x', '--', 'y']"


def test_summary_line_names_events_and_folder(run_app):
    r = run_app("basics", "x")
    assert "events recorded" in r.proc.stderr and str(r.out) in r.proc.stderr
    for name in ("trace.jsonl", "snapshot.json", "workflow.md", "session.json"):
        assert (r.out / name).exists()
    assert not list(r.out.glob("*.tmp")) and not list(r.out.glob("*.partial")) and not list(r.out.glob("*.spill"))


@pytest.mark.parametrize("setup,args,needle", [
    (None, ["missing.py"], "does not exist"),
    ("dir", ["{tmp}"], "is a folder"),
    ("syntax", ["{tmp}/bad.py"], "SyntaxError"),
    (None, ["--max-events", "-1", "x.py"], "--max-events"),
    (None, ["--project-root", "/no/such/root", "x.py"], "does not exist"),
    ("script", ["--out-dir", "/proc/forbidden/out", "{tmp}/ok.py"], "cannot write"),
    (None, ["--no-such-option", "x.py"], "No such option"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, setup, args, needle):
    if setup == "syntax":
        (tmp_path / "bad.py").write_text("def broken(:\n")
    if setup == "script":
        (tmp_path / "ok.py").write_text("print('hi')\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    p = skeleton("run", "--no-open", "--out-dir", str(tmp_path / "o"), *argv) if "--out-dir" not in argv else skeleton("run", "--no-open", *argv)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("skeleton: error:") and needle in lines[0]
    assert "Traceback" not in p.stderr


@pytest.mark.parametrize("cap", [None, "20"])
def test_report_rebuilds_from_trace(run_app, cap):
    """The same snapshot from trace.jsonl alone, calls counted past the cap included."""
    r = run_app("basics", "x", extra=("--no-html",) + (("--max-events", cap) if cap else ()))
    before = r.snapshot()
    (r.out / "snapshot.json").unlink()
    p = skeleton("report", "--no-html", str(r.out))
    assert p.returncode == 0, p.stderr
    after = r.snapshot()
    assert after["nodes"] == before["nodes"] and after["edges"] == before["edges"]
    assert after["steps"] == before["steps"]


@pytest.mark.trace_tampered  # rewrites trace.jsonl: not checked against the schema
def test_report_on_a_killed_trace_warns_and_renders(run_app):
    r = run_app("basics", "x", extra=("--no-html",))
    lines = (r.out / "trace.jsonl").read_bytes().splitlines(keepends=True)
    cut = b"".join(lines[:40]) + lines[40][:25]  # no end record, half a last line
    (r.out / "trace.jsonl").write_bytes(cut)
    p = skeleton("report", "--no-html", str(r.out))
    assert p.returncode == 0, p.stderr
    assert "cut short" in p.stderr and "no end record" in p.stderr
    snap = r.snapshot()
    assert snap["run"]["status"] == "incomplete" and snap["stats"]["recorded_events"] == 39


@pytest.mark.trace_tampered  # rewrites trace.jsonl: not checked against the schema
def test_report_on_a_corrupt_trace_names_the_line(run_app):
    r = run_app("basics", "x", extra=("--no-html",))
    lines = (r.out / "trace.jsonl").read_bytes().splitlines(keepends=True)
    lines[5] = b"{not json\n"
    (r.out / "trace.jsonl").write_bytes(b"".join(lines))
    p = skeleton("report", str(r.out))
    assert p.returncode == 2 and "trace.jsonl:6" in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_json_line(run_app):
    r = run_app("basics", "x", extra=("--json",))
    import json
    last = json.loads(r.proc.stdout.strip().splitlines()[-1])
    assert last["exit_code"] == 0 and last["metrics"]["events"] == len(r.events())


def test_out_dir_precedence(tmp_path):
    script = tmp_path / "tiny.py"
    script.write_text("def f():\n    return 1\nf()\n")
    p = skeleton("run", "--no-open", str(script), env={"SKELETON_OUT_DIR": "", "SKELETON_HOME": str(tmp_path / "home")})
    assert p.returncode == 0, p.stderr
    assert len(list((tmp_path / "home").glob("tiny-*/latest/trace.jsonl"))) == 1  # a run folder of its own (runs.py)
    p = skeleton("run", "--no-open", str(script), env={"SKELETON_OUT_DIR": str(tmp_path / "env"), "SKELETON_HOME": str(tmp_path / "home2")})
    assert (tmp_path / "env" / "trace.jsonl").exists() and not (tmp_path / "home2").exists()


def test_max_events_cap_keeps_edge_counts(run_app):
    r = run_app("basics", "x", extra=("--max-events", "20"))
    assert r.code == 0
    assert len(r.events()) == 20
    end = r.end()
    assert end["dropped_events"] > 0
    snap = r.snapshot()
    fib_edges = [e for e in snap["edges"] if e["target"] == "fn:pkg.flow:fib"]
    assert sum(e["count"] for e in fib_edges) == 15, "calls past the cap are still counted"
    assert snap["stats"]["gaps"][0]["kind"] == "cap"
    assert "event cap reached" in r.workflow()


def test_a_bug_in_the_tracer_never_breaks_the_program(tmp_path):
    """Summaries that fail inside the callback are contained, recorded as gaps and reported."""
    script = tmp_path / "app.py"
    # The bug must be raised by Skeleton's own code: an exception raised by a function the program
    # defines is the program's, and reaches it (tests/hostile/test_signals.py).
    script.write_text(textwrap.dedent('''
        import gc
        import skeleton_replay.capture.recorder as recorder
        import skeleton_replay.capture.summarise as summarise
        def work(x):
            return x + 1
        # Skeleton's own hot path now fails (TypeError, AttributeError) on every summary: the Python summariser's
        # and the recorder's way into the C summariser (capture/_summarise.c) alike
        summarise.Summariser.value = None
        gc.unfreeze()  # (runner.py froze the tracer's objects: gc.get_objects() leaves those out)
        for rec in [o for o in gc.get_objects() if isinstance(o, recorder.Recorder)]:
            if rec.fast_summaries is not None:
                rec.fast_summaries = object()
        print(sum(work(i) for i in range(10)))
    '''))
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "o"), str(script))
    assert p.returncode == 0 and p.stdout.strip() == "55"
    assert "errors inside Skeleton's tracer were contained" in p.stderr
    text = (tmp_path / "o" / "workflow.md").read_text()
    assert "tracer_error" in text


def test_run_module_like_python_dash_m(tmp_path):
    folder = APPS / "modpkg"
    plain = subprocess.run([sys.executable, "-m", "tool", "ada", "--out-dir", "x", "--fail"], cwd=folder,
                           capture_output=True, text=True)
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "o"), "-m", "tool", "ada", "--out-dir", "x",
                 "--fail", cwd=folder)
    assert p.returncode == plain.returncode == 3
    assert p.stdout == plain.stdout
    lines = [json.loads(l) for l in (tmp_path / "o" / "trace.jsonl").read_text().splitlines()]
    assert lines[0]["target"] == {"kind": "module", "path": "tool", "args": ["ada", "--out-dir", "x", "--fail"]}
    assert lines[0]["app_name"] == "tool"
    calls = [(e["caller"] or {}).get("node_id", "root") + " > " + e["callee"]["node_id"] for e in lines[1:-1] if e["event_type"] == "call"]
    assert calls == ["root > fn:tool.__main__:main", "fn:tool.__main__:main > fn:tool.core:greet"]


def test_run_a_standard_library_module_traces_the_current_project(tmp_path):
    """`skeleton run -m unittest discover tests` from a project: the project is the current folder's (where
    the tests are), not the one above unittest's file (the interpreter's folder, or a pyenv checkout holding
    it), and no standard-library code is traced."""
    proj = tmp_path / "proj"
    (proj / "tests").mkdir(parents=True)
    (proj / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    (proj / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (proj / "tests" / "__init__.py").write_text("")
    (proj / "tests" / "test_calc.py").write_text(textwrap.dedent("""
        import unittest
        import calc

        class TestCalc(unittest.TestCase):
            def test_add(self):
                self.assertEqual(calc.add(2, 3), 5)
    """))
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "o"), "-m", "unittest", "discover",
                 "-t", ".", "-s", "tests", cwd=proj)
    assert p.returncode == 0, p.stderr
    lines = [json.loads(l) for l in (tmp_path / "o" / "trace.jsonl").read_text().splitlines()]
    assert lines[0]["project_root"] == str(proj.resolve())
    callees = {e["callee"]["node_id"] for e in lines[1:-1] if e["event_type"] == "call"}
    assert callees == {"meth:tests.test_calc.TestCalc#1.test_add", "fn:calc:add"}, callees


@pytest.mark.parametrize("module,needle", [("no_such_module_xyz", "no module named"), ("tool.core.nope", "cannot find module")])
def test_run_module_bad_name(tmp_path, module, needle):
    p = skeleton("run", "--no-open", "--out-dir", str(tmp_path / "o"), "-m", module, cwd=APPS / "modpkg")
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and needle in p.stderr
