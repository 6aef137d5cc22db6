"""The call tree's loop in C (model/_calltree.c) builds the tree its pure-Python twin builds.

Both twins get the same events (from real runs, adversarial programs and random event streams); their trees
are compared entry by entry (every attribute, the fold signatures included, and the tree's counters), and
workflow.md rendered from each is compared byte for byte."""
from __future__ import annotations

import importlib
import random
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import skeleton
from native_runs import record_kept, require_compiled

from skeleton_replay.events.jsonl import read_trace
from skeleton_replay.events.types import CALL, EXCEPTION, RESUME, RETURN, YIELD, Endpoint, Event
from skeleton_replay.model.calltree import CallNode, CallTree
from skeleton_replay.render.workflow import render_workflow

_calltree: Any
try:
    _calltree = importlib.import_module("skeleton_replay.model._calltree")
except ImportError:  # not compiled
    _calltree = None



@pytest.fixture
def c_tree(monkeypatch: pytest.MonkeyPatch) -> type[CallTree]:
    """CallTree with its C loop: required wherever a C compiler is installed (a failed build must not pass)."""
    require_compiled(_calltree, "model/_calltree.c")
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    return CallTree


def _build(events: list[Event], pure: bool, batch: int, monkeypatch: pytest.MonkeyPatch, **kw: int) -> CallTree:
    with monkeypatch.context() as m:
        if pure:
            m.setenv("SKELETON_PURE_PYTHON", "1")
        else:
            m.delenv("SKELETON_PURE_PYTHON", raising=False)
        tree = CallTree(**kw)
    assert (tree._native is None) is pure
    for i in range(0, len(events), batch):
        tree.add_batch(events[i : i + batch])
    return tree


def _dump(tree: CallTree) -> dict[str, Any]:
    """Everything the tree holds; the entries of each thread in preorder with their depth (holders by order)."""

    def entries(root: Any) -> list[tuple[int, dict[str, Any]]]:
        out, todo = [], [(root, 0)]
        while todo:  # not recursive: trees 3,000 deep
            n, depth = todo.pop()
            assert isinstance(n, CallNode if tree._native is None else _calltree.Node)
            holder = n.holder
            out.append((depth, {
                "node_id": n.node_id, "order": n.order, "last_order": n.last_order, "args": n.args,
                "outcome": n.outcome, "detail": n.detail, "count": n.count, "sig": n.sig, "yields": n.yields,
                "cut": n.cut, "scenario": n.scenario, "size": n.size, "start": n.start, "kept_below": n.kept_below,
                "paused": n.paused, "key": n.key, "ids": sorted(n.ids) if n.ids is not None else None,
                "instances": n.instances, "label": n.label, "holder": None if holder is None else holder.order,
            }))
            todo.extend((c, depth + 1) for c in reversed(n.children))
        return out

    threads = tree.threads()
    return {
        "threads": [(tid, entries(root)) for tid, root in threads],
        "kept": tree.kept, "cut": tree.cut, "calls": dict(sorted(tree.calls.items())),
        "last": dict(sorted(tree.last.items())),
        "open": {k: (n.order, n.outcome, n.size, n.yields) for k, n in tree.open_calls.items()},
        "stacks": {t: [n.order for n in s] for t, s in sorted(tree.stacks.items())},
    }


def _same_trees(events: list[Event], monkeypatch: pytest.MonkeyPatch, snapshot: dict[str, Any] | None = None,
                **kw: int) -> CallTree:
    """The C loop, in batches of several sizes, builds the pure-Python tree; workflow.md renders the same."""
    pure = _build(events, True, 8192, monkeypatch, **kw)
    want = _dump(pure)
    c_tree = None
    for batch in (8192, 1, 7):
        c_tree = _build(events, False, batch, monkeypatch, **kw)
        got = _dump(c_tree)
        for key in want:  # a readable first difference
            assert got[key] == want[key], (key, batch)
    assert c_tree is not None
    if snapshot is not None:
        assert render_workflow(snapshot, c_tree).encode() == render_workflow(snapshot, pure).encode()
    return c_tree


def _run(tmp_path: Path, name: str, *args: str) -> tuple[list[Event], dict[str, Any]]:
    out = tmp_path / name
    p = skeleton(*args[:1], "--no-open", "--no-html", "--out-dir", str(out), *args[1:])
    assert (out / "trace.jsonl").exists(), p.stdout + p.stderr
    return _read(out)


def _read(out: Path) -> tuple[list[Event], dict[str, Any]]:
    _, events = read_trace(out / "trace.jsonl")
    return list(events), orjson.loads((out / "snapshot.json").read_bytes())


# -- real programs ---------------------------------------------------------------------------------------------

REAL = ("rich", "jinja2", "hot_loop", "shop", "async_pipeline")


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_programs_give_the_same_tree(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                                          c_tree: Any, name: str) -> None:
    events, snapshot = _read(record_kept(name, tmp_path_factory))
    assert len(events) > 150
    _same_trees(events, monkeypatch, snapshot)
    _same_trees(events, monkeypatch, snapshot, budget=40, per_root=9)  # most calls past the budget


