"""snapshot.json and workflow.md: schema, ownership, counts, steps, determinism."""
from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from conftest import BACKENDS, REPO, skeleton
from skeleton_replay.model.steps import decode

SCHEMA = json.loads(resources.files("skeleton_replay").joinpath("schema/snapshot.schema.json").read_text())


@pytest.fixture(params=BACKENDS, scope="module")
def runs(request, tmp_path_factory):
    out = {}
    for app, args in (("basics", ["x"]), ("concurrency", [])):
        d = tmp_path_factory.mktemp(f"{app}-{request.param}")
        folder = REPO / "tests" / "apps" / app
        p = skeleton("run", "--no-open", "--no-html", "--backend", request.param, "--out-dir", str(d),
                     "--project-root", str(folder), str(folder / "app.py"), *args)
        assert p.returncode == 0, p.stderr
        out[app] = d
    return out


def load(d):
    return json.loads((d / "snapshot.json").read_text())


def events(d):
    return [json.loads(l) for l in (d / "trace.jsonl").read_text().splitlines() if '"event_type"' in l]


@pytest.mark.parametrize("app", ["basics", "concurrency"])
def test_snapshot_matches_schema(runs, app):
    jsonschema.validate(load(runs[app]), SCHEMA)


@pytest.mark.parametrize("app", ["basics", "concurrency"])
def test_ownership_is_a_tree(runs, app):
    snap = load(runs[app])
    ids = {n["id"]: n for n in snap["nodes"]}
    assert len(ids) == len(snap["nodes"]), "node ids are unique"
    allowed = {"package": {"package", None}, "module": {"package", "module", None}, "instance": {"module"},
               "class": {"module"}, "function": {"module"}, "method": {"instance", "class"}, "scenario": {None}}
    for n in snap["nodes"]:
        parent = ids[n["parent"]]["kind"] if n["parent"] else None
        assert parent in allowed[n["kind"]], (n["id"], parent)
        seen, p = set(), n["parent"]
        while p:  # no cycles
            assert p not in seen
            seen.add(p)
            p = ids[p]["parent"]


@pytest.mark.parametrize("app", ["basics", "concurrency"])
def test_edge_counts_equal_call_events(runs, app):
    snap = load(runs[app])
    evs = events(runs[app])
    calls: dict[tuple, int] = {}
    for e in evs:
        if e["event_type"] == "call":
            key = ((e["caller"] or {}).get("node_id", "scenario:run"), e["callee"]["node_id"])
            calls[key] = calls.get(key, 0) + 1
    assert {(e["source"], e["target"]): e["count"] for e in snap["edges"]} == calls
    for n in snap["nodes"]:
        if n["kind"] in ("function", "method"):
            assert n["call_count"] == sum(v for (s, t), v in calls.items() if t == n["id"])


def test_instances_live_in_the_module_of_their_class(runs):
    snap = load(runs["basics"])
    ids = {n["id"]: n for n in snap["nodes"]}
    sq = ids["inst:pkg.shapes.Square#1"]
    assert sq["parent"] == "mod:pkg.shapes" and sq["label"] == "Square#1" and sq["class_name"] == "Square"
    assert ids["meth:pkg.shapes.Square#1.area"]["parent"] == "inst:pkg.shapes.Square#1"
    assert ids["clsm:pkg.shapes.Shape.make"]["parent"] == "cls:pkg.shapes.Shape"
    assert ids["mod:pkg.shapes"]["parent"] == "mod:pkg"
    assert ids["fn:pkg.flow:validate"]["raised"] == 1
    ex = ids["fn:pkg.flow:validate"]["examples"]
    assert any("exception" in x for x in ex) and any("return_value" in x for x in ex)
    edges = {(e["source"], e["target"]): e for e in snap["edges"]}
    handle = edges[("fn:pkg.flow:handle", "fn:pkg.flow:process")]
    assert [x["args"]["value"]["value"] for x in handle["examples"]] == [1, -1, 2]
    assert [("exception" in x, x.get("return_value", {}).get("value")) for x in handle["examples"]] == [
        (False, 2), (True, None), (False, 4)]
    medges = {(m["source"], m["target"]) for m in snap["module_edges"]}
    assert ("mod:app", "mod:pkg.flow") in medges and ("scenario:run", "mod:app") in medges


