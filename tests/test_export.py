"""`skeleton export` on real runs of examples/shop: diagrams at three levels, a test, an event window,
the node cap, hostile names in every diagram language, and a well-formed Chrome trace-event timeline."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter, defaultdict

import pytest
from conftest import REPO, skeleton
from hypothesis import given
from hypothesis import strategies as st

from skeleton_replay.export import escape
from skeleton_replay.render.md import clip, visible

SHOP = REPO / "examples" / "shop"


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "shop"
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), str(SHOP / "app.py"))
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def tests_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "pytest"
    p = skeleton("pytest", "--no-open", "--no-html", "--out-dir", str(out), "--", str(SHOP / "tests"), "-q",
                 "-p", "no:randomly", cwd=SHOP)
    assert p.returncode == 1, p.stdout + p.stderr  # the demo's suite has one failing test on purpose
    return out


def snapshot(out):
    return json.loads((out / "snapshot.json").read_text())


def export(out, *args):
    p = skeleton("export", str(out), *map(str, args))
    assert p.returncode == 0, p.stderr
    return p.stdout


def trace_events(out):
    return [json.loads(line) for line in (out / "trace.jsonl").read_text().splitlines()[1:-1]]


# -- Mermaid, read back ------------------------------------------------------------------------
_NODE = re.compile(r'\s*(n\d+)\["([^"\n]*)"\]')
_EDGE = re.compile(r"\s*(n\d+) -->(?:\|(\d+)\|)? (n\d+)")
_GROUP = re.compile(r'\s*subgraph (g\d+)\["([^"\n]*)"\]')


def unmermaid(s: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), s)


def read_mermaid(text):
    """{id: label}, [(src label, dst label, count)], {group label: [labels]}; fails on any other line."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes, edges, groups, group = {}, [], defaultdict(list), None
    for line in lines[1:]:
        if m := _NODE.fullmatch(line):
            nodes[m.group(1)] = unmermaid(m.group(2))
            if group is not None:
                groups[group].append(nodes[m.group(1)])
        elif m := _EDGE.fullmatch(line):
            edges.append((m.group(1), m.group(3), int(m.group(2)) if m.group(2) else None))
        elif m := _GROUP.fullmatch(line):
            group = unmermaid(m.group(2))
        elif line == "  end":
            group = None
        else:
            assert re.fullmatch(r"  %% [ -~]*", line), line  # a comment: printable ASCII, one line
    return nodes, [(nodes[a], nodes[b], n) for a, b, n in edges], dict(groups)


def test_module_level_is_the_snapshots_module_dependencies(shop):
    nodes, edges, groups = read_mermaid(export(shop, "--format", "mermaid", "--level", "modules"))
    snap = snapshot(shop)
    name = {"scenario:run": "(run) app"}
    expected = {(name.get(m["source"], m["source"][4:]), name.get(m["target"], m["target"][4:]), m["count"])
                for m in snap["module_edges"]}
    assert set(edges) == expected and len(edges) == len(expected)
    assert groups == {}
    modules = {n["module"] for n in snap["nodes"] if n["kind"] == "module"}
    assert set(nodes.values()) == modules | {"(run) app"}


def test_class_level_folds_instances_into_their_class(shop):
    nodes, edges, groups = read_mermaid(export(shop, "--level", "classes"))
    snap = snapshot(shop)
    assert sum(1 for n in snap["nodes"] if n["kind"] == "instance" and n["class_name"] == "Money") >= 3
    labels = list(nodes.values())
    assert labels.count("Money") == 1 and not any("#" in label for label in labels)
    assert "Money" in groups["shop.domain.money"] and "format_money()" in groups["shop.util"]
    # LineItem -> Money: the sum over every LineItem#i.subtotal -> Money#j.times edge
    want = sum(e["count"] for e in snap["edges"] if e["source"].startswith("meth:shop.domain.order.LineItem#")
               and e["target"].startswith("meth:shop.domain.money.Money#"))
    assert want > 0 and ("LineItem", "Money", want) in edges
    assert not any(a == b for a, b, _ in edges)  # calls inside a class are not drawn


