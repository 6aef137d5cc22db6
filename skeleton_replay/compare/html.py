"""The diff of two runs as one snapshot for the report UI (`skeleton diff --format html`, docs/diff.md).

The merged snapshot is run B's snapshot (its nodes, edges and steps unchanged, so the report replays B)
with the evidence only run A has appended: A's removed actors (under B's node of the same key when
their container still exists), A's removed call edges, boundaries and I/O uses,
their ends mapped to the merged nodes by key (module, class, callable; actors.Key), never by run-local
ids. A-only nodes and edges have `first_seen: null` (they are not in B's steps): the report shows them
from the last step on, and a diff report opens there.

The `diff` block (snapshot schema `Diff`) says what changed: `nodes`/`edges` carry a mark per changed
node or edge id (added, removed, changed with A's and B's call counts), `violations` the new and fixed
ones (a fixed violation is not in the snapshot's `violations`, which stay B's), and `changes` the rows
of the text/markdown output, each pointing at the node or edge to focus.
"""

from __future__ import annotations

import copy

from ..actors import Key, node_keys
from .model import DIFF_FORMAT, Diff, Record, Snapshot
from .render import sections

# fields of A's records left out of the merged snapshot
_DROP_NODE = ("scenarios", "examples")  # A's scenario ids and event numbers mean nothing in B


class _Merge:
    """B's snapshot, growing with A-only evidence; keeps the maps from keys to merged ids."""

    def __init__(self, a: Snapshot, b: Snapshot) -> None:
        self.a, self.b = a, b
        self.a_nodes: list[Record] = list(a.get("nodes") or [])
        self.a_by_id: dict[str, Record] = {n["id"]: n for n in self.a_nodes}
        self.b_nodes: list[Record] = list(b.get("nodes") or [])
        self.a_keys = node_keys(self.a_nodes)
        self.b_keys = node_keys(self.b_nodes)
        self.ids: set[str] = {str(n["id"]) for n in self.b_nodes}
        self.by_key: dict[str, str] = {}  # key id -> the merged node standing for it (B's first, else A's)
        for n in self.b_nodes:
            self.by_key.setdefault(self.b_keys[n["id"]].id, n["id"])
        self.a_to_merged: dict[str, str] = {}
        self.nodes: list[Record] = [copy.copy(n) for n in self.b_nodes]
        self.edges: list[Record] = [copy.copy(e) for e in b.get("edges") or []]
        self.edge_ids: dict[tuple[str, str], str] = {(e["source"], e["target"]): e["id"] for e in self.edges}
        self.taken_edges: set[str] = {e["id"] for e in self.edges}
        self.from_a: dict[str, Record] = {}  # edges appended for A-only evidence, by id
        self.violation_ends: dict[tuple[str, str, str], tuple[str, str]] = {}  # (rule, displays) -> merged ends

    def _fresh(self, wanted: str) -> str:
        nid, k = wanted, 2
        while nid in self.ids:
            nid, k = f"{wanted}~A{k if k > 2 else ''}", k + 1
        self.ids.add(nid)
        return nid

    def node(self, a_id: str) -> str | None:
        """The merged id of A's node a_id: B's node of the same key, else A's node appended (with its parents)."""
        if a_id in self.a_to_merged:
            return self.a_to_merged[a_id]
        key = self.a_keys.get(a_id)
        if key is None:
            return None
        if key.id in self.by_key:
            self.a_to_merged[a_id] = self.by_key[key.id]
            return self.by_key[key.id]
        src = self.a_by_id[a_id]
        nid = self._fresh(a_id)
        self.a_to_merged[a_id] = nid
        self.by_key[key.id] = nid
        parent = self.node(src["parent"]) if isinstance(src.get("parent"), str) else None
        rec = {k: v for k, v in src.items() if k not in _DROP_NODE}
        rec.update({"id": nid, "parent": parent, "first_seen": None, "last_seen": None})
        self.nodes.append(rec)
        return nid

    def edge(self, src: str, dst: str, a_edge: Record) -> str:
        """A call edge src -> dst (merged ids) appended for A's edge a_edge, or its counts added to it."""
        pair = (src, dst)
        count, raised = int(a_edge.get("count") or 0), int(a_edge.get("raised") or 0)
        total, peak = int(a_edge.get("total_ns") or 0), int(a_edge.get("max_ns") or 0)
        if pair in self.edge_ids:  # only an A-only edge can join two merged nodes that B does not link
            same = self.from_a.get(self.edge_ids[pair])
            if same is not None:
                same["count"] += count
                same["raised"] += raised
                same["total_ns"] += total
                same["max_ns"] = max(same["max_ns"], peak)
            return self.edge_ids[pair]
        eid, k = f"{src}->{dst}", 2
        while eid in self.taken_edges:
            eid, k = f"{src}->{dst}~A{k}", k + 1
        self.taken_edges.add(eid)
        rec: Record = {
            "id": eid,
            "source": src,
            "target": dst,
            "kind": "call",
            "count": count,
            "first_seen": None,
            "last_seen": None,
            "total_ns": total,
            "max_ns": peak,
            "raised": raised,
            "example_events": [],
        }
        self.edges.append(rec)
        self.from_a[eid] = rec
        self.edge_ids[pair] = eid
        return eid


