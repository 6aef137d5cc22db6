"""What the workflow.md sections share: the line writer type, the size budget, counts in words, instance
numbering of value summaries (passed along, never global: two renders may run at once, in two threads), and
the short forms of a call-tree entry (used by Scenarios, Phases and the call tree).

Same rules as every section: program text only through md.text()/md.code(); locals holding finished
Markdown end in `_md`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ...model.calltree import CallNode, group_label
from .. import md

if TYPE_CHECKING:
    from ...model.build import Node

Write = Callable[[str], None]  # appends one line to workflow.md

SIZE_BUDGET = 60_000  # bytes of the whole file; the rest is cut (and the cut is said)

Numbers = dict[int, str]  # run-local object id -> the number of its instance node (one per render)


def instance_numbers(nodes: list[Node]) -> Numbers:
    """One instance numbering: a summary of an object that has a node reads `<Cart #2>` like `inst:…Cart#2`."""
    return {
        n["instance_id"]: n["id"].rpartition("#")[2]
        for n in nodes
        if n["kind"] == "instance" and n.get("instance_id") is not None
    }


def numbered(value: object, numbers: Numbers) -> object:
    """A summary with each object's `id` (the run-local object id) replaced by its instance node's number;
    an object with no node shows `id=<object id>` (never a `#n` that could name another instance)."""
    if isinstance(value, dict):
        out = {k: numbered(v, numbers) for k, v in value.items()}
        if "type" in value and isinstance(value.get("id"), int):
            number = numbers.get(value["id"])
            out["id"] = number if number is not None else f"id={value['id']:d}"
        return out
    if isinstance(value, list):
        return [numbered(v, numbers) for v in value]
    return value


def n_entries(n: int) -> str:
    return f"{n:,} top-level entry" if n == 1 else f"{n:,} top-level entries"


def n_calls(n: int) -> str:
    return f"{n:,} call" if n == 1 else f"{n:,} calls"


def brief_md(n: CallNode) -> str:
    """`E12 name` with its size: one call or a folded run."""
    ids_md = f"E{n.order:d}" if n.count == 1 else f"E{n.order:d}–E{n.last_order:d} ×{n.count:,}"
    raised_md = " raised" if n.outcome == "raised" else ""
    who_md = callee_md(n)
    return f"{ids_md} {who_md} ({n_calls(n.size)}){raised_md}"


def callee_md(n: CallNode) -> str:
    """The callee's node id (the first call's: cited), and `Style ×214 .render` when calls of the same
    method on several instances of its class were folded into this entry."""
    if n.instances <= 1:
        return md.code(n.node_id)
    return f"{md.code(n.node_id)} (first of {md.code(n.label)})"


def by_method(entries: list[CallNode]) -> list[tuple[str, int]]:
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
