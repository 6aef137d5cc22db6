"""trace.schema.json: real traces match it, it rejects what breaks the format, and the typed records,
the docs and the snapshot schema agree with it. (Every other test's traces are checked too: conftest.py.)"""
from __future__ import annotations

import copy
import dataclasses
import json
import re
import textwrap
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

import tracecheck
from conftest import APPS, BACKENDS, REPO, skeleton
from skeleton_replay.events.types import GAP_KINDS, STATUSES, TraceEnd, TraceHeader

SCHEMA = tracecheck.SCHEMA
DEFS = SCHEMA["$defs"]
SNAPSHOT_SCHEMA = json.loads(resources.files("skeleton_replay").joinpath("schema/snapshot.schema.json").read_text())
DOC = (REPO / "docs" / "trace-format.md").read_text("utf-8")

KILLED = """\
    import os
    import signal


    def work(i):
        return i * 2


    for i in range(17000):  # enough records for one chunk to reach the spill before the kill
        work(i)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture(scope="module", params=BACKENDS)
def traces(request, tmp_path_factory) -> dict[str, list[dict]]:
    """Real traces on one backend: a script with threads, exceptions and generators; async code; a capped
    run with private callables; a pytest run (scenarios, harness); a killed run rebuilt by `skeleton report`."""
    backend = request.param
    tmp = tmp_path_factory.mktemp(f"traces-{backend}")
    examples = REPO / "examples"
    runs = {
        "shop": ("run", str(examples / "shop" / "app.py")),
        "async": ("run", str(examples / "async_pipeline" / "app.py")),
        "capped": ("run", "--max-events", "120", "--include-private", str(examples / "shop" / "app.py")),
    }
    out: dict[str, list[dict]] = {}
    for name, (command, *args) in runs.items():
        p = skeleton(command, "--no-open", "--no-html", "--backend", backend, "--out-dir", str(tmp / name), *args)
        assert p.returncode == 0, p.stderr
        out[name] = tracecheck.check_trace(tmp / name / "trace.jsonl")
    p = skeleton("pytest", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(tmp / "pytest"), "--",
                 "-q", "-p", "no:randomly", cwd=APPS / "pytest_project")
    assert p.returncode == 1, p.stdout + p.stderr  # the sample project fails on purpose
    out["pytest"] = tracecheck.check_trace(tmp / "pytest" / "trace.jsonl")
    (tmp / "killed.py").write_text(textwrap.dedent(KILLED))
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(tmp / "killed"),
                 str(tmp / "killed.py"))
    assert p.returncode == -9, p.stderr
    p = skeleton("report", "--no-html", str(tmp / "killed"))
    assert p.returncode == 0, p.stderr
    out["killed"] = tracecheck.check_trace(tmp / "killed" / "trace.jsonl")
    return out


# -- real traces --------------------------------------------------------------------------------------------
def test_real_traces_match_the_schema_and_cover_it(traces):
    """check_trace passed in the fixture; here: the traces exercise what the schema describes."""
    events = [e for lines in traces.values() for e in lines[1:-1]]
    assert {e["event_type"] for e in events} == {"call", "return", "yield", "resume"}
    assert any("exception" in e for e in events) and any("summary_skipped" not in e and "args" in e for e in events)
    counted = [c for lines in traces.values() for c in lines[-1]["counted"]]
    endpoints = [ep for x in events + counted for ep in (x["caller"], x["callee"]) if ep is not None]
    assert any(ep.get("internal") for ep in endpoints) and any(ep.get("role") == "harness" for ep in endpoints)
    assert {ep["callable_kind"] for ep in endpoints} >= {"module_function", "instance_method", "class_method"}
    ends = {name: lines[-1] for name, lines in traces.items()}
    assert ends["capped"]["counted"] and ends["capped"]["gaps"][0]["kind"] == "cap"
    assert {s["outcome"] for s in ends["pytest"]["scenarios"]} >= {"passed", "failed"}
    assert ends["killed"]["status"] == "killed" and ends["killed"]["exit_code"] is None
    assert ends["killed"]["events"] > 0 and ends["killed"]["gaps"][0]["kind"] == "truncated"
    assert all(len(lines[0]["invocation"]) > 3 for lines in traces.values())


def test_every_line_matches_the_published_schema(traces):
    """What a consumer does: each line against the top-level schema, as published (open objects)."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for lines in traces.values():
        for line in lines[:300] + lines[-1:]:
            validator.validate(line)


