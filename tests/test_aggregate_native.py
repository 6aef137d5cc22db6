"""The snapshot model's loop in C (model/_aggregate.c) leaves the state its pure-Python twin leaves.

Both twins get the same events (real runs read back from their raw records and from trace.jsonl, and random
event streams with threads, generators, exceptions, odd summaries, huge values and events past the cap); the
snapshot each builds is compared byte for byte, as orjson writes snapshot.json."""
from __future__ import annotations

import importlib
import random
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import orjson
import pytest
from native_runs import record_kept, require_compiled

from skeleton_replay.capture.records import read_spill
from skeleton_replay.events.decode import Decoder
from skeleton_replay.events.jsonl import read_trace
from skeleton_replay.events.types import CALL, EXCEPTION, RESUME, RETURN, YIELD, Endpoint, Event
from skeleton_replay.events.write_trace import end_record
from skeleton_replay.model.build import SnapshotBuilder

_aggregate: ModuleType | None
try:
    _aggregate = importlib.import_module("skeleton_replay.model._aggregate")
except ImportError:  # not compiled
    _aggregate = None

Counted = tuple[Endpoint | None, Endpoint, int, int, str | None]


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch) -> None:
    """The C loop is required wherever a C compiler is installed (a failed build must not pass)."""
    require_compiled(_aggregate, "model/_aggregate.c")
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)


def _build(header: dict[str, Any], batches: list[list[Event]], counted: list[Counted], end: dict[str, Any],
           pure: bool, monkeypatch: pytest.MonkeyPatch, duration_s: float | None = None,
           stays_native: bool = True) -> bytes:
    with monkeypatch.context() as m:
        if pure:
            m.setenv("SKELETON_PURE_PYTHON", "1")
        else:
            m.delenv("SKELETON_PURE_PYTHON", raising=False)
        builder = SnapshotBuilder(header, duration_s)
    assert (builder._c is None) is pure
    for batch in batches:
        builder.add_batch(batch)
    if not pure:
        assert (builder._c is not None) is stays_native  # the C loop did the work (or handed over on purpose)
    for caller, callee, count, raised, scenario in counted:
        builder.add_counted(caller, callee, count, raised, scenario)
    snap = builder.snapshot(end, end.get("threads", []), end.get("gaps", []), end.get("dropped_events", 0))
    return orjson.dumps(snap)


def _same(header: dict[str, Any], events: list[Event], monkeypatch: pytest.MonkeyPatch,
          counted: list[Counted] = (), end: dict[str, Any] | None = None, **kw: Any) -> bytes:  # type: ignore[assignment]
    """The C loop, in batches of several sizes, builds the pure-Python snapshot byte for byte."""
    end = end or {"status": "ok", "exit_code": 0, "duration_s": 1.0}
    want = _build(header, [events], list(counted), end, True, monkeypatch, **kw)
    for size in (8192, 1, 7):
        batches = [events[i : i + size] for i in range(0, len(events), size)]
        got = _build(header, batches, list(counted), end, False, monkeypatch, **kw)
        if got != want:  # a readable first difference
            g, w = orjson.loads(got), orjson.loads(want)
            for key in w:
                assert g.get(key) == w[key], (key, size)
        assert got == want, size
    return want


# -- real programs -------------------------------------------------------------------------------------------


REAL = ("rich", "jinja2", "jinja2-capped", "hot_loop", "shop", "async_pipeline", "pytest-shop")


