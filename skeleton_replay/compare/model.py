"""The diff of two snapshots as one JSON-ready dict.

DIFF_FORMAT history (the `diff_format` field):
  1  first version: runs, threshold, summary, actors/edges/dependencies added, removed and changed;
     boundaries and violations present with `available: false` (runs do not record them yet).
     Then: boundaries compared when both snapshots have them (`available: true`): boundaries (io:<kind>:<target>)
     added/removed, and uses (an actor doing I/O on a boundary) added/removed; summary boundaries_added,
     boundaries_removed, io_added, io_removed; --fail-on new-io and new-boundaries. Rule violations compared
     when both snapshots were checked (`skeleton check`/`--check` record them): added/removed, matched by rule,
     caller and callee keys; violations_added/removed; --fail-on new-violations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypedDict

from ..actors import CALLABLE_KINDS, INSTANCES, Key, node_keys
from ..options import UsageError

DIFF_FORMAT = 1

Snapshot = dict[str, Any]  # snapshot.json as read: an open JSON object (older and newer runs have other fields)
Diff = dict[str, Any]  # what compute() returns: JSON-ready, its fields in docs/diff.md (`--format json`)
Record = dict[str, Any]  # one JSON object inside a snapshot or the diff (a node, an edge, an added actor...)

# --fail-on conditions: name -> the summary counter that trips it
FAIL_ON = {
    "new-actors": "actors_added",
    "removed-actors": "actors_removed",
    "new-edges": "edges_added",
    "removed-edges": "edges_removed",
    "new-dependencies": "dependencies_added",
    "removed-dependencies": "dependencies_removed",
    "changed-calls": "calls_changed",
    "new-io": "io_added",
    "new-boundaries": "boundaries_added",
    "new-violations": "violations_added",
}
# named in the issue, but runs do not record what they need yet
NOT_YET: dict[str, str] = {}
_KIND_ORDER = {"module": 0, "class": 1, "instances": 2, "classmethod": 3, "method": 4, "function": 5, "run": 6}


@dataclass(frozen=True)
class Threshold:
    """A call-count change is reported when |b - a| >= absolute and |b - a| >= relative * a."""

    relative: float = 0.5
    absolute: int = 1

    def passes(self, a: int, b: int) -> bool:
        delta = abs(b - a)
        return delta > 0 and delta >= self.absolute and (a == 0 or delta >= self.relative * a)

    def describe(self) -> str:
        parts = [f"{self.relative * 100:g}%"] if self.relative else []
        if self.absolute > 1 or not parts:
            parts.append(f"{self.absolute} call{'s' if self.absolute != 1 else ''}")
        return " and ".join(parts)


def parse_threshold(text: str) -> Threshold:
    """`50%`, `10` (calls) or `50%,10` (both must be exceeded)."""
    rel, absolute, seen = 0.0, 1, set()
    for part in (p.strip() for p in str(text).split(",")):
        kind = "relative" if part.endswith("%") else "absolute"
        try:
            value = float(part[:-1]) if kind == "relative" else int(part)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < 0 or kind in seen:
            raise UsageError(
                f"--threshold takes a percentage, a number of calls or both (50%, 10 or 50%,10), not {text!r}"
            )
        seen.add(kind)
        if kind == "relative":
            rel = value / 100
        else:
            absolute = max(int(value), 1)
    return Threshold(rel, absolute)


def parse_fail_on(text: str | None) -> list[str]:
    """The comma-separated --fail-on list, checked: one UsageError line for any unknown name."""
    if text is None:
        return []
    names = [p.strip() for p in text.split(",") if p.strip()]
    if not names:
        raise UsageError(f"--fail-on needs at least one of: {', '.join(FAIL_ON)}")
    for name in names:
        if name in NOT_YET:
            raise UsageError(f"--fail-on {name}: runs do not record {NOT_YET[name]} yet; use {', '.join(FAIL_ON)}")
        if name not in FAIL_ON:
            raise UsageError(f"--fail-on: unknown condition {name!r}; use {', '.join(FAIL_ON)}")
    return list(dict.fromkeys(names))


def failed(diff: Diff, fail_on: list[str]) -> list[str]:
    """The --fail-on conditions this diff meets."""
    return [name for name in fail_on if diff["summary"][FAIL_ON[name]] > 0]


# -- one run, keyed -------------------------------------------------------------------------
class _ActorTotals(TypedDict):
    calls: int
    instances: int
    capped: bool
    first_seen: int | None


class _EdgeTotals(TypedDict):
    calls: int
    raised: int
    first_seen: int | None
    folded: int  # instance edges folded into this one


@dataclass
class _Side:
    actors: dict[Key, _ActorTotals]
    edges: dict[tuple[Key, Key], _EdgeTotals]  # (source key, target key) -> totals
    deps: dict[tuple[str, str], int]  # (source module id, target module id) -> calls


def _first(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _side(snapshot: Snapshot) -> _Side:
    nodes = snapshot.get("nodes") or []
    keys = node_keys(nodes)
    actors: dict[Key, _ActorTotals] = {}
    for n in nodes:
        k = keys[n["id"]]
        if k.kind == "run":
            continue
        a = actors.setdefault(k, {"calls": 0, "instances": 0, "capped": False, "first_seen": None})
        if k.kind in CALLABLE_KINDS:
            a["calls"] += int(n.get("call_count") or 0)
        elif k.kind == INSTANCES:
            a["instances"] += 1
            a["capped"] = a["capped"] or str(n["id"]).endswith("#*")
            a["calls"] += int(n.get("call_count") or 0)
        else:
            a["calls"] = max(a["calls"], int(n.get("call_count") or 0))
        a["first_seen"] = _first(a["first_seen"], n.get("first_seen"))
    edges: dict[tuple[Key, Key], _EdgeTotals] = {}
    for e in snapshot.get("edges") or []:
        src, dst = keys.get(e.get("source")), keys.get(e.get("target"))
        if src is None or dst is None:
            continue
        d = edges.setdefault((src, dst), {"calls": 0, "raised": 0, "first_seen": None, "folded": 0})
        d["calls"] += int(e.get("count") or 0)
        d["raised"] += int(e.get("raised") or 0)
        d["first_seen"] = _first(d["first_seen"], e.get("first_seen"))
        d["folded"] += 1
    deps: dict[tuple[str, str], int] = {}
    for m in snapshot.get("module_edges") or []:
        pair = (str(m.get("source")), str(m.get("target")))
        deps[pair] = deps.get(pair, 0) + int(m.get("count") or 0)
    return _Side(actors, edges, deps)


def _run_info(path: str, snapshot: Snapshot) -> Record:
    run, stats = snapshot.get("run") or {}, snapshot.get("stats") or {}
    scenarios = snapshot.get("scenarios")
    return {
        "path": path,
        "app_name": run.get("app_name"),
        "command": run.get("command"),
        "status": run.get("status"),
        "exit_code": run.get("exit_code"),
        "started_at": run.get("started_at"),
        "python_version": run.get("python_version"),
        "backend": run.get("backend"),
        "skeleton_version": snapshot.get("skeleton_version"),
        "events": stats.get("recorded_events"),
        "calls": stats.get("calls"),
        "nodes": len(snapshot.get("nodes") or []),
        "edges": len(snapshot.get("edges") or []),
        "scenarios": len(scenarios) if scenarios is not None else None,
    }


def _actor(k: Key, d: _ActorTotals) -> Record:
    out: Record = {
        "key": k.id,
        "kind": k.kind,
        "module": k.module,
        "class": k.cls,
        "name": k.name,
        "display": k.display,
        "calls": d["calls"],
        "first_seen": d["first_seen"],
    }
    if k.kind == INSTANCES:
        out["instances"] = d["instances"]
        out["instances_capped"] = d["capped"]
    return out


def _edge(pair: tuple[Key, Key], d: _EdgeTotals) -> Record:
    src, dst = pair
    return {
        "source": src.id,
        "target": dst.id,
        "source_display": src.display,
        "target_display": dst.display,
        "calls": d["calls"],
        "raised": d["raised"],
        "first_seen": d["first_seen"],
        "instance_edges": d["folded"],
    }


def _change(a: int, b: int) -> Record:
    return {"a": a, "b": b, "delta": b - a, "ratio": round(b / a, 4) if a else None}


def _actor_sort(item: tuple[Key, _ActorTotals]) -> tuple[int, str]:
    k = item[0]
    return (_KIND_ORDER.get(k.kind, 9), k.display)


def compute(a_path: str, a: Snapshot, b_path: str, b: Snapshot, threshold: Threshold = Threshold()) -> Diff:
    """What changed from snapshot a to snapshot b."""
    sa, sb = _side(a), _side(b)
    added = [
        _actor(k, d) for k, d in sorted(((k, d) for k, d in sb.actors.items() if k not in sa.actors), key=_actor_sort)
    ]
    removed = [
        _actor(k, d) for k, d in sorted(((k, d) for k, d in sa.actors.items() if k not in sb.actors), key=_actor_sort)
    ]
    calls_changed = []
    for k, d in sorted(
        ((k, d) for k, d in sb.actors.items() if k in sa.actors and k.kind in CALLABLE_KINDS), key=_actor_sort
    ):
        before = sa.actors[k]["calls"]
        if threshold.passes(before, d["calls"]):
            calls_changed.append({"key": k.id, "kind": k.kind, "display": k.display, **_change(before, d["calls"])})
    edge_order = lambda item: (item[0][0].display, item[0][1].display)  # noqa: E731
    edges_added = [
        _edge(p, d) for p, d in sorted(((p, d) for p, d in sb.edges.items() if p not in sa.edges), key=edge_order)
    ]
    edges_removed = [
        _edge(p, d) for p, d in sorted(((p, d) for p, d in sa.edges.items() if p not in sb.edges), key=edge_order)
    ]
    edges_changed = []
    for p, ed in sorted(((p, ed) for p, ed in sb.edges.items() if p in sa.edges), key=edge_order):
        before = sa.edges[p]["calls"]
        if threshold.passes(before, ed["calls"]):
            edges_changed.append(
                {
                    "source": p[0].id,
                    "target": p[1].id,
                    "source_display": p[0].display,
                    "target_display": p[1].display,
                    **_change(before, ed["calls"]),
                }
            )
    deps_added = [
        {"source": s, "target": t, "calls": n} for (s, t), n in sorted(sb.deps.items()) if (s, t) not in sa.deps
    ]
    deps_removed = [
        {"source": s, "target": t, "calls": n} for (s, t), n in sorted(sa.deps.items()) if (s, t) not in sb.deps
    ]
    summary = {
        "actors_added": len(added),
        "actors_removed": len(removed),
        "edges_added": len(edges_added),
        "edges_removed": len(edges_removed),
        "dependencies_added": len(deps_added),
        "dependencies_removed": len(deps_removed),
        "calls_changed": len(calls_changed) + len(edges_changed),
    }
    io = _boundaries(a, b)
    violations = _violations(a, b)
    summary["violations_added"] = len(violations["added"])
    summary["violations_removed"] = len(violations["removed"])
    summary.update(
        {
            k: len(io[name])
            for k, name in (
                ("boundaries_added", "added"),
                ("boundaries_removed", "removed"),
                ("io_added", "uses_added"),
                ("io_removed", "uses_removed"),
            )
        }
    )
    notes = _root_hint(removed, added)
    return {
        "diff_format": DIFF_FORMAT,
        "a": _run_info(a_path, a),
        "b": _run_info(b_path, b),
        "threshold": {"relative": threshold.relative, "absolute": threshold.absolute},
        "summary": summary,
        "actors": {"added": added, "removed": removed, "changed": calls_changed},
        "edges": {"added": edges_added, "removed": edges_removed, "changed": edges_changed},
        "dependencies": {"added": deps_added, "removed": deps_removed},
        "boundaries": io,
        "violations": violations,
        "notes": notes,
    }


def _io_side(snapshot: Snapshot) -> tuple[dict[str, Record], dict[tuple[str, str], Record]] | None:
    """(boundary id -> boundary, (actor key, boundary id) -> use), or None for a run that recorded no I/O."""
    found = snapshot.get("boundaries")
    if not isinstance(found, list):
        return None
    keys = node_keys(snapshot.get("nodes") or [])
    bounds: dict[str, Record] = {}
    uses: dict[tuple[str, str], Record] = {}
    for bd in found:
        if not isinstance(bd, dict) or not isinstance(bd.get("id"), str):
            continue
        bounds[bd["id"]] = bd
        for u in bd.get("uses") or ():
            actor = u.get("actor") if isinstance(u, dict) else None
            k = keys.get(actor) if isinstance(actor, str) else None  # node ids are strings
            if k is None:
                continue
            d = uses.setdefault(
                (k.display, bd["id"]),
                {
                    "actor": k.id,
                    "actor_display": k.display,
                    "boundary": bd["id"],
                    "kind": bd.get("kind"),
                    "target": bd.get("target"),
                    "count": 0,
                    "ops": [],
                },
            )
            d["count"] += int(u.get("count") or 0)
            d["ops"] = sorted(set(d["ops"]) | set(u.get("ops") or ()))
    return bounds, uses


def _boundaries(a: Snapshot, b: Snapshot) -> Record:
    sa, sb = _io_side(a), _io_side(b)
    if sa is None or sb is None:
        which = "A and B" if sa is None and sb is None else "A" if sa is None else "B"
        return {
            "available": False,
            "note": f"run {which} recorded no I/O boundaries (an older Skeleton)",
            "added": [],
            "removed": [],
            "uses_added": [],
            "uses_removed": [],
        }

    def bound(bd: Record) -> Record:
        return {
            "id": bd["id"],
            "kind": bd.get("kind"),
            "target": bd.get("target"),
            "count": bd.get("count"),
            "ops": bd.get("ops") or [],
        }

    return {
        "available": True,
        "added": [bound(sb[0][i]) for i in sorted(sb[0]) if i not in sa[0]],
        "removed": [bound(sa[0][i]) for i in sorted(sa[0]) if i not in sb[0]],
        "uses_added": [sb[1][k] for k in sorted(sb[1]) if k not in sa[1]],
        "uses_removed": [sa[1][k] for k in sorted(sa[1]) if k not in sb[1]],
    }


def _violation_side(snapshot: Snapshot) -> dict[tuple[str, str, str], Record] | None:
    found = snapshot.get("violations")
    if not isinstance(found, list):
        return None
    keys = node_keys(snapshot.get("nodes") or [])
    out: dict[tuple[str, str, str], Record] = {}
    for v in found:
        if not isinstance(v, dict):
            continue
        vs, vt = v.get("source"), v.get("target")
        src = keys.get(vs) if isinstance(vs, str) else None  # node ids are strings
        dst = keys.get(vt) if isinstance(vt, str) else None
        source = src.display if src is not None else str(v.get("source"))
        target = dst.display if dst is not None else str(v.get("target"))  # a boundary id for an io rule
        d = out.setdefault(
            (str(v.get("rule")), source, target),
            {
                "rule": v.get("rule"),
                "kind": v.get("kind"),
                "source_display": source,
                "target_display": target,
                "count": 0,
                "detail": v.get("detail"),
            },
        )
        d["count"] += int(v.get("count") or 0)
    return out


def _violations(a: Snapshot, b: Snapshot) -> Record:
    sa, sb = _violation_side(a), _violation_side(b)
    if sa is None or sb is None:
        which = "A and B were" if sa is None and sb is None else "A was" if sa is None else "B was"
        return {
            "available": False,
            "added": [],
            "removed": [],
            "note": f"run {which} not checked (skeleton check or --check records violations)",
        }
    return {
        "available": True,
        "added": [sb[k] for k in sorted(sb) if k not in sa],
        "removed": [sa[k] for k in sorted(sa) if k not in sb],
    }


def _root_hint(removed: list[Record], added: list[Record]) -> list[str]:
    """A module renamed only by a prefix (`examples.shop.app` vs `app`) is almost always a different
    project root (module names are paths relative to it), not a change of the program."""
    gone = [a["module"] for a in removed if a["kind"] == "module"]
    new = [a["module"] for a in added if a["kind"] == "module"]
    for old in gone:
        for mod in new:
            if old.endswith("." + mod) or mod.endswith("." + old):
                return [
                    f"module {old!r} in A is {mod!r} in B: were the runs made with different project roots? "
                    "Module names are paths relative to the root; pass the same --project-root layout to both"
                ]
    return []
