"""Run folders: one folder per run by default, `latest`, the disk budget, and `skeleton runs` (runs.py)."""
from __future__ import annotations

import datetime as _dt
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import tracecheck
from conftest import skeleton
from skeleton_replay import TraceSession, UsageError, runs, trace
from skeleton_replay.runs import Budget

T0 = _dt.datetime(2026, 11, 26, 14, 25, 1, tzinfo=_dt.timezone.utc)


def _env(home: Path, **extra: str) -> dict:
    return {"SKELETON_HOME": str(home), "SKELETON_OUT_DIR": "", "SKELETON_KEEP_RUNS": "", "SKELETON_KEEP_SIZE": "",
            **extra}


@pytest.fixture
def scripts(tmp_path):
    """app.py and other/app.py: the same stem, different programs."""
    (tmp_path / "other").mkdir()
    (tmp_path / "app.py").write_text("def first():\n    return 1\nfirst()\n")
    (tmp_path / "other" / "app.py").write_text("def second():\n    return 2\nsecond()\nraise SystemExit(3)\n")
    return tmp_path / "app.py", tmp_path / "other" / "app.py"


def _fake_run(app_dir: Path, when: _dt.datetime, size: int = 0, done: bool = True, pid: int | None = None) -> Path:
    folder = runs.new_run(app_dir, app_dir.name.rsplit("-", 1)[0], "/x/app.py", now=when)
    if pid is not None:
        marker = orjson.loads((folder / runs.MARKER).read_bytes())
        (folder / runs.MARKER).write_bytes(orjson.dumps({**marker, "pid": pid}))
    (folder / "payload.bin").write_bytes(b"x" * size)  # not a trace: tracecheck leaves it alone
    if done:
        (folder / "session.json").write_text('{"status": "ok", "exit_code": 0, "metrics": {"events": 7}}')
    return folder


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


# -- skeleton run: default output -----------------------------------------------------------
def test_two_scripts_with_the_same_stem_keep_their_artifacts(tmp_path, scripts):
    app, other = scripts
    home = tmp_path / "home"
    first = skeleton("run", "--no-open", "--json", str(app), env=_env(home))
    second = skeleton("run", "--no-open", "--json", str(other), env=_env(home))
    third = skeleton("run", "--no-open", "--json", str(app), env=_env(home))
    assert (first.returncode, second.returncode, third.returncode) == (0, 3, 0), second.stderr
    outs = [Path(json.loads(p.stdout.splitlines()[-1])["out_dir"]) for p in (first, second, third)]
    assert len(set(outs)) == 3  # nothing overwritten
    for out, fn in zip(outs, ("first", "second", "first")):
        assert fn in (out / "workflow.md").read_text() and (out / "report.html").is_file()
        assert runs.is_run(out) and out.parent.parent == home
    assert outs[0].parent == outs[2].parent != outs[1].parent  # one folder per target, not per stem
    assert outs[0].parent.name.startswith("app-") and outs[1].parent.name.startswith("app-")
    assert (outs[0].parent / "latest").resolve() == outs[2].resolve()  # the newest run of app.py
    assert (outs[1].parent / "latest").resolve() == outs[1].resolve()
    assert os.readlink(outs[2].parent / "latest") == outs[2].name  # relative: the home can move
    assert f"report: file://{outs[2]}/report.html" in third.stderr  # what scripts/demo.sh greps


