"""The "Module dependencies (observed)" section (in layer order, cycles flagged) and the "Hot edges" section."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from ...model.layers import layers
from .. import md
from .common import Write, n_calls

if TYPE_CHECKING:
    from ...model.build import Record

MODULE_EDGES = 40
HOT_EDGES = 15


def dependencies_section(w: Write, snapshot: Record) -> None:
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
                f"{n_calls(m['count'])}{first_md}{cycle_md}"
            )
        if len(medges) > MODULE_EDGES:
            w(f"- … {len(medges) - MODULE_EDGES:,} more module edges (see snapshot.json `module_edges`)")
    w("")


def hot_edges_section(w: Write, snapshot: Record) -> None:
    w("## Hot edges")
    w("")
    edges = snapshot["edges"]
    # the first HOT_EDGES of the sorted list, without sorting every edge (sqlparse's suite: 40k): nsmallest is
    # sorted(...)[:n], ties kept in their order
    hot = heapq.nsmallest(
        HOT_EDGES, edges, key=lambda e: (-e["count"], e["first_seen"] if e["first_seen"] is not None else 1 << 62)
    )
    for e in hot:
        raised_md = f", raised {e['raised']:,}" if e["raised"] else ""
        first_md = f" first E{e['first_seen']:d}" if e["first_seen"] is not None else ""
        w(f"- {md.code(e['source'])} → {md.code(e['target'])}: {n_calls(e['count'])}{raised_md};{first_md}")
    if len(edges) > HOT_EDGES:
        w(f"- … {len(edges) - HOT_EDGES:,} more edges (see snapshot.json)")