def test_method_level_names_methods_not_instances(shop):
    nodes, edges, _ = read_mermaid(export(shop, "--level", "methods"))
    labels = list(nodes.values())
    assert labels.count("Money.times") == 1 and labels.count("Order.total") == 1
    snap = snapshot(shop)
    want = sum(e["count"] for e in snap["edges"] if re.fullmatch(r"meth:shop\.domain\.order\.Order#\d+\.total",
                                                                 e["source"])
               and re.fullmatch(r"meth:shop\.domain\.order\.Order#\d+\.subtotal", e["target"]))
    assert ("Order.total", "Order.subtotal", want) in edges


def test_max_nodes_folds_the_rest_into_one_box(shop):
    full, full_edges, _ = read_mermaid(export(shop, "--level", "methods"))
    nodes, edges, _ = read_mermaid(export(shop, "--level", "methods", "--max-nodes", "6"))
    assert len(nodes) == 6
    folded = [label for label in nodes.values() if "more" in label]
    assert folded == [f"{len(full) - 5} more methods and functions (fewest calls)"]
    kept = set(nodes.values()) - set(folded)
    assert kept < set(full.values())
    # the kept boxes are those with the most calls into them
    calls_in = Counter()
    for _, b, n in full_edges:
        calls_in[b] += n
    ranked = sorted((label for label in full.values() if label != "(run) app"), key=lambda x: -calls_in[x])
    assert min(calls_in[k] for k in kept - {"(run) app"}) >= calls_in[ranked[5]]
    text = export(shop, "--level", "methods", "--max-nodes", "6")
    assert f"%% {len(full) - 5} of {len(full)} boxes folded into one (--max-nodes 6)" in text


def test_scenario_shows_only_that_tests_calls(tests_run):
    snap = snapshot(tests_run)
    test = next(s for s in snap["scenarios"] if s["name"].endswith("::test_refunds"))
    text = export(tests_run, "--level", "methods", "--scenario", test["name"])
    nodes, edges, _ = read_mermaid(text)
    assert "(test) tests/test_checkout.py::test_refunds" in nodes.values()
    assert sum(n for _, _, n in edges) <= test["calls"]
    # the same evidence as the snapshot's edge scenario lists
    from skeleton_replay.export.select import from_trace

    counts = from_trace(tests_run / "trace.jsonl", None, test["name"]).counts
    listed = {(e["source"], e["target"]) for e in snap["edges"] if test["id"] in e.get("scenarios", [])}
    assert set(counts) == listed and sum(counts.values()) == test["calls"]
    other = next(s for s in snap["scenarios"] if s["name"].endswith("::test_sales_report"))
    assert read_mermaid(export(tests_run, "--level", "methods", "--scenario", other["name"]))[1] != edges
    # short form: the test's name alone when it is unique
    assert export(tests_run, "--level", "methods", "--scenario", "test_refunds") == text


def test_scenario_without_trace_uses_the_snapshots_lists(tests_run, tmp_path):
    (tmp_path / "snap").mkdir()
    shutil.copy(tests_run / "snapshot.json", tmp_path / "snap")
    with_trace = read_mermaid(export(tests_run, "--level", "classes", "--scenario", "test_refunds"))
    alone = read_mermaid(export(tmp_path / "snap", "--level", "classes", "--scenario", "test_refunds"))
    assert {(a, b) for a, b, _ in alone[1]} == {(a, b) for a, b, _ in with_trace[1]}
    assert all(n is None for _, _, n in alone[1])  # counts per test need trace.jsonl