def _mark(marks: dict[str, Record], mid: str, status: str, a: int | None, b: int | None, key: str) -> None:
    """Mark node or edge mid. a and b are the calls of its key (module, class, callable) in each run, so every
    node or edge of one key (a method on three objects) carries the same counts, and `key` says they are shared."""
    if mid not in marks or marks[mid]["status"] == "changed":
        marks[mid] = {"id": mid, "status": status, "a": a, "b": b, "key": key}


def merged_snapshot(diff: Diff, a: Snapshot, b: Snapshot) -> Snapshot:
    """B's snapshot with A-only evidence appended and the `diff` block (module docstring)."""
    m = _Merge(a, b)
    node_marks: dict[str, Record] = {}
    edge_marks: dict[str, Record] = {}
    added = {r["key"]: r for r in diff["actors"]["added"]}
    removed = {r["key"]: r for r in diff["actors"]["removed"]}
    changed = {r["key"]: r for r in diff["actors"]["changed"]}
    for n in m.b_nodes:
        k = m.b_keys[n["id"]]
        if k.id in added:
            _mark(node_marks, n["id"], "added", None, added[k.id]["calls"], k.id)
        elif k.id in changed:
            _mark(node_marks, n["id"], "changed", changed[k.id]["a"], changed[k.id]["b"], k.id)
    for n in m.a_nodes:  # removed actors, in A's order (parents come first or are pulled in)
        k = m.a_keys[n["id"]]
        if k.id in removed:
            mid = m.node(n["id"])
            if mid is not None:
                _mark(node_marks, mid, "removed", removed[k.id]["calls"], None, k.id)
    # call edges, by key pair
    pair_of = {(r["source"], r["target"]): r for r in diff["edges"]["added"]}
    edge_changed = {(r["source"], r["target"]): r for r in diff["edges"]["changed"]}
    edge_by_pair: dict[tuple[str, str], str] = {}
    for e in b.get("edges") or []:
        ks, kt = m.b_keys.get(e.get("source")), m.b_keys.get(e.get("target"))
        if ks is None or kt is None:
            continue
        pair = (ks.id, kt.id)
        edge_by_pair.setdefault(pair, e["id"])
        if pair in pair_of:
            _mark(edge_marks, e["id"], "added", None, pair_of[pair]["calls"], f"{ks.id}->{kt.id}")
        elif pair in edge_changed:
            _mark(edge_marks, e["id"], "changed", edge_changed[pair]["a"], edge_changed[pair]["b"], f"{ks.id}->{kt.id}")
    gone = {(r["source"], r["target"]): r for r in diff["edges"]["removed"]}
    for e in a.get("edges") or []:
        ks, kt = m.a_keys.get(e.get("source")), m.a_keys.get(e.get("target"))
        if ks is None or kt is None or (ks.id, kt.id) not in gone:
            continue
        src, dst = m.node(e["source"]), m.node(e["target"])
        if src is None or dst is None:
            continue
        eid = m.edge(src, dst, e)
        edge_by_pair.setdefault((ks.id, kt.id), eid)
        _mark(edge_marks, eid, "removed", gone[(ks.id, kt.id)]["calls"], None, f"{ks.id}->{kt.id}")
    out = dict(b)
    out["nodes"], out["edges"] = m.nodes, m.edges
    out["module_edges"] = _module_edges(diff, b)
    _boundaries(diff, m, a, b, out, node_marks, edge_marks)
    violation_marks = _violations(diff, m, a, b, out)
    out["diff"] = {
        "format": DIFF_FORMAT,
        "a": _run(diff["a"]),
        "b": _run(diff["b"]),
        "threshold": diff["threshold"],
        "summary": diff["summary"],
        "nodes": list(node_marks.values()),
        "edges": list(edge_marks.values()),
        "violations": violation_marks,
        "changes": _changes(diff, m, edge_by_pair),
        "notes": list(diff.get("notes") or []) + _not_compared(diff),
    }
    return out


