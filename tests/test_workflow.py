"""workflow.md as a narrative: phases, the call tree of the work, instance groups, dependency layers.

Structural checks on small programs written for each test and on the shop demo; every event id
the file cites is checked against trace.jsonl.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import orjson
import pytest

from conftest import REPO, skeleton
from skeleton_replay.model.layers import layers
from skeleton_replay.render import workflow
from skeleton_replay.render.workflow import common as wf_common
from skeleton_replay.render.workflow import scenarios as wf_scenarios
from skeleton_replay.render.workflow import tree as wf_tree

HEADINGS = ["## Limits and gaps", "## Phases", "## Workflow (call tree)", "## Actors",
            "## Module dependencies (observed)", "## Hot edges"]


def _run(folder: Path, script: str = "app.py", *args: str) -> tuple[str, Path]:
    out = folder / "out"
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), "--project-root", str(folder),
                 str(folder / script), *args, cwd=folder)
    assert p.returncode == 0, p.stderr
    return (out / "workflow.md").read_text("utf-8"), out


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), "utf-8")


def _section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    nxt = text.find("\n## ", start + len(heading))
    return text[start: nxt if nxt >= 0 else len(text)]


def _events(out: Path) -> dict[int, dict]:
    lines = [orjson.loads(x) for x in (out / "trace.jsonl").read_bytes().splitlines()]
    return {d["order"]: d for d in lines if "event_type" in d}


def assert_cited_ids_exist(text: str, out: Path) -> None:
    """Every E<n> exists; every call line `E<n> `node`` names the callee of event n."""
    events = _events(out)
    cited = [int(n) for n in re.findall(r"\bE(\d+)\b", text)]
    assert cited
    assert all(n in events for n in cited), sorted(set(cited) - set(events))[:5]
    for n, node in re.findall(r"\bE(\d+)(?:–E\d+)?(?: ×[\d,]+)? `([^`]+)`", text):
        ev = events[int(n)]
        assert ev["event_type"] == "call" and ev["callee"]["node_id"] == node, (n, node)


IMPORT_THEN_WORK = {
    "plugins.py": """
        REGISTRY = []

        def register(fn):
            REGISTRY.append(fn)
            return fn

        def make_handler(i):
            def handler(x):
                return x + i
            return handler

        for i in range(40):  # top-level calls while the module is imported
            register(make_handler(i))

        @register
        def double(x):
            return x * 2

        class Color:
            @classmethod
            def parse(cls, name):
                return cls()

        PALETTE = [Color.parse(n) for n in ("red", "green", "blue")]  # small calls that define nothing
        """,
    "work.py": """
        def load(n):
            return [parse(i) for i in range(n)]

        def parse(i):
            return {"id": i, "name": label(i)}

        def label(i):
            return f"item-{i}"

        def total(items):
            return sum(weight(it) for it in items)

        def weight(item):
            return item["id"] * 2
        """,
    "app.py": """
        import plugins
        import work

        def main():
            items = work.load(30)
            print(work.total(items), len(plugins.REGISTRY))

        main()
        """,
}


def test_start_up_is_summarised_apart_from_the_work(tmp_path):
    _write(tmp_path, IMPORT_THEN_WORK)
    text, out = _run(tmp_path)
    # main() prints: a console write, so the I/O boundaries have their section after the actors
    assert [l for l in text.splitlines() if l.startswith("## ")] == [*HEADINGS[:4], "## Boundaries (I/O)", *HEADINGS[4:]]
    phases = _section(text, "## Phases")
    m = re.search(r"- start-up \(imports, definitions; inferred.*?\): E0–E(\d+), ([\d,]+) top-level entries", phases)
    assert m, phases
    events = _events(out)
    main_call = next(o for o, e in events.items() if e["event_type"] == "call"
                     and e["callee"]["node_id"] == "fn:app:main")
    assert int(m.group(1)) < main_call  # start-up ends before the work starts
    # every import-time call (from plugins' module body) is in the start-up range, the work is not
    register_calls = [o for o, e in events.items() if e["event_type"] == "call" and e["depth"] == 0
                      and e["callee"]["module"] == "plugins"]
    assert len(register_calls) == 84 and max(register_calls) <= int(m.group(1))
    assert "`plugins`" in phases
    assert f"- work: E{main_call}–" in phases and f"E{main_call} `fn:app:main`" in phases
    tree = _section(text, "## Workflow (call tree)")
    assert "`fn:plugins:register`" not in tree and "`fn:plugins:make_handler`" not in tree  # not in the work
    assert f"E{main_call} `fn:app:main`" in tree and "`fn:work:load`" in tree and "`fn:work:total`" in tree
    assert "start-up: " in tree  # one line says where start-up went
    assert_cited_ids_exist(text, out)


def test_definitions_imported_lazily_after_the_work_do_not_file_the_work_under_start_up(tmp_path):
    # The work (main: 301 calls, most of the run) imports a module only when it ends, and that module's
    # body registers 60 handlers: 60 definition-like top-level calls after it. Scored alone, they
    # outweighed the work's log-weighted cost and the split moved past it: the work was filed under
    # start-up and left out of the call tree (seen on rich + pygments + markdown-it).
    files = dict(IMPORT_THEN_WORK)
    files["late.py"] = files["plugins.py"].replace("range(40)", "range(60)")
    files["app.py"] = """
        import plugins
        import work

        def main():
            items = work.load(100)
            return work.total(items)

        main()
        import late  # imported by the program after its work, as a lazy import is
        print(len(late.REGISTRY))
        """
    _write(tmp_path, files)
    text, out = _run(tmp_path)
    events = _events(out)
    main_call = next(o for o, e in events.items() if e["event_type"] == "call"
                     and e["callee"]["node_id"] == "fn:app:main")
    late_calls = [o for o, e in events.items() if e["event_type"] == "call" and e["depth"] == 0
                  and e["callee"]["module"] == "late"]
    assert len(late_calls) == 124 and min(late_calls) > main_call  # the definitions come after the work
    phases = _section(text, "## Phases")
    m = re.search(r"- start-up \(imports, definitions; inferred.*?\): E0–E(\d+),", phases)
    assert m, phases
    assert int(m.group(1)) < main_call  # the work is not start-up
    assert f"E{main_call} `fn:app:main`" in phases  # among the work's biggest calls
    tree = _section(text, "## Workflow (call tree)")
    assert f"E{main_call} `fn:app:main`" in tree and "`fn:work:load`" in tree  # and expanded in the call tree
    assert_cited_ids_exist(text, out)


def test_a_long_start_up_does_not_use_up_the_call_tree(tmp_path):
    """Thousands of import-time calls first (the SQLAlchemy case): the work is still in the tree."""
    files = dict(IMPORT_THEN_WORK)
    files["plugins.py"] = files["plugins.py"].replace("range(40)", "range(2500)")
    _write(tmp_path, files)
    text, out = _run(tmp_path)
    tree = _section(text, "## Workflow (call tree)")
    assert "`fn:work:parse`" in tree and "`fn:work:label`" in tree and "`fn:work:weight`" in tree
    assert len(text.encode("utf-8")) <= wf_common.SIZE_BUDGET
    assert_cited_ids_exist(text, out)


def test_big_calls_are_expanded_first_and_omissions_are_counted(tmp_path):
    # 400 distinct small top-level calls, then two big ones: the big ones must be shown in full
    lines = ["def small(i):\n    return i\n", "def leaf(i):\n    return i\n",
             "def big(n):\n    return [mid(i) for i in range(n)]\n",
             "def mid(i):\n    return [leaf(j) for j in range(3)]\n"]
    lines.append("for i in range(400):\n    small(i) if i % 2 else leaf(i)\n")
    lines.append("big(50)\nbig(60)\n")
    (tmp_path / "app.py").write_text("\n".join(lines), "utf-8")
    text, out = _run(tmp_path)
    tree = _section(text, "## Workflow (call tree)")
    assert re.search(r"E\d+ `fn:app:big`\(`n=50`\) → .* \[201 calls\]", tree), tree[-2000:]
    assert re.search(r"E\d+ `fn:app:big`\(`n=60`\) → .* \[241 calls\]", tree)
    # the small ones are summarised with a count and a range, not listed one by one, not dropped
    m = re.findall(r"- … E\d+–E\d+: ([\d,]+) smaller top-level entries not shown \(([\d,]+) calls", tree)
    assert m and sum(int(n.replace(",", "")) for _, n in m) == 400
    tree_lines = [l for l in tree.splitlines() if l.startswith(("- ", "  "))]
    assert len(tree_lines) <= wf_tree.TREE_LINES + 10
    assert_cited_ids_exist(text, out)


def test_many_instances_of_a_class_are_one_instance_group(tmp_path):
    _write(tmp_path, {"app.py": """
        class Style:
            def __init__(self, n):
                self.n = n

            def render(self, text):
                return self.wrap(text)

            def wrap(self, text):
                return f"[{self.n}]{text}"

        class Console:
            def __init__(self, name):
                self.name = name

            def emit(self, text):
                return text

        def main():
            styles = [Style(i) for i in range(30)]
            out = [s.render("x") for s in styles]
            a, b = Console("a"), Console("b")
            a.emit(out[0])
            b.emit(out[1])

        main()
        """})
    text, out = _run(tmp_path)
    actors = _section(text, "## Actors")
    assert re.search(r"- instance group `Style ×30` · 60 calls; busiest methods: `render` 30, `wrap` 30", actors)
    assert "inst:app.Style#2" not in actors  # no line per instance
    assert "- instance `inst:app.Console#1`" in actors and "- instance `inst:app.Console#2`" in actors  # few: listed
    assert_cited_ids_exist(text, out)


def test_shop_demo_reads_as_a_narrative():
    folder = REPO / "examples" / "shop"
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), str(folder / "app.py"), cwd=folder)
        assert p.returncode == 0, p.stderr
        text = (out / "workflow.md").read_text("utf-8")
        # the shop writes files: its I/O boundaries have a section after the actors (render/boundaries_md.py)
        shop_headings = [*HEADINGS[:4], "## Boundaries (I/O)", *HEADINGS[4:]]
        assert [l for l in text.splitlines() if l.startswith("## ")] == shop_headings
        assert len(text.encode("utf-8")) <= wf_common.SIZE_BUDGET
        deps = _section(text, "## Module dependencies (observed)")
        levels = [int(x) for x in re.findall(r"^- L(\d+) ", deps, re.M)]
        assert levels and levels == sorted(levels)  # callers before callees
        assert "`mod:shop.services" in deps or "`mod:shop" in deps
        assert "its biggest calls, in order:" in _section(text, "## Phases")
        assert_cited_ids_exist(text, out)


def test_layers_put_callers_first_and_flag_cycles():
    level, comp = layers([("app", "svc"), ("svc", "repo"), ("svc", "model"), ("repo", "model"),
                          ("model", "util"), ("util", "model"), ("app", "model")])
    assert level["app"] == 0 and level["svc"] == 1 and level["repo"] == 2 and level["model"] == 3
    assert comp["model"] == comp["util"] and level["util"] == level["model"]  # a cycle shares a layer
    assert len({comp["app"], comp["svc"], comp["repo"], comp["model"]}) == 4


@pytest.mark.parametrize("n_instances, grouped", [(3, False), (4, True)])
def test_instance_group_threshold(tmp_path, n_instances, grouped):
    _write(tmp_path, {"app.py": f"""
        class Cell:
            def __init__(self, v):
                self.v = v

            def value(self):
                return self.v

        def main():
            return [Cell(i).value() for i in range({n_instances})]

        main()
        """})
    text, _ = _run(tmp_path)
    actors = _section(text, "## Actors")
    assert (f"- instance group `Cell ×{n_instances}` · " in actors) is grouped
    assert ("- instance `inst:app.Cell#1`" in actors) is not grouped


def test_pytest_scenarios_get_their_main_calls_and_a_bounded_list(tmp_path, monkeypatch):
    from skeleton_replay.events.jsonl import read_trace
    from skeleton_replay.model.calltree import CallTree

    out = tmp_path / "out"
    p = skeleton("pytest", "--no-open", "--no-html", "--out-dir", str(out), "--", "-p", "no:randomly", "-q",
                 cwd=REPO / "tests" / "apps" / "pytest_project")
    assert p.returncode == 1, p.stdout + p.stderr  # the sample project fails on purpose
    text = (out / "workflow.md").read_text("utf-8")
    scen = _section(text, "## Scenarios")
    assert "- S3 `tests/test_calc.py::test_divide_by_zero_fails` failed" in scen
    assert "  - main calls: E20 `fn:test_calc:test_divide_by_zero_fails` (2 calls) raised" in scen
    assert "in 6 scenarios (their main calls are under Scenarios)" in _section(text, "## Phases")
    assert_cited_ids_exist(text, out)
    # bounded, with the remainder stated
    _, events = read_trace(out / "trace.jsonl")
    tree = CallTree()
    tree.add_batch(list(events))
    snapshot = orjson.loads((out / "snapshot.json").read_bytes())
    monkeypatch.setattr(wf_scenarios, "SCENARIO_LINES", 3)
    scen = _section(workflow.render_workflow(snapshot, tree), "## Scenarios")
    assert len(re.findall(r"^- S\d+ ", scen, re.M)) == 3
    assert "- … 4 more scenarios (see snapshot.json `scenarios`)" in scen


def test_calls_beyond_the_tree_budget_are_counted_on_the_entry_above(tmp_path):
    from skeleton_replay.events.jsonl import read_trace
    from skeleton_replay.model.calltree import CallTree

    _write(tmp_path, {"app.py": """
        def leaf(i):
            return i

        def branch(i):
            return [leaf(j) for j in range(i)]

        def main():
            return [branch(i) for i in range(1, 8)]

        main()
        """})
    _, out = _run(tmp_path)
    _, events = read_trace(out / "trace.jsonl")
    tree = CallTree(budget=6, per_root=6)
    tree.add_batch(list(events))
    snapshot = orjson.loads((out / "snapshot.json").read_bytes())
    text = workflow.render_workflow(snapshot, tree)
    total = 1 + 7 + sum(range(1, 8))  # main, 7 branches, 28 leaves
    # kept: main, branch(1) + leaf, branch(2) + 2 leaves (folded into one entry, so room for one more),
    # branch(3); not kept: branch(3)'s leaves (counted on branch(3)) and branches 4-7 with their leaves
    # (counted on main, at any depth)
    assert tree.cut == total - 7
    assert f"- call tree: {tree.cut:,} nested calls were not kept in it" in text
    lines = text.splitlines()
    main_line = next(l for l in lines if "`fn:app:main`" in l and l.startswith("  - E0 "))
    on_main = 4 + 5 + 6 + 7 + 4
    assert main_line.endswith(f"[{total:,} calls, {on_main:,} not kept (tree budget)]"), main_line
    assert any("`fn:app:branch`(`i=3`)" in l and l.endswith("[4 calls, 3 not kept (tree budget)]") for l in lines)


def test_top_level_calls_past_the_tree_budget_are_told_with_their_range(tmp_path):
    """Once the call tree's entries run out, later top-level calls are not kept: Phases and the call tree
    still say where the work goes on (up to the thread's last event) and how many calls that is."""
    from skeleton_replay.events.jsonl import read_trace
    from skeleton_replay.model.calltree import CallTree

    _write(tmp_path, {"app.py": """
        def leaf(i):
            return i

        def branch(i):
            return [leaf(j) for j in range(i)]

        for i in range(1, 8):
            branch(i)
        """})
    _, out = _run(tmp_path)
    _, events = read_trace(out / "trace.jsonl")
    events = list(events)
    tree = CallTree(budget=6, per_root=6)
    tree.add_batch(events)
    text = workflow.render_workflow(orjson.loads((out / "snapshot.json").read_bytes()), tree)
    (_tid, root), = tree.threads()
    untold = sum(range(4, 8)) + 4  # branches 4-7 with their leaves (budget: branches 1-3 and 3 leaf entries)
    assert root.cut == untold
    last_kept = max(n.last_order for n in root.children)
    told = (f"E{last_kept + 1}–E{events[-1][0]}: top-level calls the call tree did not keep (its entries ran out: "
            f"see Limits), {untold} calls in all, counted in the sizes, actors and edges")
    assert f"  - then {told}" in _section(text, "## Phases")
    assert _section(text, "## Workflow (call tree)").rstrip().endswith(f"  - … {told}")


def test_calls_of_one_method_on_many_instances_fold_into_one_line(tmp_path):
    _write(tmp_path, {"app.py": """
        class Style:
            def __init__(self, n):
                self.n = n

            def render(self, text):
                return self.wrap(text)

            def wrap(self, text):
                return f"[{self.n}]{text}"

        def main():
            styles = [Style(i) for i in range(40)]
            for s in styles:
                s.render("x")

        main()
        """})
    text, out = _run(tmp_path)
    tree = _section(text, "## Workflow (call tree)")
    line = next(x for x in tree.splitlines() if "Style ×40 .render" in x)
    # one line for the 40 calls on 40 instances, citing the first call and its node
    assert re.search(r"- E(\d+)–E\d+ ×40 `meth:app\.Style#1\.render` \(first of `Style ×40 \.render`\)", line)
    assert not re.search(r"`meth:app\.Style#(?:[2-9]|\d\d)\.render`", tree)  # no line per instance
    assert_cited_ids_exist(text, out)


def test_renders_running_at_the_same_time_keep_their_own_instance_numbers(tmp_path, monkeypatch):
    """Two workflow.md renders at once (web requests written in two threads): neither may lose or take the
    other's instance numbering (`<Item #2>`). Made deterministic: a render starts inside another one."""
    from skeleton_replay.events.jsonl import read_trace
    from skeleton_replay.model.calltree import CallTree
    from skeleton_replay.render import md

    _write(tmp_path, {"app.py": """
        class Item:
            def __init__(self, name):
                self.name = name

            def label(self):
                return self.name.upper()

        class Cart:
            def __init__(self):
                self.items = []

            def add(self, item):
                self.items.append(item.label())
                return item

            def count(self):
                return len(self.items)

        def main():
            cart = Cart()
            for name in ("a", "b", "c"):  # add, count, add, count: no two calls in a row alike, none folded
                cart.add(Item(name))
                cart.count()

        main()
        """})
    _, out = _run(tmp_path)
    _, events = read_trace(out / "trace.jsonl")
    tree = CallTree()
    tree.add_batch(list(events))
    snapshot = orjson.loads((out / "snapshot.json").read_bytes())
    alone = workflow.render_workflow(snapshot, tree)
    assert "`item=<Item #2>`" in alone
    code, nested = md.code, []

    def code_with_a_render_inside(text, *args):
        if not nested and "<Item #" in str(text):  # the first numbered summary: another render starts and ends
            nested.append(workflow.render_workflow({**snapshot, "nodes": []}, CallTree()))
        return code(text, *args)

    monkeypatch.setattr(md, "code", code_with_a_render_inside)
    assert workflow.render_workflow(snapshot, tree) == alone
    assert nested


def test_actor_lines_past_the_limit_are_counted_as_a_full_listing_would_write_them(monkeypatch):
    """Past ACTOR_LINES the section only counts lines (formatting them was most of its cost on a 20k-node map):
    the count must be what the whole listing would have had, for every kind of line."""
    from skeleton_replay.render.workflow import actors

    nodes: list[dict[str, object]] = []

    def node(kind: str, nid: str, parent: str | None, calls: int, **extra: object) -> None:
        nodes.append({"id": nid, "kind": kind, "label": nid.rsplit(".", 1)[-1], "parent": parent,
                      "call_count": calls, "first_seen": len(nodes), "raised": 0, **extra})

    for m in range(30):  # modules of every shape: many functions, classes, instance groups, a few instances
        mod = f"mod:pkg.m{m}"
        node("module", mod, None, 1000 - m)
        for f in range(m % 11):
            node("function", f"fn:pkg.m{m}:f{f}", mod, 50 - f, file=f"pkg/m{m}.py", line=f + 1)
        for c in range(m % 3):
            node("class", f"cls:pkg.m{m}.C{c}", mod, 5)
            node("method", f"clsm:pkg.m{m}.C{c}.make", f"cls:pkg.m{m}.C{c}", 5)
        for k in range(m % 6):  # 0-5 instances of one class: single lines below INSTANCE_GROUP, one group from it
            inst = f"inst:pkg.m{m}.Thing#{k + 1}"
            node("instance", inst, mod, 3, class_name="Thing")
            node("method", f"meth:pkg.m{m}.Thing#{k + 1}.run", inst, 3)
    lines: list[str] = []
    actors.actors_section(lines.append, nodes)
    monkeypatch.setattr(actors, "ACTOR_LINES", 10**6)
    full: list[str] = []
    actors.actors_section(full.append, nodes)
    listed = [x for x in full if x.startswith(("- module", "  - "))]
    assert len(listed) > 100  # the case at hand: far past the limit
    shown = [x for x in lines if x.startswith(("- module", "  - "))]
    assert shown == listed[:100]
    (more,) = [x for x in lines if "more actor lines not listed" in x]
    assert more.startswith(f"- … {len(listed) - 100:,} more actor lines")
    assert not any("more actor lines" in x for x in full)