def test_window_shows_only_the_calls_in_it(shop):
    events = trace_events(shop)
    calls = [e for e in events if e["event_type"] == "call" and 100 <= e["order"] <= 180]
    nodes, edges, _ = read_mermaid(export(shop, "--level", "methods", "--window", "E100:E180"))
    assert sum(n for _, _, n in edges) == len(calls) > 0
    everything = read_mermaid(export(shop, "--level", "methods"))[1]
    assert sum(n for _, _, n in everything) > len(calls)
    assert export(shop, "--window", "100:180") == export(shop, "--window", "E100:E180")


# -- hostile names -----------------------------------------------------------------------------
EVIL = 'x"] --> y}{ \\n end\\\\ @enduml %% <b>&lt;#35;**__ [[z]] ;|` //i// = h'
HOSTILE_APP = f'''
import importlib.util, types
from pathlib import Path

EVIL = {EVIL!r} + "\\nend\\n}}\\n@enduml"

class Evil:
    def hello(self):
        return self.make()

    @classmethod
    def make(cls):
        return 2

Evil.__qualname__ = "Evil" + EVIL
Evil.__module__ = "evilmod" + EVIL

def echo(s):
    return s

Evil().hello()
spec = importlib.util.spec_from_file_location("mod" + EVIL, Path(__file__).parent / "helper.py")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
m.helper()
types.FunctionType(echo.__code__.replace(co_name="odd" + EVIL, co_qualname="odd" + EVIL), globals())("x")
'''
EVIL_FULL = eval(repr(EVIL) + ' + "\\nend\\n}\\n@enduml"')
SHOWN = visible(clip("Evil" + EVIL_FULL, escape.LABEL_LIMIT))  # what a label holds: one line, capped


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "helper.py").write_text("def helper():\n    return 1\n")
    (folder / "app.py").write_text(HOSTILE_APP)
    p = skeleton("run", "--no-open", "--no-html", "--project-root", str(folder), "--out-dir", str(folder / "out"),
                 str(folder / "app.py"))
    assert p.returncode == 0, p.stderr
    return folder / "out"


@pytest.mark.parametrize("level", ["modules", "classes", "methods"])
def test_hostile_names_stay_inside_mermaid_labels(hostile, level):
    nodes, edges, groups = read_mermaid(export(hostile, "--format", "mermaid", "--level", level))
    assert len(edges) >= 3
    labels = set(nodes.values()) | set(groups)
    assert any(label.startswith("evilmodx\"] --> y}{") for label in labels)
    if level != "modules":
        assert SHOWN in labels


_DOT_LINE = re.compile(r'  (?://[ -~]*|rankdir=LR;|node \[.*\];|edge \[.*\];|\}|subgraph cluster_g\d+ \{|'
                       r' {2}label="(?:[^"\\\n]|\\.)*";| ?\s*n\d+ \[label="((?:[^"\\\n]|\\.)*)"\];|'
                       r'n\d+ -> n\d+ \[label="\d*"\];)')


def undot(s):
    return re.sub(r"\\(.)", r"\1", s).replace("&amp;", "&")


@pytest.mark.parametrize("level", ["classes", "methods"])
def test_hostile_names_stay_inside_dot_labels(hostile, level):
    text = export(hostile, "--format", "dot", "--level", level)
    lines = text.splitlines()
    assert lines[0] == "digraph skeleton {" and lines[-1] == "}"
    labels = []
    for line in lines[1:-1]:
        m = _DOT_LINE.fullmatch(line)
        assert m, line
        if m.group(1) is not None:
            labels.append(undot(m.group(1)))
    assert SHOWN in labels or SHOWN + ".hello" in labels or any(SHOWN in label for label in labels)
    if shutil.which("dot"):  # Graphviz draws it and shows the names as they are
        svg = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True).stdout
        assert "x&quot;] &#45;&#45;&gt; y}{ \\n end\\\\ @enduml" in svg


_PUML_LINE = re.compile(r"(?:' [ -~]*|left to right direction|\}|@enduml|"
                        r'\s*rectangle "([^"\n]*)" as n\d+|package "([^"\n]*)" as g\d+ \{|n\d+ --> n\d+(?: : \d+)?)')


