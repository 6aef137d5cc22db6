"""workflow.md: a compact, deterministic narrative of the run for people and LLMs.

Cites event ids (E42 = the event with order 42 in trace.jsonl) and node ids
(as in snapshot.json). Stays under a size budget; whatever is cut is said.

Program text is untrusted: every string taken from the snapshot or the call tree goes through
md.text() (escaped plain text) or md.code() (an inline code span), so it can never become Markdown
structure or HTML; numbers are formatted here (`:d`, `:,`, `:.3f`). Locals that hold finished
Markdown end in `_md`. tests/hostile/test_forgery.py lints the f-strings of this file for that rule.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..model.calltree import CallNode, CallTree
from . import md
from .text import args_text, short

SIZE_BUDGET = 60_000
TREE_LINES = 400
ACTOR_LINES = 150
HOT_EDGES = 15
SCENARIO_LINES = 300


def render_workflow(snapshot: dict, tree: CallTree) -> str:
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
        w(f"- request: {md.text(req['method'], 20)} {md.text(req['path'], 300)} -> {status_md}"
          f" in {req['duration_s']:.3f} s (selected by {md.text(req['selected_by'])})")
    w(f"- started: {md.text(run['started_at'], 60)}, duration {run['duration_s']:.3f} s")
    w(f"- events: {stats['recorded_events']:,} recorded, {stats['dropped_events']:,} dropped past the cap; "
      f"{stats['calls']:,} calls; max depth {stats['max_depth']:d}")
    threads_md = ", ".join(f"{t['id']:d}={md.text(t['name'], 80)} ({t['events']:,} events)"
                           for t in stats["threads"]) or "none"
    w(f"- threads: {threads_md}")
    w(f"- backend: {md.text(run['backend'], 40)} ({md.text(run['backend_reason'])}); "
      f"Python {md.text(run['python_version'], 40)}")
    w(f"- project root: {md.code(run['project_root'], 1000)}")
    w("")
    w("Ids: `E<n>` is event n (`order` in trace.jsonl); backticked names are node ids in snapshot.json. "
      "Program text is quoted: names and values verbatim in backticks, messages escaped.")
    w("")
    _limits(w, stats)
    scenarios = snapshot.get("scenarios") or []
    if scenarios:
        _scenarios(w, scenarios)
    _actors(w, nodes)
    _tree(w, tree, {s["name"]: s for s in scenarios})
    _dependencies(w, snapshot)
    text = "\n".join(out) + "\n"
    if len(text.encode("utf-8")) > SIZE_BUDGET:
        cut = text.encode("utf-8")[: SIZE_BUDGET - 200].decode("utf-8", "ignore")
        cut = cut[: cut.rfind("\n")]
        text = cut + (f"\n\n… workflow.md cut at {SIZE_BUDGET:,} bytes (full text was {len(text):,} characters); "
                      "see snapshot.json and trace.jsonl.\n")
    return text


def _limits(w, stats: dict) -> None:
    w("## Limits and gaps")
    w("")
    lines = []
    if stats["dropped_events"]:
        lines.append(f"- event cap reached: {stats['dropped_events']:,} events were not recorded "
                     "(their calls are still counted on edges)")
    for g in stats["gaps"]:
        lines.append(f"- {md.text(g['kind'], 40)}: {md.text(g['message'], 300)} (×{g['count']:,})")
    w("\n".join(lines) if lines else "- none: every event of the traced code was recorded")
    w("")


def _actors(w, nodes: list[dict]) -> None:
    w("## Actors")
    w("")
    children: dict[str | None, list[dict]] = {}
    for n in nodes:
        children.setdefault(n["parent"], []).append(n)
    lines: list[str] = []
    total = 0

    def visit(n: dict, depth: int) -> None:
        nonlocal total
        if n["kind"] == "scenario":
            return
        total += 1
        if len(lines) < ACTOR_LINES:
            where_md = f" {md.text(n['file'], 300)}:{n['line']:d}" if n.get("file") and n.get("line") else ""
            flags_md = " internal" if n.get("internal") else ""
            raised_md = f", raised {n['raised']:,}" if n.get("raised") else ""
            lines.append(f"{'  ' * depth}- {md.text(n['kind'], 40)} {md.code(n['id'])}{flags_md} — "
                         f"{_calls(n['call_count'])}{raised_md}{where_md}")
        for c in children.get(n["id"], []):
            visit(c, depth + 1)

    for root in children.get(None, []):
        visit(root, 0)
    for line in lines:
        w(line)
    if total > len(lines):
        w(f"- … {total - len(lines):,} more actors not listed (see snapshot.json)")
    w("")


def _scenarios(w, scenarios: list[dict]) -> None:
    w("## Scenarios")
    w("")
    outcomes: dict[str, int] = {}
    for s in scenarios:
        key = s["outcome"] or "unknown"
        outcomes[key] = outcomes.get(key, 0) + 1
    w("- " + ", ".join(f"{n:,} {md.text(k, 40)}" for k, n in sorted(outcomes.items(), key=lambda kv: -kv[1])))
    lines = []
    for s in scenarios:
        if len(lines) >= SCENARIO_LINES:
            break
        events_md = "no recorded events"
        if s["first_event"] is not None:
            events_md = f"E{s['first_event']:d}–E{s['last_event']:d}"
        took_md = f", {s['duration_s']:.3f} s" if s.get("duration_s") is not None else ""
        why_md = f": {md.text(s['message'], 160)}" if s.get("message") and s["outcome"] != "passed" else ""
        lines.append(f"- S{s['id']:d} {md.code(s['name'])} {md.text(s['outcome'] or 'unknown', 40)}{why_md} "
                     f"({_calls(s['calls'])}{took_md}; {events_md})")
    for line in lines:
        w(line)
    if len(scenarios) > len(lines):
        w(f"- … {len(scenarios) - len(lines):,} more scenarios (see snapshot.json)")
    w("")


def _tree(w, tree: CallTree, scenarios: dict[str, dict]) -> None:
    w("## Workflow (call tree)")
    w("")
    w("`×N` folds N consecutive identical calls (same callees, same outcome); `E a–b` gives the event range.")
    if scenarios:
        w("Calls made while a scenario ran are listed under it.")
    w("")
    lines: list[str] = []
    hidden = 0
    for tid, root in tree.threads():
        if len(lines) < TREE_LINES:
            lines.append(f"- thread {tid:d}")
        todo: list[tuple[CallNode, int]] = []
        current = None
        for c in root.children:  # top-level calls, grouped under the scenario they ran in
            if c.scenario != current:
                current = c.scenario
                if current is not None:
                    todo.append((_ScenarioLine(scenarios.get(current, {"name": current})), 1))
            todo.append((c, 2 if current is not None else 1))
        todo.reverse()
        while todo:
            node, depth = todo.pop()
            if len(lines) >= TREE_LINES:
                hidden += 1
                continue
            if isinstance(node, _ScenarioLine):
                lines.append("  " * depth + "- " + node.text_md())
                continue
            lines.append("  " * depth + "- " + _call_line_md(node))
            if node.cut:
                lines.append("  " * (depth + 1) + f"- … {node.cut:,} nested calls not kept (tree budget)")
            todo.extend((c, depth + 1) for c in reversed(node.children))
    for line in lines:
        w(line)
    if hidden:
        w(f"- … {hidden:,} more call-tree entries not shown (line budget {TREE_LINES:,})")
    if tree.cut:
        w(f"- … {tree.cut:,} calls were beyond the call-tree budget; they are counted in the actors and edges")
    w("")


class _ScenarioLine:
    def __init__(self, scenario: dict) -> None:
        self.s = scenario

    def text_md(self) -> str:
        s = self.s
        sid_md = f"S{s['id']:d} " if "id" in s else ""
        return f"{sid_md}scenario {md.code(s['name'])} ({md.text(s.get('outcome') or 'unknown', 40)})"


def _call_line_md(node: CallNode) -> str:
    ids_md = f"E{node.order:d}" if node.count == 1 else f"E{node.order:d}–E{node.last_order:d}"
    times_md = f" ×{node.count:,}" if node.count > 1 else ""
    args = args_text(node.args) if node.count == 1 else ""
    call_md = f"{md.code(node.node_id)}({md.code(args) if args else ''})"
    if node.outcome == "raised":
        exc = node.detail or {}
        tail_md = f" raised {md.text(exc.get('type', '?'), 120)}: {md.code(short(exc.get('message'), 60))}"
    elif node.outcome == "returned":
        tail_md = f" → {md.code(short(node.detail))}" if node.detail is not None and node.count == 1 else ""
    else:
        tail_md = " (did not return)"
    ys_md = f" [yielded {node.yields:,}×]" if node.yields else ""
    return f"{ids_md}{times_md} {call_md}{tail_md}{ys_md}"


def _dependencies(w, snapshot: dict) -> None:
    w("## Module dependencies (observed)")
    w("")
    medges = snapshot["module_edges"]
    if not medges:
        w("- none across modules")
    for m in medges[:60]:
        w(f"- {md.code(m['source'])} → {md.code(m['target'])}: {_calls(m['count'])}")
    if len(medges) > 60:
        w(f"- … {len(medges) - 60:,} more module edges (see snapshot.json)")
    w("")
    w("## Hot edges")
    w("")
    edges = sorted(snapshot["edges"],
                   key=lambda e: (-e["count"], e["first_seen"] if e["first_seen"] is not None else 1 << 62))
    for e in edges[:HOT_EDGES]:
        raised_md = f", raised {e['raised']:,}" if e["raised"] else ""
        first_md = f" first E{e['first_seen']:d}" if e["first_seen"] is not None else ""
        w(f"- {md.code(e['source'])} → {md.code(e['target'])}: {_calls(e['count'])}{raised_md};{first_md}")
    if len(edges) > HOT_EDGES:
        w(f"- … {len(edges) - HOT_EDGES:,} more edges (see snapshot.json)")


def _calls(n: int) -> str:
    return f"{n:,} call" if n == 1 else f"{n:,} calls"


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
