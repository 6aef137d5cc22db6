"""The folded call tree for workflow.md, built while events stream past.

Consecutive sibling calls with identical subtrees fold into one entry with a count
and the range of event ids, so a loop of a million calls is one line. Calls of the same
method on different instances of one class fold too (`Style#1.render`, `Style#2.render`, …:
one entry `Style ×214 .render` that keeps its first call's node id as the cited example). The tree
keeps at most `budget` entries in all and at most `per_root` entries below any one
top-level call. What is cut is counted, never dropped silently: calls not kept are
counted on the nearest kept entry above them, and every entry knows how many calls ran
in its subtree (`size`), kept or not.

The per-event loop has a C twin (model/_calltree.c, loaded when a tree is made: native.py): its entries are
`_calltree.Node` objects with the attributes and properties of CallNode, and it builds the same tree, the
fold signatures included. Readers of the tree (render/workflow/) only read those attributes.
"""

from __future__ import annotations

import re
from typing import Any

from .. import native
from ..events.types import CALL, EXCEPTION, RESUME, YIELD, Event

_INSTANCE_NUMBER = re.compile(r"#(?:\d+|\*)(?=\.)")


def fold_key(node_id: str) -> str:
    """The node id with its instance number left out: what sibling calls on different instances share."""
    return _INSTANCE_NUMBER.sub("#", node_id) if node_id.startswith("meth:") else node_id


def group_label(node_id: str, instances: int) -> str:
    """`Style ×214 .render` for a method of `instances` instances of one class, else the node id."""
    if instances <= 1 or not node_id.startswith("meth:"):
        return node_id
    rest = node_id[5:]
    h = rest.rfind("#")
    dot = rest.find(".", h)
    if h < 0 or dot < 0:
        return node_id
    return f"{rest[:h].rsplit('.', 1)[-1]} ×{instances:,} .{rest[dot + 1 :]}"


class CallNode:
    __slots__ = (
        "args",
        "children",
        "count",
        "cut",
        "detail",
        "holder",
        "ids",
        "kept_below",
        "key",
        "last_order",
        "node_id",
        "order",
        "outcome",
        "paused",
        "scenario",
        "sig",
        "size",
        "start",
        "yields",
    )

    def __init__(self, node_id: str, order: int, args: Any) -> None:
        self.node_id = node_id
        self.order = order
        self.last_order = order
        self.args = args
        self.outcome = "open"  # returned | raised | open
        self.detail: Any = None
        self.children: list[CallNode] = []
        self.count = 1
        self.sig = 0
        self.yields = 0
        self.cut = 0  # calls below this entry that were not kept (at any depth, down to the next kept entry)
        self.scenario: str | None = None  # the scenario it ran in (pytest runs)
        self.size = 0  # calls in its subtree, itself included, kept or not (all `count` calls when folded)
        self.start = 0  # the thread's call counter when it started (size is known once it ends)
        self.kept_below = 0  # top-level entries: entries kept below it
        self.paused = 0  # the thread's call counter when it last yielded (generators, coroutines)
        self.holder: CallNode | None = None  # calls not kept: the nearest kept entry above, which counts them
        self.key = node_id  # fold_key(node_id): equal for the same method on other instances of the class
        self.ids: set[str] | None = None  # folded entries: the node ids folded in when there are several

    @property
    def instances(self) -> int:
        """Distinct instances (node ids) this entry stands for: 1 unless calls on several were folded."""
        return len(self.ids) if self.ids else 1

    @property
    def label(self) -> str:
        """The node id, or `Style ×214 .render` when calls on several instances were folded into it."""
        return group_label(self.node_id, self.instances)