def test_typed_header_and_end_records_round_trip_real_records(traces):
    for lines in traces.values():
        header, end = lines[0], lines[-1]
        assert list(TraceHeader.from_json(header).as_json().items()) == list(header.items())
        assert list(TraceEnd.from_json(end).as_json().items()) == list(end.items())  # same fields, same order


# -- what the schema rejects ----------------------------------------------------------------------------------
@pytest.fixture
def shop(traces) -> list[dict]:
    return copy.deepcopy(traces["shop"])


def _first(lines: list[dict], event_type: str, has: str | None = None) -> dict:
    return next(e for e in lines[1:-1] if e["event_type"] == event_type and (has is None or has in e))


def _rejected(lines: list[dict], match: str) -> None:
    with pytest.raises(AssertionError, match=match):
        tracecheck.check_lines(lines)


def test_a_valid_trace_passes(shop):
    tracecheck.check_lines(shop)


@pytest.mark.parametrize("break_it, match", [
    (lambda t: _first(t, "call")["callee"].pop("node_id"), "'node_id' is a required property"),
    (lambda t: _first(t, "call").update(event_type="exit"), "'exit' is not one of"),
    (lambda t: _first(t, "call").update(thread=0), "0 is less than the minimum of 1"),
    (lambda t: _first(t, "call").update(return_value={"type": "None"}), r"\$\.return_value: not allowed here"),
    (lambda t: _first(t, "return").pop("duration_ns"), "'duration_ns' is a required property"),
    (lambda t: _first(t, "return", "return_value").update(exception={"type": "E", "message": {"type": "None"}}),
     "valid under more than one of oneOf"),
    (lambda t: _first(t, "yield").update(args={}), r"\$\.args: not allowed here"),
    (lambda t: _first(t, "call").update(surprise=1), r"\('surprise' was unexpected\)"),
    (lambda t: _first(t, "call")["callee"].update(callable_kind="lambda"), "'lambda' is not one of"),
    (lambda t: t[0].update(backend="ptrace"), "'ptrace' is not one of"),
    (lambda t: t[0].pop("options"), "'options' is a required property"),
    (lambda t: t[0]["target"].update(kind="notebook"), "'notebook' is not one of"),
    (lambda t: t[0].update(started_at="yesterday"), "does not match"),
    (lambda t: t[-1].update(status="weird"), "'weird' is not one of"),
    (lambda t: t[-1]["gaps"].append({"kind": "cap", "message": "m", "count": -1}), "less than the minimum"),
    (lambda t: t[-1].update(error={"type": "E"}), r"\$\.error: 'message' is a required property"),
    (lambda t: t[-1].update(schema_version=2), "1 was expected"),
    (lambda t: t.insert(5, {"record": "scenario", "schema_version": 1, "name": "x"}), "between the header and the end"),
    (lambda t: t.pop(), "the last line is not an end record"),
    (lambda t: t.pop(0), "the first line is not a header"),
    (lambda t: t.pop(3), "order 3, expected 2"),
    (lambda t: t[-1].update(events=3), "the file has"),
    # call_id null: only the events of a generator whose call was not recorded, from a resume on
    (lambda t: _first(t, "call").update(call_id=None), "a call's call_id None is not its order"),
    (lambda t: _first(t, "yield").update(call_id=None), "a yield with call_id null before any resume of"),
    (lambda t: _first(t, "return").update(call_id=_first(t, "yield")["order"]), "not the order of an earlier call"),
])
def test_what_breaks_the_format_is_rejected(shop, break_it, match):
    break_it(shop)
    _rejected(shop, match)


