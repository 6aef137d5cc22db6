"""Attribution is exact: the code that ran, on the instance it ran on, counted exactly.

- super() calls and inherited methods are the code's own node (`Group#7.Command.invoke`), never
  the runtime class's method of the same name (a false recursion, two implementations merged);
- call counts per (caller code, callee code) equal an independent sys.setprofile recorder's;
- a run capped by --max-events counts every node and edge like the uncapped run;
- one instance number: `<Cart #7>` in a summary is the node `Cart#7`, in the script's module name.
Real libraries (click, jinja2, docutils, sqlparse, rich) are traced with --project-root at their package.
"""
from __future__ import annotations

import json
import re
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from conftest import BACKENDS, skeleton

# A click program with group dispatch: Group.invoke runs Command.invoke through super().invoke(ctx).
CLICK_APP = '''
import click

@click.group()
@click.option("--verbose", is_flag=True)
def cli(verbose):
    pass

@cli.group()
def db():
    pass

@db.command()
@click.argument("name")
def create(name):
    click.echo("create " + name)

@db.command()
def drop():
    click.echo("drop")

@cli.command()
@click.option("--count", default=2)
def hello(count):
    for _ in range(count):
        click.echo("hello")

for argv in (["hello"], ["--verbose", "hello", "--count", "3"], ["db", "create", "x"], ["db", "drop"],
             ["db", "create", "y"]):
    cli.main(argv, standalone_mode=False)
'''

# The independent recorder: counts calls of the traced code (Skeleton's selection: functions in files
# under ROOT, no dunders, no _private, no <lambda>/<genexpr>) per (caller code, callee code), where
# the caller is the nearest such frame below. A generator's later 'call' events are resumes, not calls.
RECORDER = '''
import json, os, sys
ROOT = os.path.realpath(sys.argv[1]) + os.sep
OUT = sys.argv[2]
SCRIPT = sys.argv[3]
counts = {}
wanted = {}
started = []  # generator frames that started (kept alive: their ids stay unique)
started_ids = set()

def key(code):
    ok = wanted.get(code)
    if ok is None:
        name = code.co_name
        ok = wanted[code] = bool(
            code.co_flags & 1 and os.path.realpath(code.co_filename).startswith(ROOT)
            and not name.startswith(("<", "_")))
    return ok

def prof(frame, event, arg):
    if event != "call":
        return
    code = frame.f_code
    if not key(code):
        return
    if code.co_flags & 0x2A0:  # generator, coroutine, async generator
        if id(frame) in started_ids:
            return
        started.append(frame)
        started_ids.add(id(frame))
    below = frame.f_back
    while below is not None and not key(below.f_code):
        below = below.f_back
    caller = None if below is None else [below.f_globals.get("__name__"), below.f_code.co_qualname]
    k = json.dumps([caller, [frame.f_globals.get("__name__"), code.co_qualname]])
    counts[k] = counts.get(k, 0) + 1

sys.argv = [SCRIPT]
src = open(SCRIPT).read()
g = {"__name__": "__main__", "__file__": SCRIPT}
sys.setprofile(prof)
try:
    exec(compile(src, SCRIPT, "exec"), g)
finally:
    sys.setprofile(None)
json.dump(counts, open(OUT, "w"))
'''


def _lib_root(name: str) -> Path:
    mod = pytest.importorskip(name)
    return Path(mod.__file__).parent


def _trace(tmp_path: Path, script: Path, root: Path, max_events: int, backend: str, tag: str) -> dict:
    out = tmp_path / f"out-{tag}"
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--max-events", str(max_events),
                 "--out-dir", str(out), "--project-root", str(root), str(script), timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads((out / "snapshot.json").read_text())


def _code_key(node: dict) -> tuple[str, str] | None:
    if node["kind"] == "scenario":
        return None
    return (node["module"], node["qualified_name"])


def _code_edges(snap: dict) -> Counter:
    """Calls per (caller code, callee code) from the snapshot's edges and nodes."""
    nodes = {n["id"]: n for n in snap["nodes"]}
    out: Counter = Counter()
    for e in snap["edges"]:
        out[(_code_key(nodes[e["source"]]), _code_key(nodes[e["target"]]))] += e["count"]
    return out


def _independent(tmp_path: Path, script: Path, root: Path) -> Counter:
    rec = tmp_path / "recorder.py"
    rec.write_text(RECORDER)
    out = tmp_path / "independent.json"
    import subprocess
    subprocess.run([sys.executable, str(rec), str(root), str(out), str(script)], check=True, capture_output=True,
                   timeout=300)
    counts: Counter = Counter()
    for k, n in json.loads(out.read_text()).items():
        caller, callee = json.loads(k)
        counts[(tuple(caller) if caller else None, tuple(callee))] += n
    return counts