def unplantuml(s):
    return re.sub(r"<U\+([0-9A-F]{4,6})>", lambda m: chr(int(m.group(1), 16)), s)


@pytest.mark.parametrize("level", ["modules", "classes", "methods"])
def test_hostile_names_stay_inside_plantuml_labels(hostile, level):
    text = export(hostile, "--format", "plantuml", "--level", level)
    lines = text.splitlines()
    assert lines[0] == "@startuml" and lines[-1] == "@enduml" and text.count("@enduml") == 1
    labels = []
    for line in lines[1:]:
        m = _PUML_LINE.fullmatch(line)
        assert m, line
        raw = m.group(1) or m.group(2)
        if raw:
            assert not re.search(r"__|--|\*|//|~|<(?!U\+)|\\|!|\$|%|@|=", raw), raw  # no markup can start
            labels.append(unplantuml(raw))
    assert any(label.startswith('evilmodx"] --> y}{') for label in labels)


@given(st.text())
def test_escaped_labels_are_one_inert_line_that_reads_back(s):
    shown = visible(clip(s, escape.LABEL_LIMIT))
    m = escape.mermaid(s)
    assert re.fullmatch(r"(?:[A-Za-z0-9 _.,:/=+?@()-]|#\d+;|[^\x00-\x7f])*", m) and '"' not in m
    assert unmermaid(m) == shown
    d = escape.dot(s)
    assert "\n" not in d and not re.search(r'(?<!\\)(?:\\\\)*"', d) and undot(d) == shown
    p = escape.plantuml(s)
    assert '"' not in p and "\n" not in p and unplantuml(p) == shown
    c = escape.comment(s)
    assert re.fullmatch(r"[ -~]*", c)


