"""workflow.md: a compact, deterministic narrative of the run for people and LLMs.

Cites event ids (E42 = the event with order 42 in trace.jsonl) and node ids
(as in snapshot.json). Stays under a size budget; whatever is cut is said.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..model.calltree import CallNode, CallTree
from .text import args_text, short

SIZE_BUDGET = 60_000
TREE_LINES = 400
ACTOR_LINES = 150
HOT_EDGES = 15
SCENARIO_LINES = 300


def render_workflow(snapshot: dict, tree: CallTree) -> str:
    run, stats = snapshot["run"], snapshot["stats"]
    nodes = snapshot["nodes"]
    by_id = {n["id"]: n for n in nodes}
    out: list[str] = []
    w = out.append
    w(f"# Workflow: {run['app_name']}")
    w("")
    w(f"- command: `{' '.join(run['command'])}`")
    status = run["status"]
    err = run.get("error")
    err_text = f" ({err['type']}: {_clip(err['message'], 120)})" if err else ""
    w(f"- exit: {run['exit_code']} ({status}){err_text}")
    req = run.get("request")
    if req:  # one traced web request (docs/web.md)
        w(f"- request: {req['method']} {req['path']} -> {req['status'] if req['status'] is not None else 'no response'}"
          f" in {req['duration_s']:.3f} s (selected by {req['selected_by']})")
    w(f"- started: {run['started_at']}, duration {run['duration_s']:.3f} s")
    w(f"- events: {stats['recorded_events']:,} recorded, {stats['dropped_events']:,} dropped past the cap; {stats['calls']:,} calls; max depth {stats['max_depth']}")
    threads = ", ".join(f"{t['id']}={t['name']} ({t['events']:,} events)" for t in stats["threads"]) or "none"
    w(f"- threads: {threads}")
    w(f"- backend: {run['backend']} ({run['backend_reason']}); Python {run['python_version']}")
    w(f"- project root: `{run['project_root']}`")
    w("")
    w("Ids: `E<n>` is event n (`order` in trace.jsonl); backticked names are node ids in snapshot.json.")
    w("")
    _limits(w, stats)
    scenarios = snapshot.get("scenarios") or []
    if scenarios:
        _scenarios(w, scenarios)
    _actors(w, nodes)
    _tree(w, tree, by_id, {s["name"]: s for s in scenarios})
    _dependencies(w, snapshot)
    text = "\n".join(out) + "\n"
    if len(text.encode("utf-8")) > SIZE_BUDGET:
        cut = text.encode("utf-8")[: SIZE_BUDGET - 200].decode("utf-8", "ignore")
        cut = cut[: cut.rfind("\n")]
        text = cut + f"\n\n… workflow.md cut at {SIZE_BUDGET:,} bytes (full text was {len(text):,} characters); see snapshot.json and trace.jsonl.\n"
    return text


def _limits(w, stats: dict) -> None:
    w("## Limits and gaps")
    w("")
    lines = []
    if stats["dropped_events"]:
        lines.append(f"- event cap reached: {stats['dropped_events']:,} events were not recorded (their calls are still counted on edges)")
    for g in stats["gaps"]:
        lines.append(f"- {g['kind']}: {g['message']} (×{g['count']})")
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
            where = f" {n['file']}:{n['line']}" if n.get("file") and n.get("line") else ""
            flags = " internal" if n.get("internal") else ""
            raised = f", raised {n['raised']}" if n.get("raised") else ""
            lines.append(f"{'  ' * depth}- {n['kind']} `{n['id']}`{flags} — {_calls(n['call_count'])}{raised}{where}")
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
    w("- " + ", ".join(f"{n:,} {k}" for k, n in sorted(outcomes.items(), key=lambda kv: -kv[1])))
    lines = []
    for s in scenarios:
        if len(lines) >= SCENARIO_LINES:
            break
        events = "no recorded events"
        if s["first_event"] is not None:
            events = f"E{s['first_event']}–E{s['last_event']}"
        took = f", {s['duration_s']:.3f} s" if s.get("duration_s") is not None else ""
        why = f": {_clip(s['message'], 160)}" if s.get("message") and s["outcome"] != "passed" else ""
        lines.append(f"- S{s['id']} `{s['name']}` {s['outcome'] or 'unknown'}{why} ({_calls(s['calls'])}{took}; {events})")
    for line in lines:
        w(line)
    if len(scenarios) > len(lines):
        w(f"- … {len(scenarios) - len(lines):,} more scenarios (see snapshot.json)")
    w("")


def _tree(w, tree: CallTree, by_id: dict, scenarios: dict[str, dict]) -> None:
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
            lines.append(f"- thread {tid}")
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
                lines.append("  " * depth + "- " + node.text())
                continue
            lines.append("  " * depth + "- " + _call_line(node))
            if node.cut:
                lines.append("  " * (depth + 1) + f"- … {node.cut:,} nested calls not kept (tree budget)")
            todo.extend((c, depth + 1) for c in reversed(node.children))
    for line in lines:
        w(line)
    if hidden:
        w(f"- … {hidden:,} more call-tree entries not shown (line budget {TREE_LINES})")
    if tree.cut:
        w(f"- … {tree.cut:,} calls were beyond the call-tree budget; they are counted in the actors and edges")
    w("")


class _ScenarioLine:
    def __init__(self, scenario: dict) -> None:
        self.s = scenario

    def text(self) -> str:
        s = self.s
        sid = f"S{s['id']} " if "id" in s else ""
        return f"{sid}scenario `{s['name']}` ({s.get('outcome') or 'unknown'})"


def _call_line(node: CallNode) -> str:
    ids = f"E{node.order}" if node.count == 1 else f"E{node.order}–E{node.last_order}"
    times = f" ×{node.count:,}" if node.count > 1 else ""
    args = args_text(node.args) if node.count == 1 else ""
    call = f"`{node.node_id}`({args})"
    if node.outcome == "raised":
        exc = node.detail or {}
        tail = f" raised {exc.get('type', '?')}: {short(exc.get('message'), 60)}"
    elif node.outcome == "returned":
        tail = f" → {short(node.detail)}" if node.detail is not None and node.count == 1 else ""
    else:
        tail = " (did not return)"
    ys = f" [yielded {node.yields}×]" if node.yields else ""
    return f"{ids}{times} {call}{tail}{ys}"


def _dependencies(w, snapshot: dict) -> None:
    w("## Module dependencies (observed)")
    w("")
    medges = snapshot["module_edges"]
    if not medges:
        w("- none across modules")
    for m in medges[:60]:
        w(f"- `{m['source']}` → `{m['target']}`: {_calls(m['count'])}")
    if len(medges) > 60:
        w(f"- … {len(medges) - 60:,} more module edges (see snapshot.json)")
    w("")
    w("## Hot edges")
    w("")
    edges = sorted(snapshot["edges"], key=lambda e: (-e["count"], e["first_seen"] if e["first_seen"] is not None else 1 << 62))
    for e in edges[:HOT_EDGES]:
        raised = f", raised {e['raised']}" if e["raised"] else ""
        first = f" first E{e['first_seen']}" if e["first_seen"] is not None else ""
        w(f"- `{e['source']}` → `{e['target']}`: {_calls(e['count'])}{raised};{first}")
    if len(edges) > HOT_EDGES:
        w(f"- … {len(edges) - HOT_EDGES:,} more edges (see snapshot.json)")


def _calls(n: int) -> str:
    return f"{n:,} call" if n == 1 else f"{n:,} calls"


def _clip(s, n: int) -> str:
    s = str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