@pytest.mark.parametrize("backend", BACKENDS)
def test_super_calls_are_the_code_that_ran(tmp_path, backend):
    root = _lib_root("click")
    script = tmp_path / "app.py"
    script.write_text(CLICK_APP)
    snap = _trace(tmp_path, script, root, 0, backend, "full")
    nodes = {n["id"]: n for n in snap["nodes"]}
    invoke = "click.core", "Command.invoke"
    group_invoke = "click.core", "Group.invoke"
    # no false recursion: Group.invoke's node never calls a node of the same code on the same instance
    for e in snap["edges"]:
        s, t = nodes[e["source"]], nodes[e["target"]]
        if _code_key(s) == group_invoke:
            assert e["source"] != e["target"], e["id"]
            assert _code_key(t) != group_invoke or s.get("instance_id") != t.get("instance_id"), e["id"]
    # each method node is one implementation: its qualified_name is the code's, its class the runtime one
    supers = [n for n in snap["nodes"] if n["kind"] == "method" and _code_key(n) == invoke
              and n["class_name"] == "Group"]
    assert supers, "Command.invoke reached by super() from Group.invoke has its own node"
    for n in supers:
        assert n["id"].endswith(".Command.invoke") and n["label"] == "Command.invoke"
        assert nodes[n["parent"]]["kind"] == "instance" and nodes[n["parent"]]["class_name"] == "Group"
        caller_ids = {e["source"] for e in snap["edges"] if e["target"] == n["id"]}
        assert any(_code_key(nodes[c]) == group_invoke for c in caller_ids)
    # the common case keeps its id: Command.invoke on a Command instance is `...Command#<n>.invoke`
    plain = [n for n in snap["nodes"] if _code_key(n) == invoke and n["class_name"] == "Command"]
    assert plain and all(re.search(r"\.Command#\d+\.invoke$", n["id"]) for n in plain)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", [0, 60])
def test_click_counts_equal_an_independent_recorder(tmp_path, backend, cap):
    root = _lib_root("click")
    script = tmp_path / "app.py"
    script.write_text(CLICK_APP)
    expected = _independent(tmp_path, script, root)
    got = _code_edges(_trace(tmp_path, script, root, cap, backend, f"cap{cap}"))
    assert sum(n for (_, callee), n in expected.items() if callee == ("click.core", "Command.invoke")) >= 5
    missing = {k: (n, got.get(k, 0)) for k, n in expected.items() if got.get(k, 0) != n}
    extra = {k: n for k, n in got.items() if k not in expected}
    assert not missing and not extra, f"differs from the independent recorder: {missing} / extra {extra}"


def _strip_instances(text: str) -> str:
    return re.sub(r"#(\d+|\*)", "#", text)


def _counts(snap: dict) -> tuple[Counter, Counter]:
    """Per node and per edge: (calls, raised), with instance numbers folded per class (object ids
    depend on which values were summarised, and a capped run summarises fewer)."""
    nodes: Counter = Counter()
    for n in snap["nodes"]:
        if n["kind"] in ("function", "method"):
            k = _strip_instances(n["id"])
            nodes[(k, "calls")] += n["call_count"]
            nodes[(k, "raised")] += n["raised"]
    edges: Counter = Counter()
    for e in snap["edges"]:
        k = _strip_instances(e["id"])
        edges[(k, "calls")] += e["count"]
        edges[(k, "raised")] += e["raised"]
    return +nodes, +edges


