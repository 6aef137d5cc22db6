"""The "Workflow (call tree)" section: the work's top-level calls, the biggest expanded, within a line budget;
every omission is counted."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from ...events.types import summary
from ...model import phases as ph
from ...model.calltree import CallNode
from .. import md
from ..text import args_text, short
from .common import Numbers, Write, by_method, callee_md, n_calls, n_entries, numbered
from .phases import Split, write_untold

if TYPE_CHECKING:
    from ...model.build import Record

TREE_LINES = 180  # call-tree lines of the work (about 30 KB at typical line lengths)
TOP_LINES = 120  # top-level calls of the work listed (the biggest first when there are more)
EXPAND_DEPTH = 6  # levels shown below one top-level call


def tree_section(w: Write, split: Split, scenarios: dict[str, Record], numbers: Numbers) -> None:
    w("## Workflow (call tree)")
    w("")
    w(
        "`×N` folds N consecutive identical calls (same callees, same outcome); calls of one method on several "
        "instances of a class fold into `Class ×K .method` (K instances, one example node id); "
        "`E a–b` gives the event range; "
        "`[n calls]` counts the calls inside. Only the work is shown (start-up is summarised under Phases); "
        "the calls with the most nested calls are expanded first, and every omission is counted."
    )
    if scenarios:
        w("Calls made while a scenario ran are listed under it.")
    w("")
    _tree_lines(w, split, scenarios, numbers)
    w("")


def _tree_lines(w: Write, split: Split, scenarios: dict[str, Record], numbers: Numbers) -> None:
    budget = TREE_LINES
    for tid, start, work in split:
        entries = work.entries
        if not entries and not start.entries:
            continue
        w(f"- thread {tid:d}")
        if start.entries:
            start_n_md = n_entries(len(start.entries))
            w(f"  - E{start.first:d}–E{start.last:d} start-up: {start_n_md}, {n_calls(start.calls)} (see Phases)")
        ranked = sorted(entries, key=ph.importance)
        room = max(1, min(TOP_LINES, budget // 2))
        if len(ranked) > room:  # only calls that matter get a line; runs of small ones are summarised
            floor = max(2, ranked[0].size // 50) if ranked else 0
            ranked = [n for n in ranked[:room] if n.size >= floor]
        listed = set(map(id, ranked))
        budget -= len(listed)
        expand: dict[int, int] = {}
        big = [n for n in ranked if n.children]
        total = sum(n.size for n in big) or 1
        share = max(0, budget)
        for n in big:  # nested lines in proportion to the calls inside, the biggest first
            cap = min(max(2, share * n.size // total), budget)
            if cap <= 0:
                break
            expand[id(n)] = cap
            budget -= cap
        current = None
        skipped: list[CallNode] = []
        for n in entries:
            if n.scenario != current:
                _skipped(w, skipped, 1 if current is None else 2)
                skipped = []
                current = n.scenario
                if current is not None:
                    w("  - " + _scenario_md(scenarios.get(current, {"name": current})))
            depth = 2 if current is not None else 1
            if id(n) not in listed:
                skipped.append(n)
                continue
            _skipped(w, skipped, depth)
            skipped = []
            _expand(w, n, depth, expand.get(id(n), 0), numbers)
        _skipped(w, skipped, 2 if current is not None else 1)
        write_untold(w, work, "  - … ")


def _skipped(w: Write, skipped: list[CallNode], depth: int) -> None:
    if not skipped:
        return
    calls = sum(n.size for n in skipped)
    top = by_method(skipped)[:3]
    top_md = ", ".join(f"{md.code(k)} ×{c:,}" for k, c in top)
    what_md = "1 smaller top-level entry" if len(skipped) == 1 else f"{len(skipped):,} smaller top-level entries"
    w(
        "  " * depth + f"- … E{skipped[0].order:d}–E{skipped[-1].last_order:d}: {what_md} not shown "
        f"({n_calls(calls)}; mostly {top_md})"
    )


def _chosen(top: CallNode, cap: int) -> set[int]:
    """The `cap` biggest calls below `top` (by calls in their subtree, decorators weigh less)."""
    chosen: set[int] = set()
    heap: list[tuple[int, int, int, int, CallNode]] = []
    seq = 0
    for c in top.children:
        heap.append((-_weight(c), c.order, seq, 1, c))
        seq += 1
    heapq.heapify(heap)
    while heap and len(chosen) < cap:
        _s, _o, _q, level, n = heapq.heappop(heap)
        chosen.add(id(n))
        if level < EXPAND_DEPTH:
            for c in n.children:
                seq += 1
                heapq.heappush(heap, (-_weight(c), c.order, seq, level + 1, c))
    return chosen


def _expand(w: Write, top: CallNode, depth: int, cap: int, numbers: Numbers) -> None:
    """`top` and its `cap` biggest nested calls, in call order; a line says how many nested calls it leaves out."""
    chosen = _chosen(top, cap) if cap > 0 else set()

    def visit(n: CallNode, d: int) -> None:
        hidden = sum(c.size for c in n.children if id(c) not in chosen) + n.cut
        w("  " * d + "- " + _call_line_md(n, numbers, hidden, n.cut))
        for c in n.children:
            if id(c) in chosen:
                visit(c, d + 1)

    visit(top, depth)


def _weight(n: CallNode) -> int:
    """How much a nested call deserves a line: its calls, a quarter for definition-time work (decorators)."""
    return n.size // 4 if ph.definition_like(n) else n.size


def _scenario_md(s: Record) -> str:
    sid_md = f"S{s['id']:d} " if "id" in s else ""
    return f"{sid_md}scenario {md.code(s['name'])} ({md.text(s.get('outcome') or 'unknown', 40)})"


def _call_line_md(node: CallNode, numbers: Numbers, hidden: int = 0, cut: int = 0) -> str:
    ids_md = f"E{node.order:d}" if node.count == 1 else f"E{node.order:d}–E{node.last_order:d}"
    times_md = f" ×{node.count:,}" if node.count > 1 else ""
    args = args_text(numbered(summary(node.args), numbers), 80) if node.count == 1 else ""
    call_md = f"{md.code(node.node_id)}({md.code(args) if args else ''})"
    if node.instances > 1:  # the same method on several instances of one class, folded
        call_md = callee_md(node)
    if node.outcome == "raised":
        exc = summary(node.detail) or {}
        message = numbered(exc.get("message"), numbers)
        tail_md = f" raised {md.text(exc.get('type', '?'), 120)}: {md.code(short(message, 60))}"
    elif node.outcome == "returned":
        shown = node.detail is not None and node.count == 1
        tail_md = f" → {md.code(short(numbered(summary(node.detail), numbers)))}" if shown else ""
    else:
        tail_md = " (did not return)"
    ys_md = f" [yielded {node.yields:,}×]" if node.yields else ""
    size_md = ""
    if node.size > node.count:  # calls inside; those not written below it are said here
        why_md = " not kept (tree budget)" if cut and cut >= hidden else " not shown"
        hidden_md = f", {hidden:,}{why_md}" if hidden else ""
        size_md = f" [{n_calls(node.size)}{hidden_md}]"
    return f"{ids_md}{times_md} {call_md}{tail_md}{ys_md}{size_md}"
