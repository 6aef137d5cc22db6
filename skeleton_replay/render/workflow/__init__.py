"""workflow.md: a compact, deterministic narrative of the run for people and LLMs.

One module a section, written in this order by render_workflow() (the entry point):
header.py (title block), gaps.py (limits and gaps), scenarios.py (pytest tests, requests, with their main
calls), phases.py (start-up apart from the work, model/phases.py), tree.py (the call tree of the work, folded
by repetition and chosen by importance within a line budget), actors.py (grouped by module and by class:
instance groups), ../boundaries_md.py (I/O boundaries, rule violations), edges.py (module dependencies in
layer order with cycles flagged; hot edges). common.py holds what they share.

Cites event ids (E42 = the event with order 42 in trace.jsonl) and node ids
(as in snapshot.json). Stays under a size budget; whatever is cut is said.

Program text is untrusted: every string taken from the snapshot or the call tree goes through
md.text() (escaped plain text) or md.code() (an inline code span), so it can never become Markdown
structure or HTML; numbers are formatted here (`:d`, `:,`, `:.3f`). Locals that hold finished
Markdown end in `_md`. tests/hostile/test_forgery.py lints the f-strings of every module of this package
for that rule.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ...model.calltree import CallTree
from ..boundaries_md import boundaries_section
from .actors import actors_section
from .common import SIZE_BUDGET, instance_numbers
from .edges import dependencies_section, hot_edges_section
from .gaps import limits
from .header import header
from .phases import phases_section, split_phases
from .scenarios import scenarios_section
from .tree import tree_section

if TYPE_CHECKING:
    from ...model.build import Record

__all__ = ["render_workflow", "write_text"]


def render_workflow(snapshot: Record, tree: CallTree) -> str:
    """The text of workflow.md for a snapshot and the call tree built from the same events."""
    nodes = snapshot["nodes"]
    out: list[str] = []
    w = out.append
    header(w, snapshot)
    scenarios = snapshot.get("scenarios") or []
    threads = tree.threads()
    split = split_phases(threads, bool(scenarios), tree.last)
    limits(w, snapshot["stats"], tree)
    if scenarios:
        scenarios_section(w, scenarios, threads)
    module_of = {n["id"]: n.get("module") or "" for n in nodes}
    phases_section(w, split, module_of, bool(scenarios))
    tree_section(w, split, {s["name"]: s for s in scenarios}, instance_numbers(nodes))
    actors_section(w, nodes, snapshot.get("creations"))
    out.extend(boundaries_section(snapshot))  # I/O boundaries (render/boundaries_md.py); none: no section
    dependencies_section(w, snapshot)
    hot_edges_section(w, snapshot)
    text = "\n".join(out) + "\n"
    if len(text.encode("utf-8")) > SIZE_BUDGET:
        cut = text.encode("utf-8")[: SIZE_BUDGET - 200].decode("utf-8", "ignore")
        cut = cut[: cut.rfind("\n")]
        text = cut + (
            f"\n\n… workflow.md cut at {SIZE_BUDGET:,} bytes (full text was {len(text):,} characters); "
            "see snapshot.json and trace.jsonl.\n"
        )
    return text


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write workflow.md atomically and privately (safefiles: a random temporary, never through a link)."""
    from ...safefiles import write_atomic

    return write_atomic(path, text)
