"""Phases of a run for workflow.md: start-up (imports, definitions) apart from the work.

Module and class bodies are not traced (they are not calls), so a call made while a module is
imported is a top-level call like any other: which top-level calls are start-up is inferred.
- With scenarios (pytest tests, traced blocks): the top-level calls before the first scenario
  (collection, imports, fixtures set up outside tests) are start-up.
- Otherwise a top-level call "looks like definition time" when a function or a class goes in or
  comes out (decorators, registrations, class set-up: what module bodies do when imported). The
  start-up phase is the prefix of top-level calls that best separates those from the rest: each
  definition-like entry scores +1, a small call (at most SMALL calls inside) of a function or class
  method 0, any other entry -log2(1 + calls in it) (instance methods always: module bodies rarely have
  instances to call), and the split is after the last entry where the running score is highest (no
  split when it never gets above 0). Big calls after start-up therefore end it; a few small plain
  calls among decorators do not.
  A call that holds a tenth of the thread's calls (at least BIG_MIN), and is not definition-like, is
  work whatever follows: the split is before it at the latest. Without this, a burst of definitions
  after the main work (a module imported lazily, by the work itself) outscored the log-weighted cost
  of that work, and the work was filed under start-up and left out of the call tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..events.types import summary
from .calltree import CallNode

# value summaries (capture/summarise.py) of things that define rather than compute
SMALL = 3  # calls inside one top-level call (itself included) that still look like module-body work
BIG_MIN = 200  # calls inside one top-level call that make it the work (with a tenth of the thread's calls)
DEFINITION_TYPES = frozenset(
    {
        "function",
        "type",
        "method",
        "builtin_function_or_method",
        "classmethod",
        "staticmethod",
        "property",
        "functools.partial",
        "module",
    }
)


@dataclass
class Phase:
    name: str  # "start-up" or "work"
    entries: list[CallNode] = field(default_factory=list)
    # the work's top-level calls after the call tree's budget ran out: not kept in it, counted on the thread's
    # root (CallNode.cut); their calls, and the thread's last event
    untold: int = 0
    untold_last: int | None = None

    @property
    def calls(self) -> int:
        return sum(e.size for e in self.entries)

    @property
    def first(self) -> int | None:
        return self.entries[0].order if self.entries else None

    @property
    def last(self) -> int | None:
        return max((e.last_order for e in self.entries), default=None)


def definition_like(node: CallNode) -> bool:
    args = summary(node.args)  # summaries are JSON bytes (events/types.summary)
    if isinstance(args, dict) and any(_defines(v) for v in args.values()):
        return True
    return _defines(summary(node.detail)) if node.outcome == "returned" else False


def _defines(v: object) -> bool:
    return isinstance(v, dict) and v.get("type") in DEFINITION_TYPES


def split(entries: list[CallNode], scenarios: bool) -> tuple[Phase, Phase]:
    """(start-up, work) from the top-level entries of one thread, in order."""
    if scenarios:
        k = next((i for i, e in enumerate(entries) if e.scenario is not None), len(entries))
        return Phase("start-up", entries[:k]), Phase("work", entries[k:])
    best, best_i, score = 0.0, -1, 0.0
    big = max(BIG_MIN, sum(e.size for e in entries) // 10)
    for i, e in enumerate(entries):
        if definition_like(e):
            score += e.count
        elif e.size >= big and e.size > SMALL * e.count:
            break  # the work: start-up ends before it at the latest, whatever definitions come later
        elif e.size > SMALL * e.count or e.node_id.startswith("meth:"):
            score -= math.log2(1 + e.size)
        # else: a small call of a function or class method, as module bodies make too: neutral
        if score >= best and score > 0:  # the latest of equal scores: a tie continues start-up
            best, best_i = score, i
    return Phase("start-up", entries[: best_i + 1]), Phase("work", entries[best_i + 1 :])


def distinct_callees(node: CallNode, limit: int = 10_000) -> int:
    seen: set[str] = set()
    todo = [node]
    while todo and len(seen) < limit:
        n = todo.pop()
        seen.add(n.node_id)
        todo.extend(n.children)
    return len(seen)


def importance(node: CallNode) -> tuple[int, int, int]:
    """Bigger first: calls in the subtree, then distinct callees kept, then earlier."""
    return (-node.size, -distinct_callees(node), node.order)
