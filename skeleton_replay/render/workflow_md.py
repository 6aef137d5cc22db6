"""workflow.md: a compact, deterministic narrative of the run for people and LLMs.

Sections: limits and gaps first; the scenarios (pytest tests, requests) with their main calls;
the phases (start-up apart from the work, model/phases.py); the call tree of the work, folded by
repetition and chosen by importance within a line budget; the actors grouped by module and by
class (instance groups); module dependencies in layer order with cycles flagged; hot edges.

Cites event ids (E42 = the event with order 42 in trace.jsonl) and node ids
(as in snapshot.json). Stays under a size budget; whatever is cut is said.

Program text is untrusted: every string taken from the snapshot or the call tree goes through
md.text() (escaped plain text) or md.code() (an inline code span), so it can never become Markdown
structure or HTML; numbers are formatted here (`:d`, `:,`, `:.3f`). Locals that hold finished
Markdown end in `_md`. tests/hostile/test_forgery.py lints the f-strings of this file for that rule.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from ..model import phases as ph
from ..model.calltree import CallNode, CallTree, group_label
from ..model.layers import layers
from . import md
from .boundaries_md import boundaries_section
from .text import args_text, short

if TYPE_CHECKING:
    from ..model.build import Node, Record

Write = Callable[[str], None]  # appends one line to workflow.md

SIZE_BUDGET = 60_000
TREE_LINES = 180  # call-tree lines of the work (about 30 KB at typical line lengths)
TOP_LINES = 120  # top-level calls of the work listed (the biggest first when there are more)
EXPAND_DEPTH = 6  # levels shown below one top-level call
ACTOR_LINES = 100
INSTANCE_GROUP = 4  # a class with this many instances or more is one line (an instance group)
MODULE_FUNCTIONS = 8  # functions listed per module
HOT_EDGES = 15
MODULE_EDGES = 40
SCENARIO_LINES = 40  # scenarios described one by one
SCENARIO_CALLS = 5  # main calls listed per scenario
STARTUP_MODULES = 12
STARTUP_BUSIEST = 5


def render_workflow(snapshot: Record, tree: CallTree) -> str:
    # One instance numbering: a summary of an object that has a node reads `<Cart #2>` like `inst:…Cart#2`
    _NUMBERS.clear()
    for n in snapshot["nodes"]:
        if n["kind"] == "instance" and n.get("instance_id") is not None:
            _NUMBERS[n["instance_id"]] = n["id"].rpartition("#")[2]
    try:
        return _render_workflow(snapshot, tree)
    finally:
        _NUMBERS.clear()


# run-local object id -> the number of its instance node (set while render_workflow runs)
_NUMBERS: dict[int, str] = {}


def _numbered(value: object) -> object:
    """A summary with each object's `id` (the run-local object id) replaced by its instance node's number;
    an object with no node shows `id=<object id>` (never a `#n` that could name another instance)."""
    if isinstance(value, dict):
        out = {k: _numbered(v) for k, v in value.items()}
        if "type" in value and isinstance(value.get("id"), int):
            number = _NUMBERS.get(value["id"])
            out["id"] = number if number is not None else f"id={value['id']:d}"
        return out
    if isinstance(value, list):
        return [_numbered(v) for v in value]
    return value


def _render_workflow(snapshot: Record, tree: CallTree) -> str:
    run, stats = snapshot["run"], snapshot["stats"]
    nodes = snapshot["nodes"]
    out: list[str] = []
    w = out.append
    w(f"# Workflow: {md.text(run['app_name'], 120)}")
    w("")
    w(f"- command: {md.code(' '.join(run['command']), 1000)}")
    err = run.get("error")
    err_md = f" ({md.text(err['type'], 120)}: {md.text(err['message'], 120)})" if err else ""
    code_md = f"{run['exit_code']:d}" if run["exit_code"] is not None else "unknown"
    w(f"- exit: {code_md} ({md.text(run['status'], 40)}){err_md}")
    req = run.get("request")
    if req:  # one traced web request (docs/web.md)
        status_md = f"{req['status']:d}" if req["status"] is not None else "no response"
        w(
            f"- request: {md.text(req['method'], 20)} {md.text(req['path'], 300)} -> {status_md}"
            f" in {req['duration_s']:.3f} s (selected by {md.text(req['selected_by'])})"
        )
    w(f"- started: {md.text(run['started_at'], 60)}, duration {run['duration_s']:.3f} s")
    w(
        f"- events: {stats['recorded_events']:,} recorded, "
        f"{stats['dropped_events']:,} not recorded (counted on edges); "
        f"{stats['calls']:,} calls; max depth {stats['max_depth']:d}"
    )
    threads_md = (
        ", ".join(f"{t['id']:d}={md.text(t['name'], 80)} ({t['events']:,} events)" for t in stats["threads"]) or "none"
    )
    w(f"- threads: {threads_md}")
    w(
        f"- backend: {md.text(run['backend'], 40)} ({md.text(run['backend_reason'])}); "
        f"Python {md.text(run['python_version'], 40)}"
    )
    w(f"- project root: {md.code(run['project_root'], 1000)}")
    w("")
    w(
        "Ids: `E<n>` is event n (`order` in trace.jsonl); backticked names are node ids in snapshot.json. "
        "Program text is quoted: names and values verbatim in backticks, messages escaped."
    )
    w("")
    scenarios = snapshot.get("scenarios") or []
    threads = tree.threads()
    split = _split(threads, bool(scenarios))
    _limits(w, stats, tree)
    if scenarios:
        _scenarios(w, scenarios, threads)
    module_of = {n["id"]: n.get("module") or "" for n in nodes}
    _phases(w, split, module_of, bool(scenarios))
    _tree(w, split, {s["name"]: s for s in scenarios})
    _actors(w, nodes)
    out.extend(boundaries_section(snapshot))  # I/O boundaries (render/boundaries_md.py); none: no section
    _dependencies(w, snapshot)
    text = "\n".join(out) + "\n"
    if len(text.encode("utf-8")) > SIZE_BUDGET:
        cut = text.encode("utf-8")[: SIZE_BUDGET - 200].decode("utf-8", "ignore")
        cut = cut[: cut.rfind("\n")]
        text = cut + (
            f"\n\n… workflow.md cut at {SIZE_BUDGET:,} bytes (full text was {len(text):,} characters); "
            "see snapshot.json and trace.jsonl.\n"
        )
    return text


def _split(threads: list[tuple[int, CallNode]], scenarios: bool) -> list[tuple[int, ph.Phase, ph.Phase]]:
    """Per thread (start-up, work); start-up is looked for in the first thread only."""
    out = []
    for i, (tid, root) in enumerate(threads):
        if i == 0:
            start, work = ph.split(root.children, scenarios)
        else:
            start, work = ph.Phase("start-up"), ph.Phase("work", list(root.children))
        out.append((tid, start, work))
    return out


def _limits(w: Write, stats: Record, tree: CallTree) -> None:
    w("## Limits and gaps")
    w("")
    lines = []
    if stats["dropped_events"] and not any(g["kind"] == "cap" for g in stats["gaps"]):  # traces before the cap gap
        lines.append(
            f"- event cap reached: {stats['dropped_events']:,} events were not recorded "
            "(their calls are still counted on edges)"
        )
    for g in stats["gaps"]:
        lines.append(f"- {md.text(g['kind'], 40)}: {md.text(g['message'], 300)} (×{g['count']:,})")
    if tree.cut:
        lines.append(
            f"- call tree: {tree.cut:,} nested calls were not kept in it (at most {tree.budget:,} entries, "
            f"{tree.per_root:,} below one top-level call); every call is still counted in the sizes, "
            "actors and edges"
        )
    w("\n".join(lines) if lines else "- none: every event of the traced code was recorded")
    w(
        f"- sections below are bounded (call tree {TREE_LINES:,} lines, actors {ACTOR_LINES:,} lines, "
        f"file {SIZE_BUDGET:,} bytes); each says what it leaves out"
    )
    w("")


def _scenarios(w: Write, scenarios: list[Record], threads: list[tuple[int, CallNode]]) -> None:
    w("## Scenarios")
    w("")
    outcomes: dict[str, int] = {}
    for s in scenarios:
        key = s["outcome"] or "unknown"
        outcomes[key] = outcomes.get(key, 0) + 1
    w("- " + ", ".join(f"{n:,} {md.text(k, 40)}" for k, n in sorted(outcomes.items(), key=lambda kv: -kv[1])))
    by_name: dict[str, list[CallNode]] = {}
    for _tid, root in threads:
        for c in root.children:
            if c.scenario is not None:
                by_name.setdefault(c.scenario, []).append(c)
    shown = 0
    for s in scenarios:
        if shown >= SCENARIO_LINES:
            break
        shown += 1
        events_md = "no recorded events"
        if s["first_event"] is not None:
            events_md = f"E{s['first_event']:d}–E{s['last_event']:d}"
        took_md = f", {s['duration_s']:.3f} s" if s.get("duration_s") is not None else ""
        why_md = f": {md.text(s['message'], 160)}" if s.get("message") and s["outcome"] != "passed" else ""
        w(
            f"- S{s['id']:d} {md.code(s['name'])} {md.text(s['outcome'] or 'unknown', 40)}{why_md} "
            f"({_calls(s['calls'])}{took_md}; {events_md})"
        )
        entries = by_name.get(s["name"], [])
        main = sorted(entries, key=ph.importance)[:SCENARIO_CALLS]
        main.sort(key=lambda n: n.order)
        if main:
            w("  - main calls: " + "; ".join(_brief_md(n) for n in main))
        if len(entries) > len(main):
            w(f"  - … {len(entries) - len(main):,} more top-level calls in it")
    if len(scenarios) > shown:
        w(f"- … {len(scenarios) - shown:,} more scenarios (see snapshot.json `scenarios`)")
    w("")


def _brief_md(n: CallNode) -> str:
    """`E12 name` with its size: one call or a folded run."""
    ids_md = f"E{n.order:d}" if n.count == 1 else f"E{n.order:d}–E{n.last_order:d} ×{n.count:,}"
    raised_md = " raised" if n.outcome == "raised" else ""
    callee_md = _callee_md(n)
    return f"{ids_md} {callee_md} ({_calls(n.size)}){raised_md}"


def _callee_md(n: CallNode) -> str:
    """The callee's node id (the first call's: cited), and `Style ×214 .render` when calls of the same
    method on several instances of its class were folded into this entry."""
    if n.instances <= 1:
        return md.code(n.node_id)
    return f"{md.code(n.node_id)} (first of {md.code(n.label)})"


def _phases(w: Write, split: list[tuple[int, ph.Phase, ph.Phase]], module_of: dict[str, str], scenarios: bool) -> None:
    w("## Phases")
    w("")
    _tid, start, work = split[0] if split else (0, ph.Phase("start-up"), ph.Phase("work"))
    if start.entries:
        mods: dict[str, int] = {}
        for e in start.entries:
            mods[module_of.get(e.node_id, "")] = mods.get(module_of.get(e.node_id, ""), 0) + e.size
        start_n_md = _entries(len(start.entries))
        w(
            f"- start-up (imports, definitions; inferred, see docs/workflow.md): E{start.first:d}–E{start.last:d}, "
            f"{start_n_md}, {_calls(start.calls)} in {len(mods):,} modules; "
            "not expanded in the call tree"
        )
        top_mods = sorted(mods.items(), key=lambda kv: (-kv[1], kv[0]))
        mods_md = ", ".join(f"{md.code(m)} ({_calls(n)})" for m, n in top_mods[:STARTUP_MODULES])
        more_md = f", … {len(top_mods) - STARTUP_MODULES:,} more" if len(top_mods) > STARTUP_MODULES else ""
        w(f"  - modules called at top level: {mods_md}{more_md}")
        busiest = _by_method(start.entries)[:STARTUP_BUSIEST]
        w("  - most repeated: " + ", ".join(f"{md.code(k)} ×{n:,}" for k, n in busiest))
    elif scenarios:
        w("- start-up: no traced calls before the first scenario")
    else:
        w("- start-up: none told apart (no leading top-level calls that define functions or classes)")
    if work.entries and scenarios:
        n_scen = len({e.scenario for e in work.entries if e.scenario is not None})
        work_n_md = _entries(len(work.entries))
        w(
            f"- work: E{work.first:d}–E{work.last:d}, {work_n_md}, {_calls(work.calls)} in {n_scen:,} scenarios "
            "(their main calls are under Scenarios)"
        )
    elif work.entries:
        work_n_md = _entries(len(work.entries))
        w(f"- work: E{work.first:d}–E{work.last:d}, {work_n_md}, {_calls(work.calls)}")
        main = sorted(work.entries, key=ph.importance)[:8]
        main.sort(key=lambda n: n.order)
        w("  - its biggest calls, in order: " + "; ".join(_brief_md(n) for n in main))
    else:
        w("- work: no top-level calls after start-up")
    for tid, _s, other in split[1:]:
        if other.entries:
            other_n_md = _entries(len(other.entries))
            w(f"- thread {tid:d}: E{other.first:d}–E{other.last:d}, {other_n_md}, {_calls(other.calls)}")
    w("")


def _tree(w: Write, split: list[tuple[int, ph.Phase, ph.Phase]], scenarios: dict[str, Record]) -> None:
    w("## Workflow (call tree)")
    w("")
    w(
        "`×N` folds N consecutive identical calls (same callees, same outcome); calls of one method on several "
        "instances of a class fold into `Class ×K .method` (K instances, one example node id); "
        "`E a–b` gives the event range; "
        "`[n calls]` counts the calls inside. Only the work is shown (start-up is summarised under Phases); "
        "the calls with the most nested calls are expanded first, and every omission is counted."
    )
    if scenarios:
        w("Calls made while a scenario ran are listed under it.")
    w("")
    _tree_lines(w, split, scenarios)
    w("")


def _tree_lines(w: Write, split: list[tuple[int, ph.Phase, ph.Phase]], scenarios: dict[str, Record]) -> None:
    budget = TREE_LINES
    for tid, start, work in split:
        entries = work.entries
        if not entries and not start.entries:
            continue
        w(f"- thread {tid:d}")
        if start.entries:
            start_n_md = _entries(len(start.entries))
            w(f"  - E{start.first:d}–E{start.last:d} start-up: {start_n_md}, {_calls(start.calls)} (see Phases)")
        ranked = sorted(entries, key=ph.importance)
        room = max(1, min(TOP_LINES, budget // 2))
        if len(ranked) > room:  # only calls that matter get a line; runs of small ones are summarised
            floor = max(2, ranked[0].size // 50) if ranked else 0
            ranked = [n for n in ranked[:room] if n.size >= floor]
        listed = set(map(id, ranked))
        budget -= len(listed)
        expand: dict[int, int] = {}
        big = [n for n in ranked if n.children]
        total = sum(n.size for n in big) or 1
        share = max(0, budget)
        for n in big:  # nested lines in proportion to the calls inside, the biggest first
            cap = min(max(2, share * n.size // total), budget)
            if cap <= 0:
                break
            expand[id(n)] = cap
            budget -= cap
        current = None
        skipped: list[CallNode] = []
        for n in entries:
            if n.scenario != current:
                _skipped(w, skipped, 1 if current is None else 2)
                skipped = []
                current = n.scenario
                if current is not None:
                    w("  - " + _scenario_md(scenarios.get(current, {"name": current})))
            depth = 2 if current is not None else 1
            if id(n) not in listed:
                skipped.append(n)
                continue
            _skipped(w, skipped, depth)
            skipped = []
            _expand(w, n, depth, expand.get(id(n), 0))
        _skipped(w, skipped, 2 if current is not None else 1)


def _skipped(w: Write, skipped: list[CallNode], depth: int) -> None:
    if not skipped:
        return
    calls = sum(n.size for n in skipped)
    top = _by_method(skipped)[:3]
    top_md = ", ".join(f"{md.code(k)} ×{c:,}" for k, c in top)
    what_md = "1 smaller top-level entry" if len(skipped) == 1 else f"{len(skipped):,} smaller top-level entries"
    w(
        "  " * depth + f"- … E{skipped[0].order:d}–E{skipped[-1].last_order:d}: {what_md} not shown "
        f"({_calls(calls)}; mostly {top_md})"
    )


def _by_method(entries: list[CallNode]) -> list[tuple[str, int]]:
    """(label, calls) per node id, calls of one method on several instances of a class as one
    (`Style ×214 .render`), the most called first."""
    calls: dict[str, int] = {}
    ids: dict[str, set[str]] = {}
    first: dict[str, str] = {}
    for n in entries:
        calls[n.key] = calls.get(n.key, 0) + n.count
        first.setdefault(n.key, n.node_id)
        ids.setdefault(n.key, set()).update(n.ids or (n.node_id,))
    out = [(group_label(first[k], len(ids[k])), c) for k, c in calls.items()]
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


def _chosen(top: CallNode, cap: int) -> set[int]:
    """The `cap` biggest calls below `top` (by calls in their subtree, decorators weigh less)."""
    chosen: set[int] = set()
    heap: list[tuple[int, int, int, int, CallNode]] = []
    seq = 0
    for c in top.children:
        heap.append((-_weight(c), c.order, seq, 1, c))
        seq += 1
    heapq.heapify(heap)
    while heap and len(chosen) < cap:
        _s, _o, _q, level, n = heapq.heappop(heap)
        chosen.add(id(n))
        if level < EXPAND_DEPTH:
            for c in n.children:
                seq += 1
                heapq.heappush(heap, (-_weight(c), c.order, seq, level + 1, c))
    return chosen


def _expand(w: Write, top: CallNode, depth: int, cap: int) -> None:
    """`top` and its `cap` biggest nested calls, in call order; a line says how many nested calls it leaves out."""
    chosen = _chosen(top, cap) if cap > 0 else set()

    def visit(n: CallNode, d: int) -> None:
        hidden = sum(c.size for c in n.children if id(c) not in chosen) + n.cut
        w("  " * d + "- " + _call_line_md(n, hidden, n.cut))
        for c in n.children:
            if id(c) in chosen:
                visit(c, d + 1)

    visit(top, depth)


def _weight(n: CallNode) -> int:
    """How much a nested call deserves a line: its calls, a quarter for definition-time work (decorators)."""
    return n.size // 4 if ph.definition_like(n) else n.size


def _scenario_md(s: Record) -> str:
    sid_md = f"S{s['id']:d} " if "id" in s else ""
    return f"{sid_md}scenario {md.code(s['name'])} ({md.text(s.get('outcome') or 'unknown', 40)})"


def _call_line_md(node: CallNode, hidden: int = 0, cut: int = 0) -> str:
    ids_md = f"E{node.order:d}" if node.count == 1 else f"E{node.order:d}–E{node.last_order:d}"
    times_md = f" ×{node.count:,}" if node.count > 1 else ""
    args = args_text(_numbered(node.args), 80) if node.count == 1 else ""
    call_md = f"{md.code(node.node_id)}({md.code(args) if args else ''})"
    if node.instances > 1:  # the same method on several instances of one class, folded
        call_md = _callee_md(node)
    if node.outcome == "raised":
        exc = node.detail or {}
        tail_md = f" raised {md.text(exc.get('type', '?'), 120)}: {md.code(short(_numbered(exc.get('message')), 60))}"
    elif node.outcome == "returned":
        tail_md = f" → {md.code(short(_numbered(node.detail)))}" if node.detail is not None and node.count == 1 else ""
    else:
        tail_md = " (did not return)"
    ys_md = f" [yielded {node.yields:,}×]" if node.yields else ""
    size_md = ""
    if node.size > node.count:  # calls inside; those not written below it are said here
        why_md = " not kept (tree budget)" if cut and cut >= hidden else " not shown"
        hidden_md = f", {hidden:,}{why_md}" if hidden else ""
        size_md = f" [{_calls(node.size)}{hidden_md}]"
    return f"{ids_md}{times_md} {call_md}{tail_md}{ys_md}{size_md}"


# -- actors -----------------------------------------------------------------------------------
class _ModuleActors(TypedDict):
    node: Node  # the module (or package) node
    functions: list[Node]
    classes: list[Node]
    instances: dict[str, list[Node]]  # class name -> its instance nodes


def _actors(w: Write, nodes: list[Node]) -> None:
    w("## Actors")
    w("")
    w("- by module (busiest first); a class with many instances is one instance group (`Class ×N`: N instances)")
    by_id = {n["id"]: n for n in nodes}
    modules: dict[str, _ModuleActors] = {}
    for n in nodes:
        if n["kind"] in ("module", "package") and n["id"] not in modules:
            modules[n["id"]] = {"node": n, "functions": [], "classes": [], "instances": {}}
    for n in nodes:
        parent = by_id.get(n["parent"]) if n["parent"] else None
        if parent is None or parent["id"] not in modules:
            continue
        m = modules[parent["id"]]
        if n["kind"] == "function":
            m["functions"].append(n)
        elif n["kind"] == "class":
            m["classes"].append(n)
        elif n["kind"] == "instance":
            m["instances"].setdefault(n.get("class_name") or n["label"], []).append(n)
    methods: dict[str, list[Node]] = {}
    for n in nodes:
        if n["kind"] == "method":
            methods.setdefault(n["parent"], []).append(n)
    lines: list[str] = []
    total = 0
    order = sorted(
        (m for m in modules.values() if m["functions"] or m["classes"] or m["instances"]),
        key=lambda m: (-m["node"]["call_count"], m["node"]["id"]),
    )
    for m in order:
        total += 1
        mod = m["node"]
        lines.append(f"- module {md.code(mod['id'])} — {_calls(mod['call_count'])}")
        fns = sorted(m["functions"], key=lambda n: (-n["call_count"], n["id"]))
        for f in fns[:MODULE_FUNCTIONS]:
            node_md = _node_md(f)
            lines.append(f"  - function {md.code(f['id'])} — {node_md}")
        if len(fns) > MODULE_FUNCTIONS:
            rest = fns[MODULE_FUNCTIONS:]
            lines.append(f"  - … {len(rest):,} more functions ({_calls(sum(f['call_count'] for f in rest))})")
        for c in sorted(m["classes"], key=lambda n: (-n["call_count"], n["id"])):
            ms = sorted(methods.get(c["id"], []), key=lambda n: (-n["call_count"], n["id"]))
            busiest_md = ", ".join(f"{md.code(x['label'])} {x['call_count']:,}" for x in ms[:4])
            lines.append(f"  - class {md.code(c['id'])} — {_calls(c['call_count'])}; class-level methods: {busiest_md}")
        groups = sorted(m["instances"].items(), key=lambda kv: (-sum(i["call_count"] for i in kv[1]), kv[0]))
        for cls, insts in groups:
            calls = sum(i["call_count"] for i in insts)
            per: dict[str, int] = {}
            raised = 0
            for i in insts:
                for x in methods.get(i["id"], []):
                    per[x["label"]] = per.get(x["label"], 0) + x["call_count"]
                    raised += x.get("raised") or 0
            busiest = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:4]
            busiest_md = ", ".join(f"{md.code(k)} {n:,}" for k, n in busiest)
            raised_md = f", raised {raised:,}" if raised else ""
            if len(insts) >= INSTANCE_GROUP:
                first = min(insts, key=lambda i: (i["first_seen"] is None, i["first_seen"] or 0))
                first_md = f", first {md.code(first['id'])}" if first else ""
                group = cls + " ×" + format(len(insts), ",")
                lines.append(
                    f"  - instance group {md.code(group)} · "
                    f"{_calls(calls)}{raised_md}; "
                    f"busiest methods: {busiest_md}{first_md}"
                )
                continue
            for i in insts:
                ms = sorted(methods.get(i["id"], []), key=lambda n: (-n["call_count"], n["id"]))
                ms_md = ", ".join(f"{md.code(x['label'])} {x['call_count']:,}" for x in ms[:4])
                lines.append(f"  - instance {md.code(i['id'])} — {_calls(i['call_count'])}; methods: {ms_md}")
    shown = lines[:ACTOR_LINES]
    for line in shown:
        w(line)
    if len(lines) > len(shown):
        w(f"- … {len(lines) - len(shown):,} more actor lines not listed (see snapshot.json `nodes`)")
    w("")


def _node_md(n: Node) -> str:
    raised_md = f", raised {n['raised']:,}" if n.get("raised") else ""
    where_md = f" {md.text(n['file'], 300)}:{n['line']:d}" if n.get("file") and n.get("line") else ""
    flags_md = " internal" if n.get("internal") else ""
    return f"{_calls(n['call_count'])}{raised_md}{flags_md}{where_md}"


# -- dependencies -------------------------------------------------------------------------------
def _dependencies(w: Write, snapshot: Record) -> None:
    w("## Module dependencies (observed)")
    w("")
    medges = snapshot["module_edges"]
    if not medges:
        w("- none across modules")
    else:
        level, comp = layers([(m["source"], m["target"]) for m in medges])
        w(
            "- direction: `A → B` means code in A called B; L0 is called by nothing observed, a callee sits "
            "below its deepest caller; `(cycle)` marks an edge between modules that call each other"
        )
        ordered = sorted(
            medges, key=lambda m: (level[m["source"]], level[m["target"]], -m["count"], m["source"], m["target"])
        )
        for m in ordered[:MODULE_EDGES]:
            cycle_md = " (cycle)" if comp[m["source"]] == comp[m["target"]] else ""
            first_md = f", first E{m['first_seen']:d}" if m.get("first_seen") is not None else ""
            w(
                f"- L{level[m['source']]:d} {md.code(m['source'])} → L{level[m['target']]:d} {md.code(m['target'])}: "
                f"{_calls(m['count'])}{first_md}{cycle_md}"
            )
        if len(medges) > MODULE_EDGES:
            w(f"- … {len(medges) - MODULE_EDGES:,} more module edges (see snapshot.json `module_edges`)")
    w("")
    w("## Hot edges")
    w("")
    edges = sorted(
        snapshot["edges"], key=lambda e: (-e["count"], e["first_seen"] if e["first_seen"] is not None else 1 << 62)
    )
    for e in edges[:HOT_EDGES]:
        raised_md = f", raised {e['raised']:,}" if e["raised"] else ""
        first_md = f" first E{e['first_seen']:d}" if e["first_seen"] is not None else ""
        w(f"- {md.code(e['source'])} → {md.code(e['target'])}: {_calls(e['count'])}{raised_md};{first_md}")
    if len(edges) > HOT_EDGES:
        w(f"- … {len(edges) - HOT_EDGES:,} more edges (see snapshot.json)")


def _entries(n: int) -> str:
    return f"{n:,} top-level entry" if n == 1 else f"{n:,} top-level entries"


def _calls(n: int) -> str:
    return f"{n:,} call" if n == 1 else f"{n:,} calls"


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write workflow.md atomically and privately (safefiles: a random temporary, never through a link)."""
    from ..safefiles import write_atomic

    return write_atomic(path, text)