def _run(info: Record) -> Record:
    keep = ("path", "app_name", "status", "exit_code", "started_at", "python_version", "calls", "events", "scenarios")
    return {k: info.get(k) for k in keep}


def _not_compared(diff: Diff) -> list[str]:
    out = []
    for name, part in (("I/O boundaries", diff["boundaries"]), ("rule violations", diff["violations"])):
        if not part.get("available"):
            out.append(f"Not compared: {name} ({part.get('note')}).")
    return out


def _module_edges(diff: Diff, b: Snapshot) -> list[Record]:
    edges = [dict(x) for x in b.get("module_edges") or []]
    for d in diff["dependencies"]["removed"]:
        edges.append({"source": d["source"], "target": d["target"], "count": d["calls"], "first_seen": None})
    return edges


def _boundaries(
    diff: Diff,
    m: _Merge,
    a: Snapshot,
    b: Snapshot,
    out: Snapshot,
    node_marks: dict[str, Record],
    edge_marks: dict[str, Record],
) -> None:
    if not diff["boundaries"].get("available"):
        return
    merged: list[Record] = copy.deepcopy(list(b.get("boundaries") or []))
    by_id = {bd["id"]: bd for bd in merged}
    a_ids = {bd.get("id") for bd in a.get("boundaries") or [] if isinstance(bd, dict)}
    for bd in merged:
        if bd["id"] not in a_ids:
            _mark(node_marks, bd["id"], "added", None, int(bd.get("count") or 0), bd["id"])
    new_uses = {(u["actor_display"], u["boundary"]): u for u in diff["boundaries"]["uses_added"]}
    old_uses = {(u["actor_display"], u["boundary"]): u for u in diff["boundaries"]["uses_removed"]}
    for bd in merged:
        for u in bd.get("uses") or []:
            k = m.b_keys.get(u.get("actor"))
            if k is not None and (k.display, bd["id"]) in new_uses:
                use = new_uses[(k.display, bd["id"])]
                _mark(edge_marks, f"{u['actor']}->{bd['id']}", "added", None, use["count"], f"{k.id}->{bd['id']}")
    for bd in a.get("boundaries") or []:
        if not isinstance(bd, dict) or not isinstance(bd.get("id"), str):
            continue
        target = by_id.get(bd["id"])
        if target is None:  # a boundary only A touched
            target = {**copy.deepcopy(bd), "first_seen": None, "uses": []}
            merged.append(target)
            by_id[bd["id"]] = target
            _mark(node_marks, bd["id"], "removed", int(bd.get("count") or 0), None, bd["id"])
        for u in bd.get("uses") or []:
            actor_id = u.get("actor") if isinstance(u, dict) else None
            k = m.a_keys.get(actor_id) if isinstance(actor_id, str) else None
            if k is None or (k.display, bd["id"]) not in old_uses:
                continue
            actor = m.node(u["actor"])
            if actor is None:
                continue
            same = next((x for x in target["uses"] if x["actor"] == actor), None)
            if same is None:
                target["uses"].append({**u, "actor": actor, "first_seen": None, "scenarios": []})
            else:  # another of A's objects of the same class: one use, counts added
                same["count"] += int(u.get("count") or 0)
            use = old_uses[(k.display, bd["id"])]
            _mark(edge_marks, f"{actor}->{bd['id']}", "removed", use["count"], None, f"{k.id}->{bd['id']}")
    out["boundaries"] = merged