def _check_run(out: Path, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """From a run's kept raw records, rebuild the snapshot both ways (as `skeleton run` does) and from its
    trace.jsonl (as `skeleton report` does); the C build of each is compared with the Python one."""
    header = orjson.loads((out / ".trace-header.json").read_bytes())
    run_end = orjson.loads((out / ".trace-end.json").read_bytes())
    with monkeypatch.context() as m:  # the decoder's own C twin is another lane's: keep it out of the comparison
        m.setenv("SKELETON_PURE_PYTHON", "1")
        decoder = Decoder(header.get("options", {}).get("max_events", 0))
    events = [e for batch in decoder.batches(read_spill(out / ".trace.spill")) for e in batch]
    counted = decoder.counted()
    end = end_record(run_end, decoder, header.get("options", {}).get("max_events", 0))
    assert len(events) > 150
    spill_snap = _same(header, events, monkeypatch, counted, end, duration_s=run_end.get("duration_s"))
    contents, trace_events = read_trace(out / "trace.jsonl")
    listed = list(trace_events)
    assert contents.end is not None
    trace_counted = [(Endpoint.from_json(c["caller"]) if c["caller"] is not None else None,
                      Endpoint.from_json(c["callee"]), c["calls"], c["raised"], c.get("scenario"))
                     for c in contents.end.get("counted", ())]
    _same(contents.header, listed, monkeypatch, trace_counted, contents.end, duration_s=run_end.get("duration_s"))
    return spill_snap


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_programs_give_the_same_snapshot(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                                              native: None, name: str) -> None:
    snap = orjson.loads(_check_run(record_kept(name, tmp_path_factory), monkeypatch))
    assert snap["stats"]["calls"] > 20 and snap["steps"]["count"] > 100
    if name == "pytest-shop":
        assert snap["scenarios"] and any(n.get("scenarios") for n in snap["nodes"])
    if name == "jinja2-capped":
        assert snap["stats"]["recorded_events"] == 300 and snap["stats"]["calls"] * 2 > 300


# -- random event streams ------------------------------------------------------------------------------------

HEADER = {"app_name": "odd", "python_version": "3.x", "project_root": "/p"}


def _endpoints(n: int) -> list[Endpoint]:
    eps: list[Endpoint] = []
    for k in range(n):
        mod = f"pkg.m{k % 9}" if k % 4 else f"m{k % 5}"
        if k % 3 == 0:  # a method on one of a few instances
            inst = f"{mod}.C{k % 4}#{k % 6}"
            eps.append(Endpoint(f"meth:{inst}.f{k}", mod, f"C{k % 4}", f"f{k}", f"C{k % 4}.f{k}", "/p/x.py", k,
                                "instance_method", k % 6, False, f"inst:{inst}", f"C{k % 4}#{k % 6}"))
        elif k % 7 == 0:  # a class method, its role set: test code
            eps.append(Endpoint(f"clsm:{mod}.K.g{k}", mod, "K", f"g{k}", f"K.g{k}", "/p/y.py", k, "classmethod", None,
                                True, f"cls:{mod}.K", "K", "harness"))
        else:
            eps.append(Endpoint(f"fn:{mod}.f{k}", mod, None, f"f{k}", f"f{k}", "/p/z.py", k, "function", None))
    return eps


ODD_VALUES: list[Any] = [
    None, {}, {"a": {"type": "int", "value": "1"}}, {"x" * 5000: {"type": "str", "value": "\u2028<script>" * 300}},
    {"type": "str", "value": ""}, {"n": {"type": "float", "value": "nan"}}, [1, [2, [3]]], "plain", 0, 1.5,
]
RAISES: list[Any] = [
    {"type": "ValueError", "message": {"type": "str", "value": "bad"}}, {"type": "GeneratorExit", "message": None},
    None, {}, {"type": "KeyError"},
]


def _stream(seed: int, n: int, n_eps: int = 60, cap: int | None = None, odd: bool = True) -> list[Event]:
    """A plausible run: nested calls in three threads, generators parked and resumed (some from calls never
    recorded), exceptions and closes, scenarios switching, odd depths, threads and times; past `cap` events are
    kept with order -1 as the model's input allows."""
    rng = random.Random(seed)
    eps = _endpoints(n_eps)
    twins = {i: Endpoint(**{f: getattr(eps[i], f) for f in Endpoint.__dataclass_fields__}) for i in range(0, n_eps, 5)}
    stacks: dict[int, list[list[Any]]] = {1: [], 2: [], 70_000: []}  # [endpoint, call order, generator?]
    parked: list[list[Any]] = []
    out: list[Event] = []
    order = 0
    t = 0
    scen: str | None = None
    for _ in range(n):
        tid = rng.choice(list(stacks))
        stack = stacks[tid]
        t += rng.choice((1, 10, 999, 5_000_000))
        if odd and rng.random() < 0.003:
            t += 5_000_000_000_000_000  # past what the u32 time column holds
        if rng.random() < 0.01:
            scen = rng.choice((None, "test_a", "test_b", "test_c"))
        recorded = cap is None or order < cap
        eo = order if recorded else -1
        depth = len(stack) + (70_000 if odd and rng.random() < 0.01 else 0)
        caller = stack[-1][0] if stack else None
        r = rng.random()
        if not stack or r < 0.45:
            k = rng.randrange(n_eps)
            callee = twins.get(k, eps[k]) if rng.random() < 0.5 else eps[k]
            detail = rng.choice(ODD_VALUES)
            out.append(Event(eo, CALL, eo, t, depth, tid, caller, callee, detail, rng.random() < 0.2,
                             None, 0, scen))
            stack.append([callee, eo, rng.random() < 0.3])
        elif r < 0.55 and parked:
            frame = parked.pop(rng.randrange(len(parked)))
            out.append(Event(eo, RESUME, frame[1], t, depth, tid, caller, frame[0], None, False, None, 0, scen))
            stack.append(frame)
        elif r < 0.58:  # a generator whose call was not recorded
            callee = eps[rng.randrange(n_eps)]
            out.append(Event(eo, RESUME, None, t, depth, tid, caller, callee, None, False, None, 0, scen))
            stack.append([callee, None, True])
        else:
            frame = stack.pop()
            depth = len(stack) + (70_000 if odd and rng.random() < 0.01 else 0)
            caller = stack[-1][0] if stack else None
            ns = rng.choice((0, 7, 1_000, 10**9, 10**15))
            cid = frame[1] if recorded else -1
            if frame[2] and rng.random() < 0.6:
                out.append(Event(eo, YIELD, cid, t, depth, tid, caller, frame[0], rng.choice(ODD_VALUES), False,
                                 None, 0, scen))
                parked.append(frame)
            elif rng.random() < 0.25:
                out.append(Event(eo, EXCEPTION, cid, t, depth, tid, caller, frame[0], rng.choice(RAISES), False,
                                 None, ns, scen))
            else:
                out.append(Event(eo, RETURN, cid, t, depth, tid, caller, frame[0], rng.choice(ODD_VALUES), False,
                                 None, ns, scen))
        if recorded:
            order += 1
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_streams_give_the_same_snapshot(monkeypatch: pytest.MonkeyPatch, native: None, seed: int) -> None:
    events = _stream(seed, 6000)
    eps = _endpoints(60)
    counted: list[Counted] = [(None, eps[1], 3, 1, None), (eps[2], eps[5], 10, 0, "test_b"),
                              (eps[7], eps[11], 2, 2, "test_z"), (eps[2], eps[5], 1, 0, "test_a")]
    end = {"status": "ok", "exit_code": 0, "duration_s": 2.0,
           "scenarios": [{"name": "test_b", "kind": "test", "outcome": "passed"}]}
    snap = orjson.loads(_same(HEADER, events, monkeypatch, counted, end, duration_s=1e-3))
    kinds = snap["steps"]["kinds"]
    assert snap["steps"]["count"] == len(events) and set(kinds) == {"call", "return", "exception", "yield", "resume"}
    assert any(n.get("raised") for n in snap["nodes"]) and any(e["examples"] for e in snap["edges"])
    assert len(snap["scenarios"]) == 4 and snap["module_edges"]


@pytest.mark.parametrize("seed", range(3))
def test_events_past_the_cap_give_the_same_snapshot(monkeypatch: pytest.MonkeyPatch, native: None, seed: int) -> None:
    events = _stream(100 + seed, 5000, cap=1500)
    assert sum(e.order < 0 for e in events) > 2000
    snap = orjson.loads(_same(HEADER, events, monkeypatch, end={"status": "ok", "duration_s": 1.0}))
    assert snap["steps"]["count"] == 1500 and any(e["raised"] for e in snap["edges"])


def test_many_endpoints_and_twins_give_the_same_snapshot(monkeypatch: pytest.MonkeyPatch, native: None) -> None:
    """More endpoints than the C loop's endpoint cache holds (collisions, evictions), and equal endpoints that
    are distinct objects."""
    events = _stream(7, 40_000, n_eps=6000, odd=False)
    snap = orjson.loads(_same(HEADER, events, monkeypatch))
    assert len(snap["nodes"]) > 4096


def test_a_batch_the_c_loop_does_not_take_hands_the_run_over(monkeypatch: pytest.MonkeyPatch, native: None) -> None:
    """A hand-edited trace.jsonl can carry a float duration or order: the C loop hands that batch and the rest of
    the run (open calls included) to the Python loop, and the snapshot is the one Python builds."""
    events = _stream(3, 3000, odd=False)
    k = next(i for i in range(1500, 3000) if events[i].kind == RETURN and events[i].call_id is not None)
    events[k] = events[k]._replace(ns=cast(Any, 1.5))
    with monkeypatch.context() as m:
        m.setenv("SKELETON_PURE_PYTHON", "1")
        pure = SnapshotBuilder(HEADER)
    native_builder = SnapshotBuilder(HEADER)
    assert native_builder._c is not None
    end = {"status": "ok", "duration_s": 1.0}
    for b in (pure, native_builder):
        for i in range(0, len(events), 1000):
            b.add_batch(events[i : i + 1000])
    assert native_builder._c is None  # handed over at the batch with the float
    got, want = (orjson.dumps(b.snapshot(end, [], [], 0)) for b in (native_builder, pure))
    assert got == want and b"1.5" in got


@pytest.mark.parametrize("field,value", [("depth", -1), ("thread", -3), ("call_id", 2**32), ("t_ns", -5)])
def test_values_the_columns_cannot_hold_fail_alike(monkeypatch: pytest.MonkeyPatch, native: None, field: str,
                                                   value: int) -> None:
    events = _stream(5, 200, odd=False)
    events[150] = events[150]._replace(**cast(dict[str, Any], {field: value}))
    errors = []
    for pure in (True, False):
        with monkeypatch.context() as m:
            m.setenv("SKELETON_PURE_PYTHON", "1" if pure else "0")
            b = SnapshotBuilder(HEADER)
        with pytest.raises(OverflowError) as err:
            b.add_batch(events)
        errors.append(type(err.value))
    assert errors[0] is errors[1]


@pytest.mark.parametrize("seed", range(4))
def test_counted_rows_in_one_list_give_the_same_snapshot(monkeypatch: pytest.MonkeyPatch, native: None,
                                                         seed: int) -> None:
    """add_counted_all over one list (the pipeline's call: model/_aggregate.c add_counted) builds what the
    Python loop builds: new and known nodes and edges, an edge met in several scenarios, in scenarios its
    recorded events already put on its list, raised counts, zero counts, rows without a scenario; and a list
    the C loop does not take (a float count) goes to the Python loop."""
    rng = random.Random(seed)
    events = _stream(200 + seed, 3000)
    eps = _endpoints(90)
    names = [None, "test_a", "test_b", "test_c", "test_d"]
    rows: list[Counted] = []
    for _ in range(400):
        caller = None if rng.random() < 0.1 else rng.choice(eps)
        rows.append((caller, rng.choice(eps), rng.choice((0, 1, 2, 7, 100)), rng.choice((0, 0, 0, 1, 3)),
                     rng.choice(names)))
    rows.sort(key=lambda r: str(r[4]))  # grouped by scenario, as decoder.counted() mostly gives them
    end = {"status": "ok", "exit_code": 0, "duration_s": 2.0,
           "scenarios": [{"name": "test_c", "kind": "test", "outcome": "passed"}]}

    def build(pure: bool, counted: list[Any]) -> tuple[bytes, SnapshotBuilder]:
        with monkeypatch.context() as m:
            if pure:
                m.setenv("SKELETON_PURE_PYTHON", "1")
            builder = SnapshotBuilder(HEADER, 1e-3)
        for i in range(0, len(events), 500):
            builder.add_batch(events[i : i + 500])
        builder.add_counted_all(list(counted))
        builder.add_counted_all(list(counted[:50]))  # again: every node and edge known, lists already hold them
        snap = builder.snapshot(end, [], [], 0)
        return orjson.dumps(snap), builder

    want, pure = build(True, rows)
    got, native_builder = build(False, rows)
    assert native_builder._c is not None and got == want
    assert (native_builder.counted_calls, native_builder.calls) == (pure.counted_calls, pure.calls)
    odd = [*rows[:10], (rows[10][0], rows[10][1], cast(Any, 2.0), 0, "test_a"), *rows[11:]]
    got, _ = build(False, odd)
    assert got == build(True, odd)[0]


def test_edge_ids_of_nodes_named_beyond_ascii_are_the_python_ones(monkeypatch: pytest.MonkeyPatch, native: None) -> None:
    """make_edge writes an edge's id itself (source->target, not through PyUnicode_FromFormat): ids with
    Latin-1, BMP and astral characters give the Python builder's snapshot, each id a plain str equal to it."""
    names = ["plain", "caf\u00e9", "\u20ac_euro", "emoji_\U0001F600", "mixed_\u00e9\U0001F600"]
    eps = [Endpoint(f"fn:m.{n}:f{k}", f"m.{n}", None, f"f{k}", f"f{k}", "/p/z.py", k, "function", None)
           for k, n in enumerate(names)]
    rows: list[Counted] = [(a, b, 1, 0, "test_\u00e9") for a in [None, *eps] for b in eps]

    def build(pure: bool) -> tuple[bytes, SnapshotBuilder]:
        with monkeypatch.context() as m:
            if pure:
                m.setenv("SKELETON_PURE_PYTHON", "1")
            builder = SnapshotBuilder(HEADER, 1e-3)
        builder.add_counted_all(list(rows))
        return orjson.dumps(builder.snapshot({"status": "ok", "exit_code": 0}, [], [], 0)), builder

    want, _ = build(True)
    got, builder = build(False)
    assert builder._c is not None and got == want
    edges = orjson.loads(got)["edges"]
    assert len(edges) == len(rows)
    for e in edges:
        assert e["id"] == f"{e['source']}->{e['target']}"
    ids = [e["id"] for e in builder.edges]
    assert all(type(i) is str and i == i.encode("utf-8").decode("utf-8") for i in ids)
