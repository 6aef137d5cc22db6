"""Check rules on a snapshot's observed calls (its `edges`: caller node -> callee node, with counts).

Each edge is one (caller, callee) pair of nodes; a rule that forbids it yields one Violation with the
edge's call count (calls past the event cap included) and the `order` of its first recorded call
(`first_seen`, None when every call on it was only counted past the cap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .model import IO, Forbidden, Independence, Layers, Rule, RuleSet
from .patterns import Pattern

NO_IO_EVIDENCE = "not evaluated: this run has no I/O evidence (made by a Skeleton that did not record I/O)"
NOT_RECORDED = "not evaluated: Skeleton does not record {kind} I/O yet"
RECORDED_IO = ("file", "network", "subprocess", "database", "console", "env")  # what capture/boundaries.py records

Node = dict[str, Any]  # a node of snapshot.json (`nodes`), as read from the file
Edge = dict[str, Any]  # an edge of snapshot.json (`edges`)
T = TypeVar("T")


@dataclass(frozen=True)
class Violation:
    rule: str
    source: str  # caller node id (the actor, for an [[io]] rule)
    target: str  # callee node id (the I/O boundary, for an [[io]] rule)
    count: int  # calls on the edge, including calls past the event cap
    first_seen: int | None  # order of the first recorded call (E<n>); None: counted past the cap only
    detail: str  # why it breaks the rule, in words
    raised: int = 0
    scenarios: tuple[int, ...] = ()  # pytest runs: the tests that made these calls


@dataclass
class RuleResult:
    rule: Rule
    status: str = "passed"  # passed | violated | not_evaluated
    violations: list[Violation] = field(default_factory=list)
    note: str | None = None
    unmatched: list[str] = field(default_factory=list)  # patterns that matched no node of the run

    @property
    def calls(self) -> int:
        return sum(v.count for v in self.violations)


@dataclass(frozen=True)
class IOUse:
    """One actor's I/O of one kind on one boundary (snapshot.json `boundaries`, docs/boundaries.md)."""

    actor: str  # node id of the callable that did the I/O
    boundary: str  # id of the boundary (io:file:data/orders.json, io:network:api.example.com:443...)
    io_kind: str  # one of model.IO_KINDS
    count: int
    first_seen: int | None
    scenarios: tuple[int, ...] = ()


def io_uses(snapshot: dict[str, Any]) -> list[IOUse] | None:
    """The run's I/O evidence, or None when the snapshot has none (made by a Skeleton that did not record I/O)."""
    found = snapshot.get("boundaries")
    if not isinstance(found, list):
        return None
    out = []
    for b in found:
        if not isinstance(b, dict) or not isinstance(b.get("id"), str):
            continue
        for u in b.get("uses") or ():
            if isinstance(u, dict) and isinstance(u.get("actor"), str):
                first = u.get("first_seen")
                scenarios = u.get("scenarios") or ()
                out.append(
                    IOUse(
                        u["actor"],
                        b["id"],
                        str(b.get("kind")),
                        _int(u.get("count")),
                        first if isinstance(first, int) and not isinstance(first, bool) else None,
                        tuple(s for s in scenarios if isinstance(s, int)),
                    )
                )
    return out


def evaluate(ruleset: RuleSet, snapshot: dict[str, Any]) -> list[RuleResult]:
    nodes: dict[str, Node] = {n["id"]: n for n in snapshot.get("nodes", ()) if isinstance(n, dict) and "id" in n}
    edges = [e for e in snapshot.get("edges", ()) if isinstance(e, dict)]
    results = []
    for rule in ruleset.rules:
        result = RuleResult(rule, unmatched=_unmatched(rule.patterns(), nodes.values()))
        if isinstance(rule, IO):
            uses = io_uses(snapshot)
            if uses is None or rule.io_kind not in RECORDED_IO:
                result.status = "not_evaluated"
                result.note = NO_IO_EVIDENCE if uses is None else NOT_RECORDED.format(kind=rule.io_kind)
                results.append(result)
                continue
            result.violations = _check_io(rule, uses, nodes)
        else:
            result.violations = _check_calls(rule, edges, nodes)
        result.violations.sort(key=_order)
        result.status = "violated" if result.violations else "passed"
        results.append(result)
    return results


def _order(v: Violation) -> tuple[bool, int, int, str, str]:
    return (v.first_seen is None, v.first_seen or 0, -v.count, v.source, v.target)