def _violations(diff: Diff, m: _Merge, a: Snapshot, b: Snapshot, out: Snapshot) -> list[Record]:
    rules = diff["violations"]
    if not rules.get("available"):
        return []

    def ident(v: Record, keys: dict[str, Key]) -> tuple[str, str, str]:
        s, t = keys.get(v.get("source")), keys.get(v.get("target"))  # type: ignore[arg-type]
        return (
            str(v.get("rule")),
            s.display if s is not None else str(v.get("source")),
            t.display if t is not None else str(v.get("target")),
        )

    new = {(r["rule"], r["source_display"], r["target_display"]) for r in rules["added"]}
    fixed = {(r["rule"], r["source_display"], r["target_display"]) for r in rules["removed"]}
    merged = [dict(v) for v in b.get("violations") or [] if isinstance(v, dict)]
    marks = []
    for v in merged:
        m.violation_ends[ident(v, m.b_keys)] = (v["source"], v["target"])
        if ident(v, m.b_keys) in new:
            marks.append({"rule": v["rule"], "source": v["source"], "target": v["target"], "status": "added"})
    for v in a.get("violations") or []:
        if not isinstance(v, dict) or ident(v, m.a_keys) not in fixed:
            continue
        src = m.node(v["source"]) or str(v.get("source"))
        dst = m.node(v["target"]) if v.get("target") in m.a_keys else str(v.get("target"))  # a boundary id
        dst = dst or str(v.get("target"))
        m.violation_ends.setdefault(ident(v, m.a_keys), (src, dst))
        marks.append({"rule": v["rule"], "source": src, "target": dst, "status": "removed"})
    out["violations"] = merged  # B's: a fixed violation is only in the marks (and on its edge, in the report)
    return marks


def _changes(diff: Diff, m: _Merge, edge_by_pair: dict[tuple[str, str], str]) -> list[Record]:
    """The rows of the text/markdown output, each with the node or edge of the merged snapshot to focus."""
    out: list[Record] = []
    for sid, title, rows, recs in sections(diff):
        for (sign, shape, parts, note), rec in zip(rows, recs, strict=True):
            node, edge = _target(sid, rec, m, edge_by_pair)
            out.append(
                {"section": sid, "title": title, "sign": sign, "shape": shape, "parts": parts, "note": note}
                | {"node": node, "edge": edge}
            )
    return out


def _target(
    sid: str, rec: Record, m: _Merge, edge_by_pair: dict[tuple[str, str], str]
) -> tuple[str | None, str | None]:
    """(node id, edge id) of the merged snapshot a change row points at."""
    if sid.startswith("actors") or (sid == "calls_changed" and "key" in rec):
        return m.by_key.get(rec["key"]), None
    if sid.startswith("edges") or sid == "calls_changed":
        eid = edge_by_pair.get((rec["source"], rec["target"]))
        return m.by_key.get(rec["source"]), eid
    if sid.startswith("dependencies"):
        return m.by_key.get(rec["source"]), None
    if sid.startswith("boundaries"):
        return rec["id"], None
    if sid.startswith("io"):
        actor = m.by_key.get(rec["actor"])
        return actor, f"{actor}->{rec['boundary']}" if actor else None
    if sid.startswith("violations"):
        ends = m.violation_ends.get((str(rec["rule"]), rec["source_display"], rec["target_display"]))
        if ends is None:
            return None, None
        src, tgt = ends
        eid = m.edge_ids.get((src, tgt), f"{src}->{tgt}")  # else an io rule: the actor's use of the boundary
        return src, eid
    return None, None