def test_a_pytest_run_with_scenarios_gives_the_same_tree(tmp_path_factory: pytest.TempPathFactory,
                                                         monkeypatch: pytest.MonkeyPatch, c_tree: Any) -> None:
    events, snapshot = _read(record_kept("pytest-shop", tmp_path_factory))  # examples/shop's tests
    assert any(e.scenario for e in events)
    tree = _same_trees(events, monkeypatch, snapshot)
    assert any(c.scenario for _, root in tree.threads() for c in root.children)


# -- adversarial programs ---------------------------------------------------------------------------------------

ODD = textwrap.dedent('''
    import sys, threading

    class Cell:
        def __init__(self, v):
            self.v = v
        def value(self):
            return self.v
        def gen(self, n):
            for i in range(n):
                yield self.value() + i

    def boom(n):
        if n == 0:
            raise ValueError("deep " + "\\u2028<script>" * 50)
        return boom(n - 1)

    def catch(n):
        try:
            return boom(n)
        except ValueError as e:
            return str(e)

    def deep(n):
        return 0 if n == 0 else 1 + deep(n - 1)

    def odd(*args, **kwargs):
        return {"k" * 300: list(range(500)), "\\x00nul": b"\\xff" * 40, 1.5: None, (1, 2): "tuple key"}

    def worker(cells, gens):
        for c in cells:
            c.value()
        for g in gens:  # generators made in another thread, resumed here
            next(g, None)
        catch(3)

    def main():
        cells = [Cell(i) for i in range(60)]
        for c in cells:  # one method on many instances: folds with ids
            c.value()
        gens = [c.gen(3) for c in cells[:10]]
        for g in gens:
            next(g)
        left_open = cells[0].gen(5)
        next(left_open)  # never finished
        threads = [threading.Thread(target=worker, args=(cells[k::3], gens[k::3])) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for g in gens:
            g.close()
        for n in range(5):
            catch(n)
        odd("x" * 100_000, [[[[[]]]]], {"a": {"b": {"c": 1}}}, None, float("nan"))
        sys.setrecursionlimit(10_000)
        deep(3_000)
        for i in range(200):
            deep(i % 4)
        return left_open

    main()
''')


@pytest.mark.parametrize("cap", ["0", "200000", "700", "40"])
def test_threads_generators_exceptions_odd_summaries_and_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  c_tree: Any, cap: str) -> None:
    (tmp_path / "app.py").write_text(ODD, "utf-8")
    events, snapshot = _run(tmp_path, "out", "run", "--max-events", cap, "--project-root", str(tmp_path),
                            str(tmp_path / "app.py"))
    _same_trees(events, monkeypatch, snapshot)
    for budget, per_root in ((6, 6), (50, 3), (400, 100), (1, 0)):
        _same_trees(events, monkeypatch, snapshot, budget=budget, per_root=per_root)
    if cap == "0":
        assert len({e.thread for e in events}) == 4 and any(e.kind == EXCEPTION for e in events)
        assert any(e.kind == RESUME for e in events)


# -- random event streams ---------------------------------------------------------------------------------------

def _endpoint(node_id: str) -> Endpoint:
    return Endpoint(node_id, "m", None, "f", "f", "m.py", 1, "function", None)


def _random_events(seed: int, n: int) -> list[Event]:
    """Calls, returns, exceptions, yields and resumes in a few threads, with unknown, None and stale call ids,
    events past the cap (order -1) and a few instance methods (fold by key)."""
    rnd = random.Random(seed)
    ids = [_endpoint(x) for x in ("fn:m:a", "fn:m:b", "meth:m.C#1.run", "meth:m.C#2.run", "meth:m.C#*.run")]
    opened: dict[int, list[int]] = {1: [], 2: [], 3: []}
    suspended: list[int] = []
    events: list[Event] = []
    order = 0
    call_id: int | None
    detail: Any
    for _ in range(n):
        tid = rnd.choice((1, 1, 1, 2, 3))
        stack = opened[tid]
        r = rnd.random()
        scenario = rnd.choice((None, None, "t1", "t2"))
        if r < 0.45 or (not stack and r < 0.8):
            kind, call_id, detail = CALL, order, rnd.choice(({"x": "1"}, {"y": [1, 2]}, {}))
            stack.append(order)
            callee = rnd.choice(ids)
        elif r < 0.8:
            kind = rnd.choice((RETURN, RETURN, RETURN, EXCEPTION, YIELD))
            call_id = stack.pop() if rnd.random() < 0.9 else stack.pop(rnd.randrange(len(stack)))
            if kind == YIELD:
                suspended.append(call_id)
            detail, callee = rnd.choice((None, "'v'", {"type": "ValueError", "message": "m"})), ids[0]
        elif r < 0.9 and suspended:
            kind, call_id, detail, callee = RESUME, suspended.pop(rnd.randrange(len(suspended))), None, ids[0]
            stack.append(call_id)
        else:
            kind, detail, callee = rnd.choice((RETURN, RESUME, YIELD)), None, ids[1]
            call_id = rnd.choice((None, -1, 10**9, order))  # unknown, stale or not recorded
        past_cap = rnd.random() < 0.03
        events.append(Event(-1 if past_cap else order, kind, call_id, 0, len(stack), tid, None, callee, detail,
                            False, None, 0, scenario))
        order += 0 if past_cap else 1
    return events