def test_run_folders_and_marker_are_private(tmp_path, scripts):
    home = tmp_path / "home"
    p = skeleton("run", "--no-open", "--json", str(scripts[0]), env=_env(home))
    out = Path(json.loads(p.stdout.splitlines()[-1])["out_dir"])
    for path in (home, out.parent, out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    assert stat.S_IMODE((out / runs.MARKER).stat().st_mode) == 0o600
    marker = orjson.loads((out / runs.MARKER).read_bytes())
    assert marker["target"] == str(scripts[0]) and marker["app"] == "app"


def test_out_dir_and_env_out_dir_are_used_as_they_are(tmp_path, scripts):
    out = tmp_path / "out"
    for _ in range(2):
        p = skeleton("run", "--no-open", "--out-dir", str(out), str(scripts[0]), env=_env(tmp_path / "home"))
        assert p.returncode == 0, p.stderr
    assert (out / "trace.jsonl").is_file() and not (out / runs.MARKER).exists() and not (out / "latest").exists()
    assert sorted(x.name for x in out.iterdir() if x.is_dir()) == []
    env_out = tmp_path / "env-out"
    p = skeleton("run", "--no-open", str(scripts[0]), env=_env(tmp_path / "home", SKELETON_OUT_DIR=str(env_out)))
    assert p.returncode == 0 and (env_out / "trace.jsonl").is_file() and not (tmp_path / "home").exists()


def test_api_runs_and_trace_blocks_keep_their_folders(tmp_path, scripts, monkeypatch):
    monkeypatch.setenv("SKELETON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SKELETON_OUT_DIR", raising=False)
    a = TraceSession(html=False).run_script(scripts[0])
    b = TraceSession(html=False).run_script(scripts[0])
    assert a.out_dir != b.out_dir and a.trace_path.is_file() and b.trace_path.is_file()
    with trace(html=False, project_root=tmp_path) as one:
        pass
    with trace(html=False, project_root=tmp_path) as two:
        pass
    r1, r2 = one["result"], two["result"]
    assert r1.out_dir != r2.out_dir and r1.trace_path.is_file() and r2.trace_path.is_file()
    assert r1.out_dir.parent.name.startswith("trace-") and (r1.out_dir.parent / "latest").resolve() == r2.out_dir


# -- the budget ---------------------------------------------------------------------------------
def test_keep_runs_removes_the_oldest_and_nothing_else(tmp_path):
    home = tmp_path / "home"
    app_dir = home / "app-12345678"
    made = [_fake_run(app_dir, T0 + _dt.timedelta(minutes=i)) for i in range(5)]
    strangers = [app_dir / "20200101-000000", app_dir / "notes", home / "20200101-000000", app_dir / "20200101-000001"]
    strangers[0].mkdir()  # a run's name, no marker
    strangers[1].mkdir()
    (strangers[1] / runs.MARKER).write_text("{}")  # a marker, not a run's name
    strangers[2].mkdir()
    outside = tmp_path / "elsewhere" / "20200101-000002"  # a link to a run folder outside: never followed
    outside.mkdir(parents=True)
    (outside / runs.MARKER).write_text("{}")
    os.symlink(outside, strangers[3])
    removed = runs.prune(home, Budget(keep_runs=3, keep_size=0), app_dir, keep=made[-1])
    assert removed == made[:2]
    assert [p.exists() for p in made] == [False, False, True, True, True]
    assert all(p.exists() for p in strangers) and (outside / runs.MARKER).exists()
    assert (app_dir / "latest").resolve() == made[-1]


def test_the_budget_spares_the_run_being_written_and_running_ones(tmp_path):
    app_dir = tmp_path / "home" / "app-12345678"
    running = _fake_run(app_dir, T0, done=False)  # this process: alive
    killed = _fake_run(app_dir, T0 + _dt.timedelta(minutes=1), done=False, pid=_dead_pid())
    current = _fake_run(app_dir, T0 + _dt.timedelta(minutes=2), done=False)
    removed = runs.prune(tmp_path / "home", Budget(keep_runs=1, keep_size=0), app_dir, keep=current)
    assert removed == [killed] and running.exists() and current.exists()


def test_keep_size_removes_the_oldest_runs_of_any_app(tmp_path):
    home = tmp_path / "home"
    a, b = home / "app-aaaaaaaa", home / "tool-bbbbbbbb"
    a1 = _fake_run(a, T0, size=4000)
    b1 = _fake_run(b, T0 + _dt.timedelta(minutes=1), size=4000)
    a2 = _fake_run(a, T0 + _dt.timedelta(minutes=2), size=4000)
    b2 = _fake_run(b, T0 + _dt.timedelta(minutes=3), size=4000)
    removed = runs.prune(home, Budget(keep_runs=0, keep_size=9000))
    assert removed == [a1, b1] and a2.exists() and b2.exists()
    assert runs.latest_name(a) == a2.name and runs.latest_name(b) == b2.name


def test_a_removed_latest_points_at_the_newest_run_left(tmp_path):
    home = tmp_path / "home"
    a = home / "app-aaaaaaaa"
    a1, a2 = _fake_run(a, T0, size=10), _fake_run(a, T0 + _dt.timedelta(minutes=1), size=10)
    runs.set_latest(a, a1.name)  # e.g. a run of an older Skeleton left it there
    assert runs.prune(home, Budget(keep_runs=1, keep_size=0)) == [a1]
    assert runs.latest_name(a) == a2.name


def test_each_new_run_applies_the_budget(tmp_path, scripts):
    home = tmp_path / "home"
    outs = []
    for _ in range(3):
        p = skeleton("run", "--no-open", "--no-html", "--json", str(scripts[0]), env=_env(home, SKELETON_KEEP_RUNS="2"))
        assert p.returncode == 0, p.stderr
        outs.append(Path(json.loads(p.stdout.splitlines()[-1])["out_dir"]))
    assert [o.exists() for o in outs] == [False, True, True]


def test_budget_from_env_and_project_config(tmp_path):
    assert runs.budget_from({}, {}) == Budget(20, 1_000_000_000)
    assert runs.budget_from({}, {"keep_runs": 5, "keep_size": "2GiB"}) == Budget(5, 2 * 2**30)
    assert runs.budget_from({"SKELETON_KEEP_RUNS": "0", "SKELETON_KEEP_SIZE": "500 MB"},
                            {"keep_runs": 5, "keep_size": "2GiB"}) == Budget(0, 500_000_000)
    for bad in ("lots", "-1", "1.5 parsecs", "1e9"):
        with pytest.raises(runs.BudgetError, match="SKELETON_KEEP_SIZE must be a size such as 500MB"):
            runs.budget_from({"SKELETON_KEEP_SIZE": bad}, {})
    with pytest.raises(runs.BudgetError, match=r"\[tool.skeleton\] keep_runs must be a whole number"):
        runs.budget_from({}, {"keep_runs": True})


def test_latest_is_a_text_file_where_links_cannot_be_made(tmp_path, monkeypatch):
    def no_links(*a, **k):
        raise OSError(1, "Operation not permitted")
    monkeypatch.setattr(runs.os, "symlink", no_links)
    app_dir = tmp_path / "home" / "app-12345678"
    first = _fake_run(app_dir, T0)
    second = _fake_run(app_dir, T0 + _dt.timedelta(seconds=1))
    assert (app_dir / "latest").read_text() == second.name + "\n" and not (app_dir / "latest").is_symlink()
    assert [r.latest for r in runs.list_runs(app_dir)] == [True, False] and first.exists()


def test_same_second_runs_get_numbered_folders(tmp_path):
    app_dir = tmp_path / "app-12345678"
    names = [runs.new_run(app_dir, "app", "/x/app.py", now=T0).name for _ in range(3)]
    assert names == ["20261126-142501", "20261126-142501-2", "20261126-142501-3"]
    assert [r.path.name for r in runs.list_runs(app_dir)] == names[::-1]


def test_a_target_path_with_undecodable_bytes(tmp_path):
    folder = runs.new_run(tmp_path / "app-12345678", "caf\udce9", "/x/caf\udce9.py", now=T0)
    (run,) = runs.list_runs(tmp_path)
    assert run.path == folder and run.target == "/x/caf\ufffd.py" and run.app == "caf\ufffd"
    assert runs.app_folder_name("caf\udce9 x", "/x/caf\udce9.py").startswith("caf_x-")


def test_a_real_latest_folder_is_left_alone(tmp_path):
    app_dir = tmp_path / "app-12345678"
    (app_dir / "latest").mkdir(parents=True)
    (app_dir / "latest" / "mine.txt").write_text("keep")
    runs.new_run(app_dir, "app", "/x/app.py", now=T0)
    assert (app_dir / "latest" / "mine.txt").read_text() == "keep"


# -- skeleton runs --------------------------------------------------------------------------------
def test_skeleton_runs_lists_newest_first(tmp_path, scripts):
    home = tmp_path / "home"
    for script in (scripts[0], scripts[1], scripts[0]):
        skeleton("run", "--no-open", "--no-html", str(script), env=_env(home))
    p = skeleton("runs", env=_env(home))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["STARTED", "(UTC)", "APP", "STATUS", "EVENTS", "SIZE", "TARGET", "PATH"]
    assert len(lines) == 4
    assert str(scripts[0]) in lines[1] and "ok 0" in lines[1] and lines[1].endswith("(latest)")
    assert str(scripts[1]) in lines[2] and "exit 3" in lines[2] and lines[2].endswith("(latest)")
    assert str(scripts[0]) in lines[3] and not lines[3].endswith("(latest)")
    doc = json.loads(skeleton("runs", "--json", env=_env(home)).stdout)
    assert doc["folder"] == str(home) and [r["target"] for r in doc["runs"]] == [str(scripts[0]), str(scripts[1]),
                                                                                 str(scripts[0])]
    newest = doc["runs"][0]
    events = [ln for ln in tracecheck.check_trace(Path(newest["path"]) / "trace.jsonl") if "event_type" in ln]
    assert newest["status"] == "ok" and newest["exit_code"] == 0 and newest["events"] == len(events) > 0
    assert newest["latest"]
    assert newest["size"] == runs.folder_size(newest["path"]) > 0 and newest["app"] == "app"
    assert doc["runs"][1]["exit_code"] == 3
    one_app = json.loads(skeleton("runs", "--json", str(Path(newest["path"]).parent), env=_env(home)).stdout)
    assert [r["path"] for r in one_app["runs"]] == [doc["runs"][0]["path"], doc["runs"][2]["path"]]


def test_skeleton_runs_prune_and_an_empty_home(tmp_path):
    home = tmp_path / "home"
    made = [_fake_run(home / "app-12345678", T0 + _dt.timedelta(minutes=i)) for i in range(3)]
    p = skeleton("runs", "--prune", "--json", env=_env(home, SKELETON_KEEP_RUNS="1"))
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["removed"] == [str(m) for m in made[:2]] and [r["path"] for r in doc["runs"]] == [str(made[2])]
    p = skeleton("runs", env=_env(tmp_path / "nothing"))
    assert p.returncode == 0 and p.stdout == "" and "no runs in" in p.stderr


@pytest.mark.parametrize("args, env, message", [
    (["runs", "--bogus"], {}, "No such option '--bogus'"),
    (["runs", "/no/such/folder"], {}, "/no/such/folder does not exist"),
    (["runs", "--app", " "], {}, "--app must not be empty"),
    (["runs", "--prune"], {"SKELETON_KEEP_RUNS": "many"}, "SKELETON_KEEP_RUNS must be a whole number"),
    (["run", "--no-open", "APP"], {"SKELETON_KEEP_SIZE": "huge"}, "SKELETON_KEEP_SIZE must be a size such as"),
    (["run", "--no-open", "APP"], {"SKELETON_KEEP_RUNS": "-3"}, "SKELETON_KEEP_RUNS must be a whole number"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, scripts, args, env, message):
    args = [str(scripts[0]) if a == "APP" else a for a in args]
    p = skeleton(*args, env=_env(tmp_path / "home", **env))
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("skeleton: error: ") and message in p.stderr
    assert p.stdout == "" and not (tmp_path / "home").exists()  # the program did not run, no folder made


def test_project_config_budget_is_checked(tmp_path, scripts):
    (tmp_path / "pyproject.toml").write_text('[tool.skeleton]\nkeep_size = "a lot"\n')
    p = skeleton("run", "--no-open", str(scripts[0]), env=_env(tmp_path / "home"))
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "pyproject.toml: [tool.skeleton] keep_size must be a size such as 500MB" in p.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.skeleton]\nkeep_run = 1\n')
    p = skeleton("run", "--no-open", str(scripts[0]), env=_env(tmp_path / "home"))
    assert p.returncode == 2 and "unknown key 'keep_run' in [tool.skeleton]; known keys: secret_names, " \
                                 "secret_patterns, keep_runs, keep_size, rules" in p.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.skeleton]\nkeep_runs = 1\n')
    for _ in range(2):
        p = skeleton("run", "--no-open", "--no-html", str(scripts[0]), env=_env(tmp_path / "home"))
        assert p.returncode == 0, p.stderr
    assert len(runs.list_runs(tmp_path / "home")) == 1


def test_usage_error_for_an_unwritable_home(tmp_path, scripts, monkeypatch):
    (tmp_path / "home").write_text("a file, not a folder")
    monkeypatch.setenv("SKELETON_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SKELETON_OUT_DIR", raising=False)
    with pytest.raises(UsageError, match="cannot write to the output folder .*choose another with --out-dir"):
        TraceSession(html=False).run_script(scripts[0])


def test_pytest_sessions_keep_their_folders_under_the_rootdir(tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "test_one.py").write_text("def add(a, b):\n    return a + b\n\n\n"
                                         "def test_add():\n    assert add(1, 1) == 2\n")
    env = {**_env(tmp_path / "home"), "SKELETON_HOME": ""}
    outs = []
    for _ in range(2):
        p = skeleton("pytest", "--no-open", "--no-html", "--json", "--", "-q", "-p", "no:randomly", "-p",
                     "no:cacheprovider", cwd=project, env=env)
        assert p.returncode == 0, p.stderr
        outs.append(Path(json.loads(p.stdout.splitlines()[-1])["out_dir"]))
    pytest_dir = project / ".skeleton" / "pytest"
    assert outs[0] != outs[1] and all(o.parent == pytest_dir and (o / "trace.jsonl").is_file() for o in outs)
    assert (pytest_dir / "latest").resolve() == outs[1]
    listed = json.loads(skeleton("runs", "--json", str(project / ".skeleton"), env=env).stdout)["runs"]
    assert [r["path"] for r in listed] == [str(outs[1]), str(outs[0])] and listed[0]["app"] == "pytest"
    assert not (tmp_path / "home").exists()
