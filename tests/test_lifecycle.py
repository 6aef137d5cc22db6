"""One run lifecycle: every entry point applies [tool.skeleton] redaction the same way.

The project below configures one secret name (`pin_code`) and one secret pattern (`zz-<4 digits>`) in
its pyproject.toml, nowhere else. Each entry point (skeleton run, run -m, TraceSession, trace(),
skeleton pytest, a WSGI request) runs code that handles such values; none of them may appear in any
artifact, in the folder names or in the log lines.
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
import tracecheck
from conftest import skeleton

PIN, TOKEN, ARG_TOKEN, PATH_TOKEN = "sesame-Q7x", "zz-1234", "zz-9876", "zz-5555"
LEAKS = (PIN, TOKEN, ARG_TOKEN, PATH_TOKEN)

PYPROJECT = textwrap.dedent("""
    [project]
    name = "vault"
    [tool.skeleton]
    secret_names = ["pin_code"]
    secret_patterns = ["zz-[0-9]{4}"]
    [tool.pytest.ini_options]
    pythonpath = ["."]  # tests import vault from the root: `pytest` (and `skeleton pytest`) add no folder
""")
VAULT = textwrap.dedent("""
    def login(pin_code, note):
        return check(pin_code) and len(note) > 0

    def check(value):
        return len(value) > 3

    def main(argv):
        return login("sesame-Q7x", "zz-1234") and len(argv) >= 0
""")
MAIN = "import sys\nfrom vault import main\nmain(sys.argv[1:])\n"
TEST_VAULT = "from vault import login\n\ndef test_login():\n    assert login('sesame-Q7x', 'zz-1234')\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "vault").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(PYPROJECT)
    (proj / "vault" / "__init__.py").write_text(VAULT)
    (proj / "vault" / "__main__.py").write_text(MAIN)
    (proj / "app.py").write_text(MAIN)
    (proj / "tests").mkdir()
    (proj / "tests" / "test_vault.py").write_text(TEST_VAULT)
    return proj


def assert_redacted(out: Path, calls: tuple[str, ...] = ("login", "check")) -> None:
    """The run happened (its calls are in the trace), and no secret is in any file of OUT."""
    lines = tracecheck.check_trace(out / "trace.jsonl")
    called = [e["callee"]["function"] for e in lines if e.get("event_type") == "call"]
    assert all(c in called for c in calls), called
    login = next(e for e in lines if e.get("event_type") == "call" and e["callee"]["function"] == "login")
    assert login["args"]["pin_code"].get("redacted") and login["args"]["note"].get("redacted"), login["args"]
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert not [s for s in LEAKS if s in text], (path.name, [s for s in LEAKS if s in text])
    session = orjson.loads((out / "session.json").read_bytes())
    assert lines[0]["project_root"] == session["project_root"]


def test_skeleton_run_script(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    p = skeleton("run", "--no-open", "--out-dir", str(out), str(project / "app.py"), ARG_TOKEN, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert_redacted(out)


def test_skeleton_run_module(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    p = skeleton("run", "--no-open", "--out-dir", str(out), "-m", "vault", ARG_TOKEN, cwd=project)
    assert p.returncode == 0, p.stderr
    assert_redacted(out)


def test_trace_session_api(project: Path, tmp_path: Path) -> None:
    from skeleton_replay import TraceSession

    result = TraceSession(out_dir=tmp_path / "o", html=False).run_script(project / "app.py", [ARG_TOKEN])
    assert result.exit_code == 0 and result.status == "ok"
    assert_redacted(result.out_dir)


def test_trace_block(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from skeleton_replay import trace

    monkeypatch.syspath_prepend(str(project))
    monkeypatch.chdir(project)  # trace() finds the project root from the working folder
    monkeypatch.delitem(sys.modules, "vault", raising=False)
    import vault

    with trace(out_dir=tmp_path / "o", html=False, name="block") as run:
        vault.main([ARG_TOKEN])
    assert run.result is not None and run.result.status == "ok"
    assert run["result"] is run.result  # the mapping access of earlier versions still works
    assert_redacted(run.result.out_dir)


def test_skeleton_pytest(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    p = skeleton("pytest", "--no-open", "--out-dir", str(out), "--", "-q", "-p", "no:randomly",
                 "-p", "no:cacheprovider", f"-k=test_login or {ARG_TOKEN}", cwd=project)
    assert p.returncode == 0, p.stdout + p.stderr
    assert_redacted(out)


def test_wsgi_request(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      caplog: pytest.LogCaptureFixture) -> None:
    """A request: the configured pattern is redacted in the folder name and the log line too."""
    from skeleton_replay.integrations import SkeletonWSGI

    monkeypatch.syspath_prepend(str(project))
    monkeypatch.chdir(project)
    monkeypatch.delitem(sys.modules, "vault", raising=False)
    import vault

    def app(environ, start_response):
        vault.main([environ["PATH_INFO"]])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    out = tmp_path / "web"
    wrapped = SkeletonWSGI(app, out_dir=out, paths=["/item/*"], html=False)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/item/{PATH_TOKEN}", "QUERY_STRING": f"pin_code={PIN}",
               "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    with caplog.at_level(logging.INFO, logger="skeleton_replay.web"):
        body = wrapped(environ, lambda status, headers, exc_info=None: None)
    assert list(body) == [b"ok"]
    folders = list((out / "requests").iterdir())
    assert len(folders) == 1 and PATH_TOKEN not in folders[0].name, folders
    assert "redacted" in folders[0].name
    logged = [r.getMessage() for r in caplog.records]
    assert any("traced GET" in m for m in logged) and not any(s in m for m in logged for s in LEAKS), logged
    assert_redacted(folders[0])


def test_a_new_entry_point_gets_every_step_in_a_few_lines(project: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake entry point: prepare, start, stop, finish. It gets the header, [tool.skeleton]
    redaction (also of its command line), the end record and every artifact."""
    from skeleton_replay.lifecycle import Entry, RunLifecycle
    from skeleton_replay.options import Options

    monkeypatch.syspath_prepend(str(project))
    monkeypatch.delitem(sys.modules, "vault", raising=False)
    import vault

    run = RunLifecycle(Options(project_root=project, out_dir=tmp_path / "o", html=True),
                       Entry(kind="api", name="fake", path="fake", args=[ARG_TOKEN], command=["fake", ARG_TOKEN]))
    run.start()
    vault.main([])
    run.stop()
    result = run.finish()
    assert (result.status, result.exit_code, result.error) == ("ok", 0, None)
    assert {p.name for p in result.out_dir.iterdir()} == {
        "trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"}
    lines = tracecheck.check_trace(result.out_dir / "trace.jsonl")
    assert lines[0]["record"] == "header" and lines[0]["target"]["kind"] == "api"
    assert lines[0]["command"][0] == "fake" and lines[-1]["record"] == "end" and lines[-1]["status"] == "ok"
    assert_redacted(result.out_dir)