LIB_PROGRAMS = {
    "click": CLICK_APP,
    "jinja2": '''
        import jinja2
        env = jinja2.Environment(loader=jinja2.DictLoader({
            "base": "<h1>{% block title %}{% endblock %}</h1>{% for i in items %}{{ i|upper }}{% endfor %}",
            "page": "{% extends 'base' %}{% block title %}{{ name }}{% endblock %}"}))
        for k in range(3):
            print(env.get_template("page").render(name="n%d" % k, items=["a", "b"]))
            try:
                env.from_string("{{ x.y.z }}", globals={}).render(x=None)
            except jinja2.UndefinedError:
                pass
        ''',
    "sqlparse": '''
        import sqlparse
        for q in ("select a, b from t where x = 1 and y in (select 1)", "insert into t values (1, 'a'); drop table t"):
            for s in sqlparse.parse(q):
                print(s.get_type(), [t.ttype for t in s.flatten()][:3])
            print(sqlparse.format(q, reindent=True, keyword_case="upper"))
        ''',
    "docutils": '''
        from docutils.core import publish_string
        print(len(publish_string("Title\\n=====\\n\\n- a *b*\\n- ``c``\\n\\n.. note:: n\\n", writer_name="html")))
        ''',
    "rich": '''
        from rich.console import Console
        from rich.table import Table
        c = Console(width=60, record=True, color_system="truecolor")
        t = Table("a", "b")
        for i in range(4):
            t.add_row(str(i), "[bold red]x[/]" * i)
        c.print(t)
        c.print("[green]done[/]", {"k": [1, 2]})
        ''',
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("lib", sorted(LIB_PROGRAMS))
def test_capped_counts_equal_uncapped(tmp_path, lib, backend):
    root = _lib_root(lib)
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(LIB_PROGRAMS[lib]))
    full = _trace(tmp_path, script, root, 0, backend, "full")
    capped = _trace(tmp_path, script, root, 40, backend, "capped")
    assert capped["stats"]["recorded_events"] == 40 and full["stats"]["calls"] > 100
    assert capped["stats"]["calls"] == full["stats"]["calls"]
    fn, fe = _counts(full)
    cn, ce = _counts(capped)
    assert {k: (v, cn.get(k, 0)) for k, v in (fn | cn).items() if fn.get(k, 0) != cn.get(k, 0)} == {}
    assert {k: (v, ce.get(k, 0)) for k, v in (fe | ce).items() if fe.get(k, 0) != ce.get(k, 0)} == {}
    for e in capped["edges"]:
        assert e["count"] or not e["raised"], f"{e['id']}: raised {e['raised']} on an edge with no call"
    # every event of the uncapped run (calls, returns, raises, yields, resumes), recorded or counted
    assert capped["stats"]["events"] == full["stats"]["events"]
    assert capped["stats"]["events"] == capped["stats"]["recorded_events"] + capped["stats"]["dropped_events"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_instance_number_and_module(tmp_path, backend):
    script = tmp_path / "shop.py"
    script.write_text(textwrap.dedent('''
        class Item:
            def __init__(self, name):
                self.name = name
            def label(self):
                return self.name

        class Cart:
            def __init__(self):
                self.items = []
            def add(self, item):
                self.items.append(item)
                return item.label()

        def show(item):
            return item.label()

        def main():
            other = Cart()
            cart = Cart()
            for n in ("a", "b"):
                cart.add(Item(n))
            other.add(Item("c"))
            show(other.items[0])
            return cart

        main()
        '''))
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out),
                 "--project-root", str(tmp_path), str(script))
    assert p.returncode == 0, p.stderr
    snap = json.loads((out / "snapshot.json").read_text())
    insts = {n["instance_id"]: n for n in snap["nodes"] if n["kind"] == "instance"}
    # summaries of the arguments: type in the script's module name, linked to the node by its instance_id
    seen = 0
    for n in snap["nodes"]:
        for ex in n.get("examples", []):
            for v in [*ex.get("args", {}).values(), ex.get("return_value") or {}]:
                if "id" in v and v.get("type", "").endswith(".Item"):
                    assert v["type"] == "shop.Item"
                    node = insts.get(v["id"])
                    if node is not None:
                        assert node["id"].startswith("inst:shop.Item#") and node["class_name"] == "Item"
                        seen += 1
    assert seen >= 3
    # workflow.md writes each object with the number of its node: `<Item #2>` is `inst:shop.Item#2`
    workflow = (out / "workflow.md").read_text()
    shown = {m.group(1) for m in re.finditer(r"<Item #(\w+)>", workflow)}
    numbers = {n["id"].rpartition("#")[2] for n in insts.values() if n["class_name"] == "Item"}
    assert shown and shown <= numbers, (shown, numbers)


def test_report_from_the_trace_rebuilds_the_same_implementation_nodes(tmp_path):
    """`skeleton report` reads node ids back from trace.jsonl: `Group#n.Command.invoke` stays a method of
    the instance `Group#n` (Endpoint.from_json), not of a made-up `Group#n.Command`."""
    root = _lib_root("click")
    script = tmp_path / "app.py"
    script.write_text(CLICK_APP)
    first = _trace(tmp_path, script, root, 0, BACKENDS[-1], "run")
    again = tmp_path / "again"
    again.mkdir()
    (again / "trace.jsonl").write_bytes((tmp_path / "out-run" / "trace.jsonl").read_bytes())
    p = skeleton("report", str(again))
    assert p.returncode == 0, p.stderr
    rebuilt = json.loads((again / "snapshot.json").read_text())

    def shape(snap: dict) -> dict:
        return {n["id"]: (n["parent"], n["label"], n["call_count"]) for n in snap["nodes"]}

    assert any(i.endswith(".Command.invoke") and "Group#" in i for i in shape(first))
    assert shape(rebuilt) == shape(first)