@pytest.mark.parametrize("app", ["basics", "concurrency"])
def test_steps_replay_the_trace(runs, app):
    snap = load(runs[app])
    evs = events(runs[app])
    cols = {k: decode(v) for k, v in snap["steps"]["columns"].items()}
    assert snap["steps"]["count"] == len(evs) == len(cols["kind"])
    kinds = snap["steps"]["kinds"]
    nodes = snap["nodes"]
    for i, e in enumerate(evs):
        kind = kinds[cols["kind"][i]]
        expected = "exception" if "exception" in e and e["event_type"] == "return" else e["event_type"]
        assert kind == expected
        assert nodes[cols["node"][i]]["id"] == e["callee"]["node_id"]
        assert cols["depth"][i] == e["depth"] and cols["call_id"][i] == e["call_id"] and cols["thread"][i] == e["thread"]
        if kind == "call":
            edge = snap["edges"][cols["edge"][i]]
            assert edge["target"] == e["callee"]["node_id"]
    first = {}
    for i in range(len(evs)):
        first.setdefault(cols["node"][i], i)
    for idx, n in enumerate(nodes):
        if n["kind"] in ("function", "method"):
            assert n["first_seen"] == first[idx]


def test_workflow_is_deterministic_and_cites_ids(tmp_path):
    folder = REPO / "tests" / "apps" / "basics"
    texts = []
    for i in range(2):
        p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / str(i)), "--project-root", str(folder),
                     str(folder / "app.py"), "x")
        assert p.returncode == 0
        text = (tmp_path / str(i) / "workflow.md").read_text()
        texts.append([l for l in text.splitlines() if not l.startswith(("- started:", "- command:"))])
    assert texts[0] == texts[1]
    text = "\n".join(texts[0])
    assert "E0 `fn:app:main`" in text
    assert "`fn:pkg.flow:validate`" in text and "raised pkg.flow.ValidationError" in text or "raised ?" in text
    assert "`meth:pkg.shapes.Square#1.area`" in text
    assert "[yielded 3×]" in text


def test_loops_fold_in_the_workflow(tmp_path):
    script = tmp_path / "loop.py"
    script.write_text("def tick(i):\n    return helper(i)\n\ndef helper(i):\n    return i\n\n"
                      "def main():\n    for i in range(5000):\n        tick(i)\n\nmain()\n")
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "o"), str(script))
    assert p.returncode == 0, p.stderr
    text = (tmp_path / "o" / "workflow.md").read_text()
    assert "×5,000 `fn:loop:tick`" in text
    assert len(text) < 20_000


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", ["5", "40", "150"])
@pytest.mark.parametrize("app", ["basics", "concurrency"])
def test_counts_past_the_cap_equal_an_uncapped_run(tmp_path, backend, cap, app):
    """Generators, coroutines, exceptions and threads past the cap: the tracer's counts match."""
    folder = REPO / "tests" / "apps" / app
    args = ["x"] if app == "basics" else []

    def counts(out, *extra):
        p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(tmp_path / out),
                     "--project-root", str(folder), *extra, str(folder / "app.py"), *args)
        assert p.returncode == 0, p.stderr
        snap = load(tmp_path / out)
        jsonschema.validate(snap, SCHEMA)
        return snap, {(e["source"], e["target"]): (e["count"], e["raised"]) for e in snap["edges"]}

    full, want = counts("full")
    capped, got = counts("capped", "--max-events", cap)
    assert got == want
    assert capped["stats"]["calls"] == full["stats"]["calls"]
    assert capped["stats"]["recorded_events"] == min(int(cap), full["stats"]["recorded_events"])
    ids = {n["id"]: n["call_count"] for n in capped["nodes"]}
    assert ids == {n["id"]: n["call_count"] for n in full["nodes"]}


def test_session_json_matches_schema_and_reproduces_the_run(tmp_path):
    session_schema = json.loads(resources.files("skeleton_replay").joinpath("schema/session.schema.json").read_text())
    folder = REPO / "tests" / "apps" / "basics"
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(tmp_path / "a"), "--project-root", str(folder),
                 str(folder / "app.py"), "x")
    assert p.returncode == 0
    session = json.loads((tmp_path / "a" / "session.json").read_text())
    jsonschema.validate(session, session_schema)
    assert session["artifacts"]["report"] is None and session["metrics"]["events"] > 0
    argv = session["invocation"]
    argv[argv.index("--out-dir") + 1] = str(tmp_path / "b")
    import subprocess
    again = subprocess.run(argv, cwd="/", capture_output=True, text=True, env={"CI": "1", "PATH": "/usr/bin:/bin"})
    assert again.returncode == 0, again.stderr
    assert again.stdout == p.stdout
    assert load(tmp_path / "b")["stats"]["calls"] == load(tmp_path / "a")["stats"]["calls"]


def test_snapshot_gaps_accept_every_gap_kind_the_trace_can_carry():
    """Snapshot gaps are copied from the trace's end record: each kind written there (and a future one,
    the list is open) must pass the snapshot schema too."""
    from skeleton_replay.events.types import GAP_KINDS
    schema = json.loads(resources.files("skeleton_replay").joinpath("schema/snapshot.schema.json").read_text())
    gap = {"$ref": "#/$defs/Gap", "$defs": schema["$defs"]}
    for kind in (*GAP_KINDS, "a-kind-from-a-newer-skeleton"):
        jsonschema.validate({"kind": kind, "message": "m", "count": 1}, gap)