def test_a_secret_learned_during_a_request_is_scrubbed_from_its_header(project: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The end of every run scrubs the header once more (as `skeleton run` always did): a path segment
    that the request handed to a secret-named parameter does not stay in clear in trace.jsonl's header
    or session.json. (The folder name is chosen before the request runs: it cannot know.)"""
    from skeleton_replay.integrations import SkeletonWSGI

    monkeypatch.syspath_prepend(str(project))
    monkeypatch.chdir(project)
    monkeypatch.delitem(sys.modules, "vault", raising=False)
    import vault

    def app(environ, start_response):
        vault.login(environ["PATH_INFO"].rsplit("/", 1)[-1], "note")
        start_response("200 OK", [])
        return [b"ok"]

    out = tmp_path / "web"
    wrapped = SkeletonWSGI(app, out_dir=out, paths=["/open/*"], html=False)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/open/opensesame42", "QUERY_STRING": "",
               "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    assert list(wrapped(environ, lambda status, headers, exc_info=None: None)) == [b"ok"]
    folder = next((out / "requests").iterdir())
    header = tracecheck.check_trace(folder / "trace.jsonl")[0]
    session = orjson.loads((folder / "session.json").read_bytes())
    del session["artifacts"]  # paths in the folder named before the request ran
    assert header["request"]["path"] == "/open/<redacted>"
    assert "opensesame42" not in orjson.dumps(header).decode() + orjson.dumps(session).decode(), header


# -- options declared once (options.py) ------------------------------------------------------------------------


def test_the_rebuilt_command_line_parses_back_to_the_same_options(tmp_path: Path) -> None:
    """option_argv() (the header's command and invocation) and the click options come from the same
    table: every non-default value survives a round trip through `skeleton run`'s parser."""
    from skeleton_replay.cli import cli
    from skeleton_replay.options import Options, option_argv, options_from_flags

    opts = Options(project_root=tmp_path, out_dir=tmp_path / "o", include=("a.*", "b"), exclude=("c",),
                   max_events=7, include_private=True, html=False, open_report=False, secret_names=("pin",),
                   secret_patterns=("zz-[0-9]+",), backend="setprofile")
    ctx = cli.commands["run"].make_context("run", [*option_argv(opts), "app.py"])
    params = {k: v for k, v in ctx.params.items() if k not in ("json_out", "module", "script", "args")}
    parsed = options_from_flags(params)
    parsed.validate()  # the folders become Paths, as for every caller
    assert parsed == opts
    default = cli.commands["run"].make_context("run", ["app.py"]).params
    assert options_from_flags({k: default[k] for k in params}) == Options(open_report=True)  # the CLI opens


def test_every_pytest_flag_of_the_table_reaches_the_recording(tmp_path: Path) -> None:
    """`pytest --skeleton` takes the table's pytest flags (not only --skeleton-out/-max-events/-no-html)
    and checks them with the same messages, naming its own flag."""
    proj = tmp_path / "p"
    proj.mkdir()
    (proj / "calc.py").write_text("def _twice(x):\n    return 2 * x\n\ndef four():\n    return _twice(2)\n")
    (proj / "test_calc.py").write_text("from calc import four\n\ndef test_four():\n    assert four() == 4\n")
    out = tmp_path / "o"
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--skeleton",
           "--skeleton-out", str(out)]
    env = {**os.environ, "CI": "1"}
    p = subprocess.run([*run, "--skeleton-include-private", "--skeleton-exclude", "test_*", "--skeleton-no-html"],
                       cwd=proj, capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = tracecheck.check_trace(out / "trace.jsonl")
    assert lines[0]["options"]["include_private"] is True and lines[0]["options"]["exclude"] == ["test_*"]
    assert [e["callee"]["function"] for e in lines if e.get("event_type") == "call"] == ["four", "_twice"]
    assert not (out / "report.html").exists()
    bad = subprocess.run([*run, "--skeleton-secret-pattern", "(unclosed"], cwd=proj, capture_output=True,
                         text=True, env=env, timeout=120)
    assert bad.returncode == 4
    assert "--skeleton-secret-pattern '(unclosed' is not a valid regular expression" in bad.stderr


def test_prepared_options_are_used_as_they_are(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """prepare_options() validates and reads [tool.skeleton] once; runs given the result do neither again (the
    web middlewares prepare theirs at set-up), and still redact what [tool.skeleton] names."""
    from skeleton_replay import options as options_module
    from skeleton_replay.lifecycle import Entry, PreparedOptions, RunLifecycle, prepare_options
    from skeleton_replay.options import Options

    prepared = prepare_options(Options(out_dir=tmp_path / "o", html=False), project)
    assert isinstance(prepared, PreparedOptions) and prepared.root == project
    assert "pin_code" in prepared.options.secret_names
    reads = []
    monkeypatch.setattr(options_module, "tool_table", lambda root: reads.append(root) or {})
    monkeypatch.setattr(Options, "validate", lambda self, *a, **k: reads.append("validate"))
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.delitem(sys.modules, "vault", raising=False)
    import vault

    for i in range(2):
        run = RunLifecycle(prepared, Entry(kind="api", name=f"job{i}", path="job"), out_dir=tmp_path / f"o{i}")
        run.start()
        vault.login(PIN, "note")
        run.stop()
        assert run.finish().status == "ok"
        assert PIN not in (tmp_path / f"o{i}" / "trace.jsonl").read_text("utf-8")
    assert reads == []
    with pytest.raises(ValueError, match="carry their project root"):
        RunLifecycle(prepared, Entry(kind="api", name="x", path="x"), root=project)


def test_a_run_whose_start_failed_reports_no_time_traced(project: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The tracer failed to start (a broken build, say): the run still ends with its artifacts, and its
    duration is 0, not the time since the machine booted (time.perf_counter's origin)."""
    from skeleton_replay.lifecycle import Entry, RunLifecycle
    from skeleton_replay.options import Options

    run = RunLifecycle(Options(project_root=project, out_dir=tmp_path / "o", html=False),
                       Entry(kind="api", name="broken", path="broken"))

    def broken() -> None:
        raise RuntimeError("the backend could not start")

    monkeypatch.setattr(run.capture.backend, "start", broken)
    with pytest.raises(RuntimeError):
        run.start()
    run.stop()
    result = run.finish("exception", None, {"type": "RuntimeError", "message": "the backend could not start"})
    end = tracecheck.check_trace(result.out_dir / "trace.jsonl")[-1]
    assert end["record"] == "end" and end["status"] == "exception"
    assert end["duration_s"] == 0
    assert "duration 0.000 s" in (result.out_dir / "workflow.md").read_text()