def test_an_unknown_field_is_allowed_by_the_published_schema_only(shop):
    call = _first(shop, "call")
    call["added_in_a_later_version"] = 1
    jsonschema.Draft202012Validator(SCHEMA).validate(call)  # readers ignore it
    _rejected(shop, "'added_in_a_later_version' was unexpected")  # the suite: every written field is named


def test_a_new_gap_kind_is_valid(shop):
    shop[-1]["gaps"].append({"kind": "kind_added_later", "message": "m", "count": 1})
    tracecheck.check_lines(shop)


def test_events_of_one_shape_are_checked_once_but_a_different_value_is_not_missed(shop):
    """The late events share a shape with valid ones, except in what the schema constrains."""
    calls = [e for e in shop[1:-1] if e["event_type"] == "call" and e["callee"]["callable_kind"] == "module_function"]
    late = calls[-1]
    assert sum(tracecheck.shape(e) == tracecheck.shape(late) for e in calls) > 1
    for field, value in (("depth", -1), ("callable_kind", "generator"), ("schema_version", True)):
        broken = copy.deepcopy(shop)
        target = broken[late["order"] + 1]
        (target["callee"] if field == "callable_kind" else target)[field] = value
        with pytest.raises(AssertionError, match=f"line {late['order'] + 2}|:{late['order'] + 2}:"):
            tracecheck.check_lines(broken)


