"""I/O boundaries in snapshot.json: one entry per (kind, target), with the callables that touched it.

Built from the end record's `boundaries` (events/boundaries.py). Snapshot shape (docs/boundaries.md):

    {"id": "io:file:data/orders.json", "kind": "file", "target": "data/orders.json", "label": "orders.json",
     "count": 3, "first_seen": 41, "ops": ["read", "write"],
     "uses": [{"actor": "meth:shop.adapters.storage.FileStorage#4.write_lines", "count": 2, "first_seen": 41,
               "ops": ["write"], "details": [], "scenarios": [0]}]}

Ids are stable across runs (kind and target only), so `skeleton diff` matches boundaries by id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..events.types import Endpoint

MAX_DETAILS = 3  # example requests kept per use ("GET /api/orders")
KIND_ORDER = ("file", "database", "network", "subprocess", "env", "console")


def boundary_id(kind: str, target: str) -> str:
    return f"io:{kind}:{target}"


def collect(
    raw: object,
    node_of: Callable[[Endpoint], int],
    node_id: Callable[[int], str],
    module_of: Callable[[str], int] | None = None,
) -> list[dict[str, Any]]:
    """The boundaries of the end record's uses; node_of (module_of, for a module body) makes the actor's node."""
    if not isinstance(raw, list):
        return []
    out: dict[str, dict[str, Any]] = {}
    for use in raw:
        if not isinstance(use, dict) or not isinstance(use.get("actor"), dict):
            continue
        kind, target = str(use.get("kind", "?")), str(use.get("target", "?"))
        try:
            a = use["actor"]
            if a.get("callable_kind") == "module":  # a project module body (mod:NAME)
                if module_of is None or not isinstance(a.get("module"), str):
                    continue
                actor = node_id(module_of(a["module"]))
            else:
                actor = node_id(node_of(Endpoint.from_json(a)))
        except (KeyError, TypeError, ValueError):
            continue
        bid = boundary_id(kind, target)
        b = out.get(bid)
        if b is None:
            b = out[bid] = {
                "id": bid,
                "kind": kind,
                "target": target,
                "label": _label(kind, target),
                "count": 0,
                "first_seen": None,
                "ops": [],
                "uses": {},
            }
        count = use.get("count") if isinstance(use.get("count"), int) else 1
        first = use.get("first_seen") if isinstance(use.get("first_seen"), int) else None
        u = b["uses"].get(actor)
        if u is None:
            u = b["uses"][actor] = {
                "actor": actor,
                "count": 0,
                "first_seen": None,
                "ops": [],
                "details": [],
                "scenarios": [],
            }
        for d in (b, u):
            d["count"] += count
            if first is not None and (d["first_seen"] is None or first < d["first_seen"]):
                d["first_seen"] = first
            op = str(use.get("op", "?"))
            if op not in d["ops"]:
                d["ops"].append(op)
        detail = use.get("detail")
        if isinstance(detail, str) and detail not in u["details"] and len(u["details"]) < MAX_DETAILS:
            u["details"].append(detail)
        scenario = use.get("scenario")
        if isinstance(scenario, str) and scenario not in u["scenarios"]:
            u["scenarios"].append(scenario)
    return list(out.values())


def finish(found: list[dict[str, Any]], scenarios: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Sorted boundaries (first seen first), uses as lists, scenario names turned into scenario ids."""
    ids = {s["name"]: s["id"] for s in scenarios or ()}
    for b in found:
        uses = sorted(b["uses"].values(), key=_seen)
        for u in uses:
            u["ops"].sort()
            u["scenarios"] = sorted(ids[n] for n in u["scenarios"] if n in ids)
        b["uses"] = uses
        b["ops"].sort()
    return sorted(found, key=lambda b: (*_seen(b), b["id"]))


def _seen(d: dict[str, Any]) -> tuple[bool, int]:
    return d["first_seen"] is None, d["first_seen"] or 0


def _label(kind: str, target: str) -> str:
    if kind in ("file",) and "/" in target:
        return target.rstrip("/").rsplit("/", 1)[-1] or target
    return target


def by_actor(snapshot: dict[str, Any]) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """actor node id -> [(boundary, use)], for readers of a snapshot (workflow.md, rules)."""
    out: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for b in snapshot.get("boundaries") or ():
        if not isinstance(b, dict):
            continue
        for u in b.get("uses") or ():
            if isinstance(u, dict) and isinstance(u.get("actor"), str):
                out.setdefault(u["actor"], []).append((b, u))
    return out