class CallTree:
    def __init__(self, budget: int = 20_000, per_root: int = 5_000) -> None:
        self.budget = budget
        self.per_root = per_root
        self.kept = 0
        self.cut = 0
        self.roots: dict[int, CallNode] = {}  # thread -> pseudo root
        self.stacks: dict[int, list[CallNode]] = {}
        # Parked open calls: call_id -> node, for the open calls that are on no stack of theirs (a generator that
        # yielded, calls cut off a stack by an outer call's end). An open call on a stack is found there
        # (_find_open): a dict entry per call cost a third of this loop in C.
        self.open_calls: dict[int, CallNode] = {}
        self.calls: dict[int, int] = {}  # thread -> calls so far
        self.last: dict[int, int] = {}  # thread -> its last event
        self._keys: dict[str, str] = {}  # node id -> fold_key (cached)
        self._native = native.load("model._calltree")  # the loop in C, or None: the loop below

    def add_batch(self, batch: list[Event]) -> None:
        """Recorded events into the tree: in C when compiled (the same tree, ~10x faster), else in Python."""
        if self._native is not None:
            self._native.add_batch(self, batch, fold_key)
        else:
            self._add_batch_py(batch)

    def _add_batch_py(self, batch: list[Event]) -> None:
        """The per-event loop (recorded events only): everything it touches is a local."""
        stacks, roots, open_calls, calls, last, keys = (
            self.stacks,
            self.roots,
            self.open_calls,
            self.calls,
            self.last,
            self._keys,
        )
        fold = self._fold
        budget, per_root = self.budget, self.per_root
        kept = self.kept
        node_class = CallNode
        try:
            for e in batch:
                order, kind, call_id, _t, _depth, tid = e[:6]
                if order < 0:
                    continue
                last[tid] = order
                stack = stacks.get(tid)
                if stack is None:
                    roots[tid] = root = node_class(f"thread:{tid}", order, None)
                    stack = stacks[tid] = [root]
                    calls[tid] = 0
                if kind == CALL:
                    parent = stack[-1]
                    nid = e[7].node_id
                    node = node_class(nid, order, e[8])
                    key = keys.get(nid)
                    if key is None:
                        key = keys[nid] = fold_key(nid)
                    node.key = key
                    node.scenario = e[12]
                    node.start = start = calls[tid]
                    calls[tid] = start + 1
                    top = stack[1] if len(stack) > 1 else None
                    if kept < budget and (top is None or top.kept_below < per_root):
                        kept += 1
                        parent.children.append(node)
                        if top is not None:
                            top.kept_below += 1
                    else:
                        self.cut += 1
                        holder = parent if parent.sig != -1 else parent.holder
                        if holder is not None:
                            holder.cut += 1
                        node.holder = holder
                        node.sig = -1  # not kept
                    stack.append(node)
                elif kind == RESUME:
                    resumed = self._find_open(call_id, stack)
                    if resumed is not None:
                        stack.append(resumed)
                        resumed.start += calls[tid] - resumed.paused  # calls made while suspended are not its own
                else:
                    ended = self._find_open(call_id, stack)
                    if ended is None:
                        continue
                    node = ended
                    if stack[-1] is node:
                        stack.pop()
                    elif node in stack:
                        at = stack.index(node)
                        for cut_off in stack[at + 1 :]:  # open calls that leave the stack unended
                            if cut_off.outcome == "open":
                                open_calls[cut_off.order] = cut_off
                        del stack[at:]
                    if kind == YIELD:
                        node.yields += 1
                        node.paused = calls[tid]
                        open_calls[node.order] = node
                        continue
                    if open_calls.get(node.order) is node:
                        del open_calls[node.order]
                    node.outcome = "raised" if kind == EXCEPTION else "returned"
                    node.last_order = order
                    node.detail = e[8]
                    size = calls[tid] - node.start
                    node.size = size if size > 1 else 1
                    if node.sig == -1:  # not kept: its signature is never compared
                        continue
                    self.kept = kept
                    fold(stack[-1] if stack else None, node, stack[1] if len(stack) > 1 else None)
                    kept = self.kept
        finally:
            self.kept = kept

    def add(self, e: Event) -> None:
        self.add_batch([e])

    def _find_open(self, call_id: Any, stack: list[CallNode]) -> CallNode | None:
        """The open call `call_id`: on this thread's stack (from the top), parked, or on another thread's stack
        (ended from a thread that does not run it). A null call_id finds none. (Recorded calls have distinct
        orders: the event counter.)"""
        if call_id is None:
            return None
        found = _scan(stack, call_id)
        if found is None:
            found = self.open_calls.get(call_id)
        for other in self.stacks.values():
            if found is not None:
                break
            if other is not stack:
                found = _scan(other, call_id)
        return found

    def _fold(self, parent: CallNode | None, node: CallNode, top: CallNode | None) -> None:
        node.sig = hash(
            (
                node.key,
                node.outcome,
                node.yields,
                node.cut,
                node.scenario,
                tuple((c.sig, c.count) for c in node.children),
            )
        )
        if parent is None or len(parent.children) < 2 or parent.children[-1] is not node:
            return
        prev = parent.children[-2]
        if prev.sig == node.sig and prev.outcome != "open":
            prev.count += 1
            prev.last_order = node.last_order
            prev.size += node.size
            if node.node_id != prev.node_id or prev.ids or node.ids:  # the same method on another instance
                ids = prev.ids if prev.ids is not None else {prev.node_id}
                ids.update(node.ids or (node.node_id,))
                prev.ids = ids
            parent.children.pop()
            n = _size(node)
            self.kept -= n
            if top is not None:
                top.kept_below -= n

    def threads(self) -> list[tuple[int, CallNode]]:
        """(thread id, pseudo root) in thread order; calls still open get their size so far."""
        seen: set[int] = set()
        for node in [*self.open_calls.values(), *(n for s in self.stacks.values() for n in s[1:])]:
            if node.outcome == "open" and id(node) not in seen:
                seen.add(id(node))
                tid = next((t for t, s in self.stacks.items() if node in s), None)
                node.size = max(1, self.calls.get(tid, node.start + 1) - node.start) if tid is not None else 1
        for tid, root in self.roots.items():
            root.size = self.calls.get(tid, 0)
            for node in self.stacks.get(tid, ())[1:]:  # still running when the trace ended
                if node.outcome == "open":
                    node.last_order = max(node.last_order, self.last.get(tid, node.order))
        return sorted(self.roots.items())


def _scan(stack: list[CallNode], call_id: Any) -> CallNode | None:
    """The open call `call_id` on a thread's stack, from the top (model/_calltree.c scan_stack)."""
    for i in range(len(stack) - 1, 0, -1):  # [0] is the thread's pseudo root
        n = stack[i]
        if n.order == call_id and n.outcome == "open":
            return n
    return None


def _size(node: CallNode) -> int:
    total, todo = 0, [node]
    while todo:
        n = todo.pop()
        total += 1
        todo.extend(n.children)
    return total