def test_shapes_only_skip_what_they_can_prove():
    """Events are validated once per shape: the schemas an event meets may only use keywords shape() keeps."""
    seen, todo = set(), ["Event"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in _nodes(DEFS[name]):
            assert set(node) <= tracecheck.SHAPE_SAFE_KEYWORDS | {"properties", "$defs"}, (name, set(node))
            assert node.get("minimum", 0) in tracecheck.SHAPE_SAFE_MINIMUMS, (name, node)
            if "$ref" in node:
                todo.append(node["$ref"].rsplit("/", 1)[-1])
    assert seen >= {"Event", "Endpoint", "Summary", "ExceptionInfo", "SchemaVersion"}


def _nodes(schema):
    """Every subschema (not the property-name maps)."""
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in ("properties", "$defs"):
                for sub in value.values():
                    yield from _nodes(sub)
            elif isinstance(value, (dict, list)):
                yield from _nodes(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _nodes(value)


# -- one source: typed records, snapshot schema, docs, code -----------------------------------------------------
def _props(name: str) -> set[str]:
    return set(DEFS[name]["properties"])


def test_typed_records_have_the_schema_fields():
    for cls, name, optional in ((TraceHeader, "Header", {"invocation", "request"}),
                                (TraceEnd, "End", {"scenarios", "boundaries", "creations", "sampling"})):
        names = {f.name for f in dataclasses.fields(cls)}
        assert names | {"record", "schema_version"} == _props(name)
        assert set(DEFS[name]["required"]) == _props(name) - optional - {"counted"}  # counted: added within v1
    options = {"max_events": 1, "include": [], "exclude": [], "include_private": False}
    header = TraceHeader("0", "3.12.1", "sysmon", "r", "/p", ["x"], {"kind": "api", "path": "x", "args": []}, "x",
                         "2026-11-26T05:53:26+00:00", options)
    end = TraceEnd(0.5, 0, "ok")
    tracecheck.check_lines([header.as_json(), end.as_json()])
    assert end.run_end() == {"duration_s": 0.5, "exit_code": 0, "status": "ok", "error": None, "gaps": []}
    assert TraceEnd.from_json({**end.as_json(), "added_later": 1}) == end  # readers ignore unknown fields


def test_statuses_and_gap_kinds_agree_with_the_schema_and_docs():
    assert tuple(DEFS["End"]["properties"]["status"]["enum"]) == STATUSES
    gap_text = DEFS["Gap"]["properties"]["kind"]["description"]
    gaps_row = next(line for line in DOC.splitlines() if line.startswith("| `gaps` |"))
    for kind in GAP_KINDS:
        assert re.search(rf"\b{kind} \(", gap_text), kind
        assert f"`{kind}` (" in gaps_row, kind


GAP_WRITERS = [
    re.compile(r"""\bgap\(\s*["']([a-z_]+)["']"""),  # Recorder.gap("kind", ...) and its local aliases
    re.compile(r"""\{\s*["']kind["']:\s*["']([a-z_]+)["'],\s*["'](?:count|message)["']"""),  # gap dict literals
    re.compile(r"""h->gap,\s*"[a-zA-Z]*",\s*"([a-z_]+)\""""),  # _speedups.c
]


def test_every_gap_kind_the_code_writes_is_documented():
    """A new gap kind is fine (kind is an open string), but it belongs in GAP_KINDS, the schema and the docs."""
    found: dict[str, str] = {}
    for path in (REPO / "skeleton_replay").rglob("*"):
        if path.suffix in (".py", ".c") and "_static" not in path.parts:
            for pattern in GAP_WRITERS:
                for kind in pattern.findall(path.read_text("utf-8")):
                    found.setdefault(kind, path.name)
    assert {"cap", "tracer_error", "unmatched", "child_process", "truncated"} <= set(found)  # the scan works
    unknown = {kind: where for kind, where in found.items() if kind not in GAP_KINDS}
    assert not unknown, f"gap kinds written but not in events/types.py GAP_KINDS (and docs, schema): {unknown}"


def test_shared_definitions_are_the_snapshot_schemas():
    for name in ("Summary", "RequestInfo", "ExceptionInfo"):
        assert DEFS[name] == SNAPSHOT_SCHEMA["$defs"][name], name


def test_the_schema_ships_in_the_package():
    text = resources.files("skeleton_replay").joinpath("schema/trace.schema.json").read_text("utf-8")
    jsonschema.Draft202012Validator.check_schema(json.loads(text))
    assert json.loads(text)["$id"] == "skeleton-replay/trace.schema.json"


# -- docs/trace-format.md: its field tables name the schema's fields -------------------------------------------
DOC_TABLES = {"Header": "## Header record", "Event": "## Event lines", "Endpoint": "### Endpoints",
              "End": "## End record"}
NESTED = {("Header", "target"): "Target", ("Header", "options"): "Options", ("End", "threads"): "Thread",
          ("End", "counted"): "Counted", ("End", "scenarios"): "Scenario", ("End", "gaps"): "Gap",
          ("End", "error"): "ErrorInfo"}


def _table(heading: str) -> dict[str, str]:
    """Field name -> its row, from the first table after a heading."""
    section = DOC.split(f"\n{heading}\n", 1)[1]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("| Field |") or line.startswith("|---"):
            continue
        if not line.startswith("|"):
            if rows:
                break
            continue
        first = line.split("|")[1]
        for name in re.findall(r"`([a-z_]+)`", first):
            rows[name] = line
    return rows


@pytest.mark.parametrize("definition", sorted(DOC_TABLES))
def test_the_docs_tables_name_exactly_the_schema_fields(definition):
    documented = set(_table(DOC_TABLES[definition]))
    assert documented - _props(definition) == set(), "documented but not in the schema"
    assert _props(definition) - documented == set(), "in the schema but not documented"


@pytest.mark.parametrize("definition, field", sorted(NESTED))
def test_the_docs_name_the_fields_of_nested_objects(definition, field):
    row = _table(DOC_TABLES[definition])[field]
    named = set(re.findall(r"`([a-z_]+)`", row))
    for group in re.findall(r"\{([^{}]*)\}", row):  # {id, name, events} or {"type", "message"}
        words = [w.strip(' "`') for w in group.split(",")]
        assert all(w in _props(NESTED[definition, field]) for w in words if re.fullmatch(r"[a-z_]+", w)), group
        named.update(words)
    missing = _props(NESTED[definition, field]) - named
    assert not missing, f"{field}: {sorted(missing)} not in docs/trace-format.md"
