"""`skeleton pytest`, `pytest --skeleton` and the skeleton_trace fixture on a real sample project."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import orjson
import pytest

from conftest import APPS, HAS_SYSMON, skeleton

PROJECT = APPS / "pytest_project"
SCHEMAS = Path(__file__).parent.parent / "skeleton_replay" / "schema"
EXPECTED = {  # what pytest itself reports for the sample project
    "tests/test_calc.py::test_add": "passed",
    "tests/test_calc.py::test_plus[1-1.0]": "passed",
    "tests/test_calc.py::test_plus[2-2.0]": "passed",
    "tests/test_calc.py::test_divide_by_zero_fails": "failed",
    "tests/test_calc.py::test_wrong_answer": "failed",
    "tests/test_calc.py::test_skipped": "skipped",
    "tests/test_calc.py::test_block": "passed",
}
CLEAN_ENV = {"SKELETON_OUT_DIR": "", "SKELETON_HOME": ""}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dst = tmp_path / "proj"
    shutil.copytree(PROJECT, dst, ignore=shutil.ignore_patterns("__pycache__", ".skeleton"))
    return dst


def _load(out: Path, name: str):
    return orjson.loads((out / name).read_bytes())


def _events(out: Path) -> list[dict]:
    return [d for d in map(orjson.loads, (out / "trace.jsonl").read_bytes().splitlines()) if "event_type" in d]


def _by_name(snap: dict) -> dict[str, dict]:
    return {s["name"]: s for s in snap["scenarios"]}


def _plain_pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *args], cwd=project,
                          capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=120)


def test_each_test_is_a_scenario_with_pytests_outcome(project):
    plain = _plain_pytest(project)
    p = skeleton("pytest", "--no-open", "--", "-q", "-p", "no:randomly", cwd=project, env=CLEAN_ENV)
    assert p.returncode == plain.returncode == 1, p.stderr
    out = (project / ".skeleton" / "pytest" / "latest").resolve()  # the default: a run folder under pytest's rootdir
    assert "2 failed, 4 passed, 1 skipped" in p.stdout  # pytest's own report is untouched
    assert f"artifacts in {out}" in p.stderr
    snap = _load(out, "snapshot.json")
    jsonschema.validate(snap, _load(SCHEMAS, "snapshot.schema.json"))
    jsonschema.validate(_load(out, "session.json"), _load(SCHEMAS, "session.schema.json"))
    scen = _by_name(snap)
    assert {n: s["outcome"] for n, s in scen.items()} == EXPECTED
    assert [s["id"] for s in snap["scenarios"]] == list(range(len(EXPECTED)))
    failed = scen["tests/test_calc.py::test_wrong_answer"]
    assert failed["message"].startswith("AssertionError: two is not three")
    assert "ZeroDivisionError" in scen["tests/test_calc.py::test_divide_by_zero_fails"]["message"]
    assert scen["tests/test_calc.py::test_skipped"]["message"] == "not today"
    assert scen["tests/test_calc.py::test_skipped"]["calls"] == 0
    assert scen["tests/test_calc.py::test_add"]["file"] == "tests/test_calc.py"
    assert snap["run"]["target"]["kind"] == "pytest" and snap["run"]["exit_code"] == 1

    # Events carry their scenario; each scenario's step range holds exactly its events.
    events = _events(out)
    for s in snap["scenarios"]:
        mine = [e["order"] for e in events if e.get("scenario") == s["name"]]
        if not mine:
            assert s["first_event"] is None
            continue
        assert (s["first_event"], s["last_event"]) == (mine[0], mine[-1])
        assert mine == list(range(mine[0], mine[-1] + 1))
        assert s["calls"] == sum(1 for e in events if e.get("scenario") == s["name"] and e["event_type"] == "call")


def test_nodes_and_edges_know_which_tests_exercised_them(project):
    p = skeleton("pytest", "--no-open", "--out-dir", str(project / "out"), "--", "-p", "no:randomly", cwd=project)
    assert p.returncode == 1, p.stderr
    snap = _load(project / "out", "snapshot.json")
    names = [s["name"] for s in snap["scenarios"]]
    nodes = {n["id"]: n for n in snap["nodes"]}

    def tests_of(node_id: str) -> set[str]:
        return {names[i].split("::")[1] for i in nodes[node_id].get("scenarios", [])}

    assert tests_of("fn:calc.ops:add") == {"test_add", "test_plus[1-1.0]", "test_plus[2-2.0]", "test_wrong_answer", "test_block"}
    assert tests_of("fn:calc.ops:divide") == {"test_divide_by_zero_fails"}
    # Each edge lists the tests whose calls used it, consistent with the events.
    events = _events(project / "out")
    seen: dict[tuple, set] = {}
    for e in events:
        if e["event_type"] == "call" and e.get("scenario"):
            src = e["caller"]["node_id"] if e["caller"] else "scenario:run"
            seen.setdefault((src, e["callee"]["node_id"]), set()).add(names.index(e["scenario"]))
    for edge in snap["edges"]:
        assert set(edge.get("scenarios", [])) == seen.get((edge["source"], edge["target"]), set()), edge["id"]
    # Test code is the harness; the code under test is not.
    assert nodes["fn:test_calc:test_add"]["role"] == "harness"
    assert nodes["fn:conftest:calc"]["role"] == "harness"
    assert "role" not in nodes["fn:calc.ops:add"]
    assert not any(n["module"].startswith(("_pytest", "pytest", "pluggy")) for n in snap["nodes"])
    wf = (project / "out" / "workflow.md").read_text()
    assert "## Scenarios" in wf and "4 passed, 2 failed, 1 skipped" in wf
    assert "`tests/test_calc.py::test_wrong_answer` failed: AssertionError: two is not three" in wf


def test_plugin_flag_records_the_same_scenarios(project):
    a = skeleton("pytest", "--no-open", "--out-dir", str(project / "a"), "--", "-p", "no:randomly", cwd=project)
    b = _plain_pytest(project, "--skeleton", "--skeleton-out", str(project / "b"))
    assert a.returncode == b.returncode == 1
    assert "skeleton: artifacts in" in b.stdout  # the plugin reports in pytest's terminal summary

    def key(out):
        snap = _load(out, "snapshot.json")
        return [(s["name"], s["outcome"], s["calls"]) for s in snap["scenarios"]], sorted(
            (e["id"], e["count"], tuple(e.get("scenarios", []))) for e in snap["edges"])

    assert key(project / "a") == key(project / "b")
    session = _load(project / "b", "session.json")
    assert session["target"]["kind"] == "pytest" and "--skeleton" in session["invocation"]


def test_capped_run_keeps_per_test_evidence_complete(project):
    full = skeleton("pytest", "--no-open", "--out-dir", str(project / "full"), "--", "-p", "no:randomly", cwd=project)
    capped = skeleton("pytest", "--no-open", "--max-events", "20", "--out-dir", str(project / "cap"), "--",
                      "-p", "no:randomly", cwd=project)
    assert full.returncode == capped.returncode == 1
    a, b = _load(project / "full", "snapshot.json"), _load(project / "cap", "snapshot.json")
    assert b["stats"]["dropped_events"] > 0 and b["stats"]["recorded_events"] < a["stats"]["recorded_events"]
    assert [(s["name"], s["calls"]) for s in a["scenarios"]] == [(s["name"], s["calls"]) for s in b["scenarios"]]
    edges = lambda snap: {e["id"]: (e["count"], e.get("scenarios")) for e in snap["edges"]}  # noqa: E731
    assert edges(a) == edges(b)
    # skeleton report rebuilds the same snapshot from trace.jsonl alone
    before = (project / "cap" / "snapshot.json").read_bytes()
    r = skeleton("report", str(project / "cap"))
    assert r.returncode == 0, r.stderr
    assert (project / "cap" / "snapshot.json").read_bytes() == before


@pytest.mark.skipif(not HAS_SYSMON, reason="compares sys.monitoring with the setprofile fallback")
def test_both_backends_agree_on_scenarios(project):
    runs = {}
    for backend in ("sysmon", "setprofile"):
        out = project / backend
        p = skeleton("pytest", "--no-open", "--backend", backend, "--out-dir", str(out), "--", "-p", "no:randomly", cwd=project)
        assert p.returncode == 1, p.stderr
        snap = _load(out, "snapshot.json")
        runs[backend] = ([(s["name"], s["outcome"], s["calls"], s["first_event"], s["last_event"]) for s in snap["scenarios"]],
                         [(e["event_type"], e["callee"]["node_id"], e.get("scenario")) for e in _events(out)])
    assert runs["sysmon"] == runs["setprofile"]


def test_collection_error_still_writes_artifacts(project):
    (project / "tests" / "test_broken.py").write_text("import calc.no_such_module\n")
    plain = _plain_pytest(project)
    p = skeleton("pytest", "--no-open", "--out-dir", str(project / "out"), "--", "-p", "no:randomly", cwd=project)
    assert p.returncode == plain.returncode == 2
    snap = _load(project / "out", "snapshot.json")
    assert snap["run"]["status"] == "interrupted" and snap["run"]["exit_code"] == 2
    assert "scenarios" not in snap or snap["scenarios"] == []  # no test ran
    assert (project / "out" / "report.html").exists()


def test_skeleton_trace_fixture_records_a_block_with_fixtures_active(project):
    p = _plain_pytest(project, "tests/test_calc.py::test_block")
    assert p.returncode == 0, p.stdout
    out = project / ".skeleton" / "pytest" / "tests-test_calc.py-test_block" / "scaled"
    snap = _load(out, "snapshot.json")
    (block,) = snap["scenarios"]
    assert block["name"] == "tests/test_calc.py::test_block::scaled" and block["kind"] == "block"
    assert block["outcome"] == "passed"
    calls = [e for e in _events(out) if e["event_type"] == "call"]
    assert [e["callee"]["qualified_name"] for e in calls] == ["Calculator.scaled", "Calculator.plus", "add"]
    # the monkeypatched RATE was active: plus() received 2 * 10.0
    assert calls[1]["args"]["x"] == {"type": "float", "value": 20.0}


def test_failure_messages_are_redacted(project):
    (project / "tests" / "test_secret.py").write_text(
        "def test_token():\n    token = 'ghp_' + 'a' * 36\n    assert token == 'x'\n")
    p = skeleton("pytest", "--no-open", "--out-dir", str(project / "out"), "--", "-p", "no:randomly",
                 "tests/test_secret.py", cwd=project)
    assert p.returncode == 1
    secret = "ghp_" + "a" * 36
    assert secret in p.stdout  # pytest prints it; Skeleton's artifacts must not
    for f in (project / "out").iterdir():
        assert secret not in f.read_text("utf-8", "replace"), f.name
    (s,) = _load(project / "out", "snapshot.json")["scenarios"]
    assert s["outcome"] == "failed" and s["message"] == "AssertionError: assert '…' == '…'"


def test_bad_pytest_arguments_keep_pytests_exit_code(project):
    p = skeleton("pytest", "--no-open", "--out-dir", str(project / "out"), "--", "--no-such-pytest-flag", cwd=project)
    assert p.returncode == 4
    assert "--no-such-pytest-flag" in p.stderr


def test_bad_skeleton_option_is_one_line(project):
    p = skeleton("pytest", "--max-events", "-3", "--", cwd=project)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [p.stderr.strip()] and "--max-events" in p.stderr


def test_a_session_stopped_inside_a_test_ends_that_scenario_as_interrupted(project):
    (project / "tests" / "test_calc.py").write_text(
        "import pytest\nfrom calc import add\n\n"
        "def test_first():\n    assert add(1, 1) == 2\n\n"
        "def test_stops():\n    add(2, 2)\n    pytest.exit('stopping here', returncode=3)\n\n"
        "def test_never_runs():\n    add(3, 3)\n")
    p = skeleton("pytest", "--no-open", "--out-dir", str(project / "out"), "--", "-p", "no:randomly", cwd=project)
    assert p.returncode == 3, p.stderr
    snap = _load(project / "out", "snapshot.json")
    assert [(s["name"].split("::")[1], s["outcome"]) for s in snap["scenarios"]] == [
        ("test_first", "passed"), ("test_stops", "interrupted")]
    assert snap["scenarios"][1]["calls"] == 2  # test_stops and its add()
    assert snap["run"]["exit_code"] == 3 and snap["run"]["status"] == "exit"
