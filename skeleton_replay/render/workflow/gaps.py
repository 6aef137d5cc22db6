"""The "Limits and gaps" section: what was not recorded or kept, and the bounds of the sections below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...model.calltree import CallTree
from .. import md
from .actors import ACTOR_LINES
from .common import SIZE_BUDGET, Write
from .tree import TREE_LINES

if TYPE_CHECKING:
    from ...model.build import Record


def limits(w: Write, stats: Record, tree: CallTree) -> None:
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