def _unmatched(pats: Iterable[Pattern], nodes: Iterable[Node]) -> list[str]:
    left = {p.text: p for p in pats}
    for node in nodes:
        if not left:
            break
        for text in [t for t, p in left.items() if p.matches(node)]:
            del left[text]
    return list(left)


def _best(pats: tuple[Pattern, ...], node: Node) -> Pattern | None:
    """The most specific pattern that matches node (the first of equals)."""
    best = None
    for p in pats:
        if (best is None or p.specificity > best.specificity) and p.matches(node):
            best = p
    return best


def _cached(fn: Callable[[Node], T]) -> Callable[[Node], T]:
    memo: dict[str, T] = {}

    def get(node: Node) -> T:
        key = node["id"]
        if key not in memo:
            memo[key] = fn(node)
        return memo[key]

    return get


def _layer_of(rule: Layers) -> Callable[[Node], int | None]:
    flat = tuple((p, i) for i, layer in enumerate(rule.layers) for p in layer)
    index = {id(p): i for p, i in flat}
    pats = tuple(p for p, _ in flat)

    def layer(node: Node) -> int | None:
        p = _best(pats, node)
        return None if p is None else index[id(p)]

    return _cached(layer)


def _label(layer: tuple[Pattern, ...]) -> str:
    return " | ".join(p.text for p in layer)


def _detail_fn(rule: Rule) -> Callable[[Node, Node], str | None]:
    """For a call rule: (caller, callee) -> why the call breaks it, or None when it does not."""
    if isinstance(rule, Layers):
        layer = _layer_of(rule)

        def layers(caller: Node, callee: Node) -> str | None:
            a, b = layer(caller), layer(callee)
            if a is None or b is None or a <= b:
                return None
            return f"layer {a + 1} ({_label(rule.layers[a])}) calls up into layer {b + 1} ({_label(rule.layers[b])})"

        return layers
    if isinstance(rule, Forbidden):
        caller_of = _cached(lambda n: _best(rule.callers, n))
        callee_of = _cached(lambda n: _best(rule.callees, n))

        def forbidden(caller: Node, callee: Node) -> str | None:
            a = caller_of(caller)
            b = callee_of(callee) if a is not None else None
            return f"{a.text} must not call {b.text}" if a is not None and b is not None else None

        return forbidden
    assert isinstance(rule, Independence)
    group = _cached(lambda n: _best(rule.modules, n))

    def independence(caller: Node, callee: Node) -> str | None:
        a, b = group(caller), group(callee)
        if a is None or b is None or a is b:
            return None
        return f"{a.text} and {b.text} must not call each other"

    return independence


def _check_calls(rule: Rule, edges: list[Edge], nodes: dict[str, Node]) -> list[Violation]:
    why = _detail_fn(rule)
    out = []
    for edge in edges:
        source, target = edge.get("source"), edge.get("target")  # node ids: strings (anything else matches none)
        caller = nodes.get(source) if isinstance(source, str) else None
        callee = nodes.get(target) if isinstance(target, str) else None
        if caller is None or callee is None:
            continue
        detail = why(caller, callee)
        if detail is None or any(i.matches(caller, callee) for i in rule.ignore):
            continue
        out.append(_violation(rule, edge, detail))
    return out


def _violation(rule: Rule, edge: Edge, detail: str) -> Violation:
    first = edge.get("first_seen")
    scenarios = edge.get("scenarios") or ()
    return Violation(
        rule.name,
        edge["source"],
        edge["target"],
        _int(edge.get("count")),
        first if isinstance(first, int) and not isinstance(first, bool) else None,
        detail,
        _int(edge.get("raised")),
        tuple(s for s in scenarios if isinstance(s, int)),
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _check_io(rule: IO, uses: list[IOUse], nodes: dict[str, Node]) -> list[Violation]:
    allowed = ", ".join(p.text for p in rule.actors)
    out = []
    for use in uses:
        if use.io_kind != rule.io_kind:
            continue
        actor = nodes.get(use.actor, {"id": use.actor})
        boundary = nodes.get(use.boundary, {"id": use.boundary})
        if _best(rule.actors, actor) is not None or any(i.matches(actor, boundary) for i in rule.ignore):
            continue
        out.append(
            Violation(
                rule.name,
                use.actor,
                use.boundary,
                use.count,
                use.first_seen,
                f"{rule.io_kind} I/O outside the allowed actors ({allowed})",
                0,
                use.scenarios,
            )
        )
    return out