# -- Perfetto / chrome://tracing -----------------------------------------------------------------
def check_chrome_trace(doc):
    """The trace-event format chrome://tracing and Perfetto read: an object with traceEvents; every
    event has ph, ts, pid, tid, name; X events have dur >= 0 and nest per thread; B/E balance per thread."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    open_be, stacks = defaultdict(list), defaultdict(list)
    for ev in doc["traceEvents"]:
        for field in ("ph", "ts", "pid", "tid", "name"):
            assert field in ev, (field, ev)
        assert isinstance(ev["ts"], (int, float)) and isinstance(ev["tid"], int) and isinstance(ev["name"], str)
        if ev["ph"] == "B":
            open_be[ev["tid"]].append(ev)
        elif ev["ph"] == "E":
            assert open_be[ev["tid"]], ev
            open_be[ev["tid"]].pop()
        elif ev["ph"] == "X":
            assert ev["dur"] >= 0
        else:
            assert ev["ph"] == "M", ev
    assert not any(open_be.values())
    xs = sorted((e for e in doc["traceEvents"] if e["ph"] == "X"), key=lambda e: (e["tid"], e["ts"], -e["dur"]))
    for ev in xs:  # nesting: a stretch starts after the open one ended, or ends inside it
        stack, end = stacks[ev["tid"]], ev["ts"] + ev["dur"]
        while stack and stack[-1] <= ev["ts"] + 1e-6:
            stack.pop()
        assert not stack or end <= stack[-1] + 1e-3, ("overlaps its parent", ev)
        stack.append(end)
    return xs


def test_the_checker_rejects_what_the_viewers_reject():
    ok = {"ph": "X", "ts": 0, "dur": 10, "pid": 1, "tid": 1, "name": "a"}
    check_chrome_trace({"traceEvents": [ok, {**ok, "ts": 2, "dur": 3}, {**ok, "ts": 10, "dur": 1}]})
    for bad in ([ok, {**ok, "ts": 5, "dur": 10}],  # overlaps without nesting
                [{k: v for k, v in ok.items() if k != "tid"}],
                [{**ok, "ph": "B"}],  # never ended
                [{**ok, "ph": "E"}]):  # never began
        with pytest.raises(AssertionError):
            check_chrome_trace({"traceEvents": bad})
    with pytest.raises((AssertionError, KeyError)):
        check_chrome_trace({"events": []})


def test_perfetto_timeline_is_well_formed_and_complete(shop, tmp_path):
    out = tmp_path / "run.trace.json"
    p = skeleton("export", str(shop), "--format", "perfetto", "--output", str(out))
    assert p.returncode == 0 and p.stdout == ""
    doc = json.loads(out.read_text())
    xs = check_chrome_trace(doc)
    events = trace_events(shop)
    stretches = [e for e in events if e["event_type"] in ("call", "resume")]
    assert len(xs) == len(stretches)
    assert {x["pid"] for x in xs} == {1}
    assert {x["tid"] for x in xs} == {e["thread"] for e in events}
    names = {m["tid"]: m["args"]["name"] for m in doc["traceEvents"] if m["name"] == "thread_name"}
    assert names[2] == "audit-logger"
    by_event = {x["args"]["event"]: x for x in xs}
    first = next(e for e in events if e["event_type"] == "call" and e["callee"]["function"] == "parse")
    x = by_event[first["order"]]
    assert x["name"] == "Money.parse" and x["ts"] == pytest.approx(first["timestamp"] * 1e6, abs=0.01)
    assert x["args"]["args"] == first["args"]
    ret = next(e for e in events if e["event_type"] == "return" and e["call_id"] == first["order"])
    assert x["args"]["return_value"] == ret["return_value"]
    assert x["dur"] == pytest.approx((ret["timestamp"] - first["timestamp"]) * 1e6, abs=0.01)
    gen = [x for x in xs if x["name"] == "FileStorage.iter_records"]  # a generator: one X per stretch it ran
    assert len(gen) == sum(1 for e in events if e["callee"]["function"] == "iter_records"
                           and e["event_type"] in ("call", "resume"))


def test_perfetto_window_starts_open_calls_at_the_window(shop):
    doc = json.loads(export(shop, "--format", "perfetto", "--window", "E150:E200"))
    xs = check_chrome_trace(doc)
    events = {e["order"]: e for e in trace_events(shop)}
    before = [x for x in xs if x["args"].get("started_before")]
    assert before and all(x["ts"] == pytest.approx(events[150]["timestamp"] * 1e6, abs=0.01) for x in before)
    assert all(150 <= x["args"]["event"] <= 200 for x in xs if "event" in x["args"])


@pytest.mark.parametrize("args, needle", [
    (["{tmp}"], "is not a Skeleton run: no snapshot.json"),
    (["{tmp}/nope"], "does not exist"),
    (["{shop}", "--format", "svg"], "Invalid value for '--format'"),
    (["{shop}", "--level", "packages"], "Invalid value for '--level'"),
    (["{shop}", "--window", "E5-E9"], "--window takes event ids like E100:E500"),
    (["{shop}", "--window", "E9:E5"], "starts after it ends"),
    (["{shop}", "--window", ":"], "--window takes event ids"),
    (["{shop}", "--window", "E99999:"], "past the end of the trace"),
    (["{shop}", "--scenario", "test_x"], "has no scenarios"),
    (["{shop}", "--max-nodes", "1"], "Invalid value for '--max-nodes'"),
    (["{shop}", "--output", "{tmp}/no/such/x.mmd"], "does not exist; create it first"),
])
def test_bad_input_is_one_line_exit_2(shop, tmp_path, args, needle):
    p = skeleton("export", *(a.format(tmp=tmp_path, shop=shop) for a in args))
    assert p.returncode == 2, p.stdout
    assert needle in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_unknown_test_names_the_close_ones(tests_run):
    p = skeleton("export", str(tests_run), "--scenario", "test_discount_codes")
    assert p.returncode == 2 and "3 tests match" in p.stderr and "test_discount_codes[" in p.stderr
