"""Bad input to the CLI and the Python API: each mistake is one `skeleton: error:` line saying what
is wrong and what to do, exit code 2, no traceback, and the program does not run. Odd but valid
input (spaces, unicode and undecodable bytes in paths, an empty script, a folder with
__main__.py) works."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import skeleton  # noqa: E402

from ._checks import check_stacks, read_trace

import skeleton_replay
from skeleton_replay import TraceSession, UsageError, trace

OK = "def f(x):\n    return x\nprint('ran', f(1))\n"


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "ok.py").write_text(OK)
    (tmp_path / "bad.py").write_text("def broken(:\n")
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    (tmp_path / "afile").write_text("")
    (tmp_path / "nomain").mkdir()
    return tmp_path


CASES = [
    (["--max-events", "abc", "ok.py"], "'abc' is not a valid integer"),
    (["--max-events", "1.5", "ok.py"], "not a valid integer"),
    (["--max-events", "-1", "ok.py"], "--max-events must be 0 (unlimited) or more"),
    (["--max-events", "99999999999999999999999", "ok.py"], "is too large"),
    (["--backend", "bogus", "ok.py"], "'bogus' is not one of"),
    (["--project-root", "nope", "ok.py"], "project root nope does not exist"),
    (["--project-root", "afile", "ok.py"], "is not a folder"),
    (["--project-root", "", "ok.py"], "--project-root must not be empty"),
    (["--out-dir", "afile", "ok.py"], "cannot write to the output folder"),
    (["--out-dir", "", "ok.py"], "--out-dir must not be empty"),
    (["--out-dir", "/proc/no/such/dir", "ok.py"], "cannot write to the output folder"),
    (["--include", "", "ok.py"], "--include must not be empty"),
    (["--exclude", " ", "ok.py"], "--exclude must not be empty"),
    (["--secret-name", "", "ok.py"], "--secret-name must not be empty"),
    (["--include", "app.*", "--exclude", "app.*", "ok.py"], "given to both --include and --exclude"),
    (["-m", ""], "-m needs a module name"),
    (["-m", "ok.py"], "-m takes a module name, not a file: use 'skeleton run ok.py'"),
    (["-m", "no_such_module_xyz"], "no module named no_such_module_xyz"),
    (["missing.py"], "script missing.py does not exist"),
    (["nomain"], "folder without a __main__.py"),
    (["bad.py"], "SyntaxError"),
    (["nul.py"], "null bytes"),
    (["--no-such-option", "ok.py"], "No such option: --no-such-option"),
    ([], "missing SCRIPT"),
    (["--max-events"], "requires an argument"),
]


@pytest.mark.parametrize("args,needle", CASES, ids=[" ".join(a) or "nothing" for a, _ in CASES])
def test_cli_bad_input_is_one_line_exit_2(folder, args, needle):
    out = [] if "--out-dir" in args else ["--out-dir", "o"]
    p = skeleton("run", "--no-open", *out, *args, cwd=folder)
    assert p.returncode == 2, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("skeleton: error: ") and needle in lines[0], lines[0]
    assert "Traceback" not in p.stderr
    if args[:1] != ["-m"]:  # (python -m ok.py imports ok while looking for ok.py: so does Skeleton)
        assert "ran" not in p.stdout  # the program never started
    assert not (folder / "o" / "trace.jsonl").exists()


@pytest.mark.parametrize("args,needle", [
    (["nowhere"], "no trace at nowhere"),
    (["--no-html", "--open", "."], "--open needs report.html"),
    (["afile"], "afile:1: not a Skeleton trace"),
])
def test_report_bad_input(folder, args, needle):
    p = skeleton("report", *args, cwd=folder)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skeleton: error: ") and needle in lines[0], p.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway (see the API test below)")
def test_unreadable_script(folder):
    script = folder / "ok.py"
    script.chmod(0)
    try:
        p = skeleton("run", "--no-open", "--out-dir", "o", "ok.py", cwd=folder)
    finally:
        script.chmod(0o644)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == ["skeleton: error: cannot read script ok.py (Permission denied); check its permissions"]


def test_unreadable_script_api(folder, monkeypatch):
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "ok.py":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(UsageError, match=r"^cannot read script .*ok\.py \(Permission denied\); check its permissions$"):
        TraceSession(out_dir=folder / "o").run_script(folder / "ok.py")


@pytest.mark.parametrize("kwargs,needle", [
    ({"max_events": -1}, "--max-events must be 0"),
    ({"max_events": "10"}, "--max-events must be a whole number, not '10'"),
    ({"max_events": True}, "--max-events must be a whole number"),
    ({"max_events": 2 ** 70}, "is too large"),
    ({"include": [1]}, "--include takes strings"),
    ({"exclude": ""}, "--exclude must not be empty"),
    ({"include": "a", "exclude": ["a"]}, "given to both"),
    ({"out_dir": 123}, "--out-dir must be a folder path, not 123"),
    ({"project_root": ""}, "--project-root must not be empty"),
    ({"backend": "fast"}, "unknown backend 'fast'"),
    ({"html": "yes"}, "html must be True or False"),
])
def test_api_bad_values(folder, kwargs, needle):
    kwargs.setdefault("out_dir", folder / "o")
    with pytest.raises(UsageError) as info:
        TraceSession(**kwargs).run_script(folder / "ok.py")
    assert needle in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(UsageError) as info:
        with trace(**kwargs):
            pass
    assert needle in str(info.value)


def test_api_unknown_option_and_string_patterns(folder):
    with pytest.raises(TypeError, match="unknown option"):
        with trace(out_dir=folder / "o", bogus=1):
            pass
    # one pattern as a plain string means that pattern, not its characters
    r = TraceSession(out_dir=folder / "o2", include="ok", project_root=folder, html=False).run_script(folder / "ok.py")
    header, events, end = read_trace(r.out_dir)
    assert header["options"]["include"] == ["ok"] and len(events) == 2


def test_path_with_spaces_and_unicode_works(tmp_path):
    d = tmp_path / "my project ü"
    d.mkdir()
    script = d / "app ñ 名前.py"
    script.write_text(OK + "import sys\nprint(sys.argv)\n")
    plain = subprocess.run([sys.executable, str(script), "a b", "ü"], capture_output=True, text=True)
    out = d / "out dir é"
    p = skeleton("run", "--no-open", "--out-dir", str(out), str(script), "a b", "ü", cwd=d)
    assert p.returncode == 0, p.stderr
    assert p.stdout == plain.stdout
    header, events, end = read_trace(out)
    check_stacks(events)
    assert header["target"]["path"] == str(script) and header["target"]["args"] == ["a b", "ü"]
    assert [e["callee"]["node_id"] for e in events if e["event_type"] == "call"] == ["fn:app ñ 名前:f"]
    assert events[0]["callee"]["file"] == "app ñ 名前.py"
    session = json.loads((out / "session.json").read_text("utf-8"))
    assert session["artifacts"]["report"] == str(out / "report.html") and (out / "report.html").exists()
    assert session["target"]["path"] == str(script)


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file systems refuse undecodable names")
def test_undecodable_bytes_in_paths_and_arguments_work(tmp_path):
    folder = os.fsencode(str(tmp_path))
    script = os.fsdecode(folder + b"/bad\xff.py")
    Path(script).write_text(OK + "import sys\nf(sys.argv[1])\nprint(repr(sys.argv[1]))\n")
    arg = os.fsdecode(b"\xfe")
    plain = subprocess.run([sys.executable, script, arg], capture_output=True, text=True)
    p = skeleton("run", "--no-open", "--out-dir", "o", script, arg, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == plain.stdout == "ran 1\n'\\udcfe'\n"
    header, events, end = read_trace(tmp_path / "o")  # valid JSON: the bytes show as U+FFFD
    check_stacks(events)
    assert header["target"]["path"].endswith("bad\ufffd.py") and header["target"]["args"] == ["\ufffd"]
    assert events[2]["args"]["x"] == {"type": "str", "value": "\ufffd"}
    assert events[0]["callee"]["node_id"] == "fn:bad\ufffd:f"
    assert (tmp_path / "o" / "report.html").exists() and (tmp_path / "o" / "session.json").exists()


def test_empty_script_works(tmp_path):
    (tmp_path / "empty.py").write_text("")
    p = skeleton("run", "--no-open", "--out-dir", "o", "empty.py", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == ""
    header, events, end = read_trace(tmp_path / "o")
    assert events == [] and end["status"] == "ok" and end["gaps"] == []
    assert (tmp_path / "o" / "report.html").stat().st_size > 10_000
    assert "0 events recorded" in p.stderr


def test_folder_with_main_runs_like_python(tmp_path):
    pkg = tmp_path / "tool"
    pkg.mkdir()
    (pkg / "helpers.py").write_text("def shout(s):\n    return s.upper()\n")
    (pkg / "__main__.py").write_text(
        "import sys\nfrom helpers import shout\ndef main():\n    return shout('hi')\n"
        "print(main(), sys.argv, __name__, repr(__package__), __file__, __spec__.name, sys.path[0])\n")
    plain = subprocess.run([sys.executable, "tool", "x"], capture_output=True, text=True, cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", "o", "tool", "x", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == plain.stdout
    header, events, end = read_trace(tmp_path / "o")
    check_stacks(events)
    assert [e["callee"]["node_id"] for e in events if e["event_type"] == "call"] == [
        "fn:__main__:main", "fn:helpers:shout"]
    assert header["app_name"] == "tool"


def test_api_exports_usage_error():
    assert skeleton_replay.UsageError is UsageError
