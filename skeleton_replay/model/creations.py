"""Who created whom in snapshot.json: `creations`, and `created_by` on instance nodes.

Built from the end record's `creations` (events/creations.py). Snapshot shape (docs/architecture.md):

    "creations": [{"creator": "fn:shop.app:main", "module": "shop.cart", "qualname": "Cart", "count": 3,
                   "first_seen": 12, "instances": ["inst:shop.cart.Cart#1"]}]
    an instance node: "created_by": {"creator": "fn:shop.app:main", "first_seen": 12}

One entry per (creator node, class), first seen first; `count` is exact (also past the event cap);
`instances` lists the instance nodes whose own creation was seen (the first 1,000 of a class).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..events.types import Endpoint

# The keys Endpoint.from_json requires: with these (and no clsm: id to parse) it cannot fail
_ENDPOINT_KEYS = frozenset(("node_id", "module", "function", "qualified_name", "file", "line", "callable_kind"))


def collect(
    raw: object,
    node_of: Callable[[Endpoint], int],
    module_of: Callable[[str], int],
    nodes: list[dict[str, Any]],
    index: dict[str, int],
) -> list[dict[str, Any]]:
    """The snapshot's `creations` (first seen first); sets `created_by` on the instance nodes listed."""
    if not isinstance(raw, list):
        return []
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for made in raw:
        if not isinstance(made, dict) or not isinstance(made.get("creator"), dict):
            continue
        try:
            a = made["creator"]
            nid = a.get("node_id")
            if a.get("callable_kind") == "module":  # a project module body (mod:NAME)
                creator = nodes[module_of(str(a["module"]))]["id"]
            elif type(nid) is str and nid in index and not nid.startswith("clsm:") and a.keys() >= _ENDPOINT_KEYS:
                creator = nid  # a known node: what node_of(Endpoint.from_json(a)) finds, without making the Endpoint
            else:
                creator = nodes[node_of(Endpoint.from_json(a))]["id"]
        except (KeyError, TypeError, ValueError):
            continue
        module, qualname = str(made.get("module", "?")), str(made.get("qualname", "?"))
        count = made.get("count") if isinstance(made.get("count"), int) else 1
        first = made.get("first_seen") if isinstance(made.get("first_seen"), int) else None
        key = (creator, module, qualname)
        c = out.get(key)
        if c is None:
            c = out[key] = {
                "creator": creator,
                "module": module,
                "qualname": qualname,
                "count": 0,
                "first_seen": None,
                "instances": [],
            }
        c["count"] += count
        if first is not None and (c["first_seen"] is None or first < c["first_seen"]):
            c["first_seen"] = first
        for inst in made.get("instances") or ():
            node = inst.get("instance") if isinstance(inst, dict) else None
            i = index.get(node) if isinstance(node, str) else None
            if i is None or nodes[i].get("kind") != "instance":
                continue
            seen = inst.get("first_seen") if isinstance(inst.get("first_seen"), int) else None
            nodes[i]["created_by"] = {"creator": creator, "first_seen": seen}
            c["instances"].append(node)
    return sorted(out.values(), key=lambda c: (c["first_seen"] is None, c["first_seen"] or 0, c["creator"]))


def by_class(snapshot: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(module, qualname) -> its creations (first seen first), for readers of a snapshot (workflow.md)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in snapshot.get("creations") or ():
        if isinstance(c, dict) and isinstance(c.get("creator"), str):
            out.setdefault((str(c.get("module")), str(c.get("qualname"))), []).append(c)
    return out