@pytest.mark.parametrize("seed", range(12))
def test_random_event_streams_give_the_same_tree(monkeypatch: pytest.MonkeyPatch, c_tree: Any, seed: int) -> None:
    events = _random_events(seed, 3000)
    for budget, per_root in ((20_000, 5_000), (30, 10), (5, 100), (0, 0)):
        _same_trees(events, monkeypatch, budget=budget, per_root=per_root)


def test_a_recursion_100_000_deep_is_built_and_freed(monkeypatch: pytest.MonkeyPatch, c_tree: Any) -> None:
    depth = 100_000
    f = _endpoint("fn:m:deep")
    calls = [Event(i, CALL, i, 0, i, 1, None, f, None, False) for i in range(depth)]
    returns = [Event(depth + i, RETURN, depth - 1 - i, 0, 0, 1, None, f, None, False) for i in range(depth)]
    chains = []
    for pure in (True, False):
        tree = _build(calls + returns, pure, 8192, monkeypatch, budget=depth, per_root=depth)
        (_, n), = tree.threads()
        chain = []
        while n.children:
            (n,) = n.children
            chain.append((n.order, n.last_order, n.size, n.sig, n.outcome))
        chains.append((tree.kept, chain))
        del tree, n  # freed without a deep C recursion (the trashcan)
    assert chains[0] == chains[1] and len(chains[0][1]) == depth and chains[0][1][0][2] == depth


def test_wide_subtrees_fold(monkeypatch: pytest.MonkeyPatch, c_tree: Any) -> None:
    """Two equal calls of 500 distinct leaves each: the second folds into the first, all its 501 entries off."""
    wide, leaves = _endpoint("fn:m:wide"), [_endpoint(f"fn:m:leaf{k}") for k in range(500)]
    events: list[Event] = []
    for _ in range(2):
        start = len(events)
        events.append(Event(start, CALL, start, 0, 0, 1, None, wide, None, False))
        for leaf in leaves:
            n = len(events)
            events += [Event(n, CALL, n, 0, 1, 1, None, leaf, None, False),
                       Event(n + 1, RETURN, n, 0, 1, 1, None, leaf, None, False)]
        events.append(Event(len(events), RETURN, start, 0, 0, 1, None, wide, None, False))
    tree = _same_trees(events, monkeypatch)
    (_, root), = tree.threads()
    (entry,) = root.children
    assert (entry.count, entry.size, len(entry.children), tree.kept) == (2, 1002, 500, 501)


# -- the C entries behave as CallNode for the tree's readers ------------------------------------------------------

def test_c_entries_read_and_write_as_callnode(c_tree: Any) -> None:
    n = _calltree.Node("meth:m.C#3.run", 5, {"x": "1"})
    p = CallNode("meth:m.C#3.run", 5, {"x": "1"})
    for name in CallNode.__slots__:
        assert getattr(n, name) == getattr(p, name), name
    assert (n.instances, n.label) == (p.instances, p.label) == (1, "meth:m.C#3.run")
    n.ids = p.ids = {"meth:m.C#3.run", "meth:m.C#4.run"}
    assert n.instances == 2 and n.label == p.label == "C ×2 .run"
    n.node_id, n.scenario, n.detail, n.args = "poisoned`", "<s>", {"a": 1}, None  # what the hostile tests do
    assert (n.node_id, n.scenario, n.detail, n.args) == ("poisoned`", "<s>", {"a": 1}, None)
    n.children.append(_calltree.Node("fn:m:a", 6, None))
    assert [c.order for c in n.children] == [6]
    with pytest.raises(TypeError):
        n.children = ()
    with pytest.raises(TypeError):
        n.count = "3"


def test_bad_events_raise_and_leave_the_counters_saved(monkeypatch: pytest.MonkeyPatch, c_tree: Any) -> None:
    f = _endpoint("fn:m:a")
    good = [Event(0, CALL, 0, 0, 0, 1, None, f, None, False), Event(1, CALL, 1, 0, 1, 1, None, f, None, False)]
    no_endpoint: Any = object()
    bad_order: Any = "x"
    bad_events: list[tuple[Any, type[Exception]]] = [
        ("not an event", TypeError),
        ((2, CALL, 2), TypeError),
        ((2, CALL, 2, 0, 0, 1, None), IndexError),
        (Event(2, CALL, 2, 0, 2, 1, None, no_endpoint, None, False), AttributeError),
        (Event(bad_order, CALL, 2, 0, 2, 1, None, f, None, False), TypeError),
    ]
    for bad, error in bad_events:
        counters: list[tuple[Any, ...]] = []
        for pure in (True, False):
            tree = _build([], pure, 1, monkeypatch)
            with pytest.raises(Exception) as raised:
                tree.add_batch([*good, bad])
            assert pure or raised.type is error
            counters.append((tree.kept, tree.cut, tree.calls, tree.last, len(tree.open_calls)))
        assert counters[0] == counters[1] and counters[1][0] == 2, bad
