"""The folded call tree for workflow.md, built while events stream past.

Consecutive sibling calls with identical subtrees fold into one entry with a count
and the range of event ids, so a loop of a million calls is one line. The tree
keeps at most `budget` entries; what is cut is counted, never dropped silently.
"""
from __future__ import annotations

from ..events.types import CALL, EXCEPTION, RESUME, YIELD, Event


class CallNode:
    __slots__ = ("node_id", "order", "last_order", "args", "outcome", "detail", "children", "count", "sig", "yields", "cut",
                 "scenario")

    def __init__(self, node_id: str, order: int, args) -> None:
        self.node_id = node_id
        self.order = order
        self.last_order = order
        self.args = args
        self.outcome = "open"  # returned | raised | open
        self.detail = None
        self.children: list[CallNode] = []
        self.count = 1
        self.sig = 0
        self.yields = 0
        self.cut = 0  # calls below this entry that were not kept
        self.scenario: str | None = None  # the scenario it ran in (pytest runs)


class CallTree:
    def __init__(self, budget: int = 1500) -> None:
        self.budget = budget
        self.kept = 0
        self.cut = 0
        self.roots: dict[int, CallNode] = {}  # thread -> pseudo root
        self.stacks: dict[int, list[CallNode]] = {}
        self.open_calls: dict[int, CallNode] = {}  # call_id -> node (recorded calls)

    def add_batch(self, batch: list[Event]) -> None:
        add = self.add
        for e in batch:
            if e.order >= 0:
                add(e)

    def add(self, e: Event) -> None:
        if e.order < 0:
            return
        kind = e.kind
        tid = e.thread
        stack = self.stacks.get(tid)
        if stack is None:
            root = self.roots[tid] = CallNode(f"thread:{tid}", e.order, None)
            stack = self.stacks[tid] = [root]
        if kind == CALL:
            parent = stack[-1]
            node = CallNode(e.callee.node_id, e.order, e.detail)
            node.scenario = e.scenario
            if self.kept < self.budget:
                self.kept += 1
                parent.children.append(node)
            else:
                self.cut += 1
                parent.cut += 1
                node.sig = -1  # not kept
            stack.append(node)
            self.open_calls[e.order] = node
        elif kind == RESUME:
            node = self.open_calls.get(e.call_id)
            if node is not None:
                stack.append(node)
        else:
            node = self.open_calls.get(e.call_id)
            if node is None:
                return
            if stack[-1] is node:
                stack.pop()
            elif node in stack:
                del stack[stack.index(node):]
            if kind == YIELD:
                node.yields += 1
                return
            del self.open_calls[e.call_id]
            node.outcome = "raised" if kind == EXCEPTION else "returned"
            node.last_order = e.order
            node.detail = e.detail
            self._fold(stack[-1] if stack else None, node)

    def _fold(self, parent: CallNode | None, node: CallNode) -> None:
        node.sig = hash((node.node_id, node.outcome, node.yields, node.cut, node.scenario,
                         tuple((c.sig, c.count) for c in node.children)))
        if parent is None or len(parent.children) < 2 or parent.children[-1] is not node:
            return
        prev = parent.children[-2]
        if prev.sig == node.sig and prev.outcome != "open":
            prev.count += 1
            prev.last_order = node.last_order
            parent.children.pop()
            self.kept -= _size(node)

    def threads(self) -> list[tuple[int, CallNode]]:
        return sorted(self.roots.items())


def _size(node: CallNode) -> int:
    total, todo = 0, [node]
    while todo:
        n = todo.pop()
        total += 1
        todo.extend(n.children)
    return total
