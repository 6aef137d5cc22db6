"""Calls folded to one level of detail and capped, ready for a diagram writer.

Levels (a unit is one box of the diagram):
- modules: one box per module; calls inside a module are not drawn.
- classes: one box per class (all its instances, its class and static methods folded) and one
  per module-level function, grouped by module; calls inside a class are not drawn.
- methods: one box per method of a class (instances folded) or function, grouped by module;
  recursion is drawn.
The run (root calls) is one box. Past max_nodes, the boxes with the fewest calls fold into one
box that says how many it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..actors import CLASS_METHOD, FUNCTION, METHOD, MODULE, RUN, Key, module_of, node_keys

LEVELS = ("modules", "classes", "methods")
DEFAULT_MAX_NODES = 60
MAX_EDGES = 400  # Mermaid refuses more than 500 edges by default; no one reads that many arrows
FOLDED = Key("folded", "")


@dataclass
class Unit:
    key: Key
    label: str
    group: Key | None  # the module box it is drawn in (classes and methods levels)
    calls: int = 0  # calls into it (None-counted edges count 1)
    first_seen: int | None = None
    size: int = 0  # the folded box: how many units it holds


@dataclass
class Graph:
    level: str
    units: list[Unit]
    edges: list[tuple[int, int, int | None]]  # (source index, target index, calls or None when unknown)
    groups: dict[Key, str] = field(default_factory=dict)  # group key -> label
    notes: list[str] = field(default_factory=list)


def _unit_key(level: str, node_id: str, keys: dict[str, Key], by_id: dict[str, dict[str, Any]]) -> Key | None:
    k = keys.get(node_id)
    if k is None:
        return None
    if k.kind == RUN:
        return k
    if level == "modules":
        return module_of(node_id, by_id)
    if level == "classes" and k.kind in (METHOD, CLASS_METHOD):
        return k.class_key
    return k


def _label(level: str, k: Key, run_label: str) -> str:
    if k.kind == RUN:
        return run_label
    if k.kind == MODULE:
        return k.module
    if k.kind == FUNCTION:
        return f"{k.name}()"
    return k.short


def build(
    snapshot: dict[str, Any],
    counts: dict[tuple[str, str], int | None],
    level: str,
    max_nodes: int = DEFAULT_MAX_NODES,
    run_label: str | None = None,
) -> Graph:
    nodes: list[dict[str, Any]] = snapshot.get("nodes") or []
    by_id = {n["id"]: n for n in nodes}
    keys = node_keys(nodes)
    app = (snapshot.get("run") or {}).get("app_name") or "run"
    run_label = run_label or f"(run) {app}"
    units: dict[Key, Unit] = {}
    agg: dict[tuple[Key, Key], int | None] = {}
    unknown = 0

    def unit(node_id: str) -> Key | None:
        k = _unit_key(level, node_id, keys, by_id)
        if k is None:
            return None
        u = units.get(k)
        if u is None:
            group = None if level == "modules" or k.kind == RUN else Key(MODULE, k.module)
            u = units[k] = Unit(k, _label(level, k, run_label), group)
        seen = by_id[node_id].get("first_seen")
        if seen is not None and (u.first_seen is None or seen < u.first_seen):
            u.first_seen = seen
        return k

    for (src, dst), n in counts.items():
        a, b = unit(src), unit(dst)
        if a is None or b is None:
            unknown += 1
            continue
        units[b].calls += 1 if n is None else n
        if a == b and level != "methods":
            continue
        before = agg.get((a, b), 0)
        agg[(a, b)] = None if n is None or before is None else before + n
    graph = Graph(level, [], [])
    if unknown:
        graph.notes.append(f"{unknown} call edges name nodes this snapshot does not have (left out)")
    kept = _cap(units, max_nodes, graph)
    order = sorted(
        kept.values(),
        key=lambda u: (
            u.key.kind != RUN,
            u.key == FOLDED,
            u.first_seen if u.first_seen is not None else 1 << 62,
            u.label,
        ),
    )
    index = {u.key: i for i, u in enumerate(order)}
    graph.units = order
    edges: dict[tuple[int, int], int | None] = {}
    for (a, b), n in agg.items():
        ia, ib = index.get(_fold(a, kept)), index.get(_fold(b, kept))
        if ia is None or ib is None or (ia == ib and order[ia].key == FOLDED):
            continue
        before = edges.get((ia, ib), 0)
        edges[(ia, ib)] = None if n is None or before is None else before + n
    ranked = sorted(edges.items(), key=lambda kv: (-(kv[1] or 0), kv[0]))
    if len(ranked) > MAX_EDGES:
        graph.notes.append(f"{len(ranked) - MAX_EDGES} edges with the fewest calls left out (at most {MAX_EDGES})")
        ranked = ranked[:MAX_EDGES]
    graph.edges = sorted((a, b, n) for (a, b), n in ranked)
    for u in order:
        if u.group is not None and u.group not in graph.groups:
            graph.groups[u.group] = u.group.module
    return graph


def _fold(k: Key, kept: dict[Key, Unit]) -> Key:
    return k if k in kept else FOLDED


def _cap(units: dict[Key, Unit], max_nodes: int, graph: Graph) -> dict[Key, Unit]:
    if len(units) <= max_nodes:
        return dict(units)
    run = [u for u in units.values() if u.key.kind == RUN]
    rest = sorted(
        (u for u in units.values() if u.key.kind != RUN),
        key=lambda u: (-u.calls, u.first_seen if u.first_seen is not None else 1 << 62, u.label),
    )
    room = max(max_nodes - len(run) - 1, 0)
    keep, folded = rest[:room], rest[room:]
    what = {"modules": "modules", "classes": "classes and functions", "methods": "methods and functions"}[graph.level]
    box = Unit(
        FOLDED,
        f"{len(folded)} more {what} (fewest calls)",
        None,
        sum(u.calls for u in folded),
        min((u.first_seen for u in folded if u.first_seen is not None), default=None),
        len(folded),
    )
    graph.notes.append(f"{len(folded)} of {len(units)} boxes folded into one (--max-nodes {max_nodes})")
    return {u.key: u for u in (*run, *keep, box)}
