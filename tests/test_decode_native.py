"""The decoder's loop in C (events/_decode.c) gives what its pure-Python twin (Decoder._chunk) gives.

Compared: every Event (types included: bool against int, None against 0), the decoder's whole state after the
pass (stacks, parked generators, counters, past-cap counts, endpoints and instance numbering, scenarios, end
record), and the artifacts written from it (trace.jsonl, snapshot.json, workflow.md, byte for byte). On real runs
(rich, jinja2, sqlparse, the examples, a pytest run, a program of threads, generators, exceptions and odd values)
from their raw records, and on random record streams that go where real runs rarely do (returns with no call,
frames unwound past, generators resumed on another thread or never parked, big and odd values, every cap). Either
loop takes over from the other at any record; a bad record raises the same error after the same work in both."""
from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from conftest import skeleton
from native_runs import record_kept, require_compiled

from skeleton_replay.capture import records as R
from skeleton_replay.capture.records import read_spill
from skeleton_replay.events import decode as decode_module
from skeleton_replay.events.decode import Decoder
from skeleton_replay.events.types import EXCEPTION, RESUME, YIELD, Event
from skeleton_replay.events.write_trace import end_record
from skeleton_replay.pipeline import from_spill

try:
    _decode: ModuleType | None = importlib.import_module("skeleton_replay.events._decode")
except ImportError:  # not compiled
    _decode = None

ARTIFACTS = ("trace.jsonl", "snapshot.json", "workflow.md")
RUN_END = {"duration_s": 1.0, "exit_code": 0, "status": "ok", "error": None, "gaps": []}


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The C loop is required wherever a C compiler is installed (a failed build must not pass)."""
    require_compiled(_decode, "events/_decode.c")
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    mod = decode_module._native_loop()
    assert mod is not None and mod is _decode
    return mod


Chunks = list[list[Any]]


def _decode_with(chunks: Chunks, cap: int, loop: Callable[[int], ModuleType | None]) -> tuple[Decoder, list[Event]]:
    """Decode chunk i with loop(i): the C module, or None for the Python loop."""
    d = Decoder(cap)
    events: list[Event] = []
    for i, chunk in enumerate(chunks):
        d._native = loop(i)
        for batch in d.batches([chunk]):
            events.extend(batch)
    return d, events


def _state(d: Decoder, cap: int) -> str:
    """Everything the decoder holds after the pass, as text (dict orders included)."""
    return repr((
        d.order, d.dropped, d.calls, d.unmatched, d.t0, d.last_t, d.max_depth, d.scenario,
        list(d.stacks.items()), list(d.parked.items()), list(d.thread_events.items()), sorted(d._named),
        list(d.thread_names.items()), list(d.dropped_calls.items()), list(d.dropped_raised.items()),
        d.scenarios, d.gaps, d.aggregates, list(d._endpoints.items()), list(d._instance_nodes.items()),
        d._class_counters, d.threads(), d.counted(), sorted(d.codes), d.open_frames(),
        end_record(RUN_END, d, cap),
    ))


def _events_text(events: list[Event]) -> str:
    assert all(type(e) is Event for e in events)
    return repr(events)


def _same_both_ways(chunks: Chunks, cap: int, native: ModuleType, seed: int = 0) -> list[Event]:
    """C, Python, and the two taking turns on pieces cut at random records: the same events and state."""
    d_py, ev_py = _decode_with(chunks, cap, lambda i: None)
    d_c, ev_c = _decode_with(chunks, cap, lambda i: native)
    want_events, want_state = _events_text(ev_py), _state(d_py, cap)
    assert _events_text(ev_c) == want_events
    assert _state(d_c, cap) == want_state
    # the same records packed as the spill stores them (capture/_rows.h): the C loop reads the rows in place
    d_packed, ev_packed = _decode_with([R.pack_records(c) for c in chunks], cap, lambda i: native)
    assert _events_text(ev_packed) == want_events
    assert _state(d_packed, cap) == want_state
    rng = random.Random(seed)
    pieces: Chunks = []
    for chunk in chunks:
        cuts = sorted(rng.sample(range(1, len(chunk)), min(len(chunk) - 1, 6))) if len(chunk) > 1 else []
        pieces += [chunk[a:b] for a, b in zip([0, *cuts], [*cuts, len(chunk)], strict=True)]
    first = rng.randrange(2)
    d_mix, ev_mix = _decode_with(pieces, cap, lambda i: native if (i + first) % 2 else None)
    assert _events_text(ev_mix) == want_events
    assert _state(d_mix, cap) == want_state
    return ev_py


# -- real runs -----------------------------------------------------------------------------------------------


# threads, generators handed from thread to thread, exceptions through frames, closes, odd and huge values
ODD = '''
import asyncio, threading

class Node:
    def __init__(self, value):
        self.value = value
    def grow(self, n):
        return [Node(self.value * 10**30 + i) for i in range(n)]

def numbers(n):
    try:
        for i in range(n):
            got = yield {"i": i, "big": 2**100 + i, "text": "\\u00e9\\ud800" * (i % 3), "f": 1e308 * i}
            if got == "stop":
                return "stopped"
    finally:
        pass

def fail(depth):
    if depth == 0:
        raise ValueError("x" * 5000)
    return fail(depth - 1)

def catch(depth):
    try:
        fail(depth)
    except ValueError as exc:
        return len(str(exc))

lock = threading.Lock()

def worker(gen, out):
    for _ in range(3):
        with lock:  # one generator, resumed from each thread in turn
            out.append(next(gen))
    out.append(catch(4))

async def ticks(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i

async def main():
    return [i async for i in ticks(4)]

shared = numbers(50)
next(shared)
out = []
threads = [threading.Thread(target=worker, args=(shared, out), name=f"w{k}") for k in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
shared.send("stop") if len(out) > 100 else shared.close()
closed = numbers(3)
next(closed)
closed.close()
for n in Node(1).grow(30):
    n.grow(1)
print(len(out), asyncio.run(main()), catch(30))
'''

REAL = ("rich", "jinja2-capped", "sqlparse", "hot_loop", "shop", "async_pipeline", "pytest-shop")  # record_kept
ODD_RUNS: dict[str, tuple[str, ...]] = {"odd": ("--max-events", "0"), "odd-capped": ("--max-events", "120")}


def _artifacts(run: Path, dest: Path, loop: ModuleType | None, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """The artifacts rebuilt from the run's raw records, with this decoder loop (every other C part off)."""
    header = orjson.loads((run / ".trace-header.json").read_bytes())
    end = orjson.loads((run / ".trace-end.json").read_bytes())
    with monkeypatch.context() as m:
        m.setenv("SKELETON_PURE_PYTHON", "1")
        m.setenv("SKELETON_SERIAL", "1")
        m.setattr(decode_module, "_native_loop", lambda: loop)
        dest.mkdir()
        from_spill(run / ".trace.spill", dest, header, end, header.get("options", {}).get("max_events", 0), False)
    return {name: (dest / name).read_bytes() for name in ARTIFACTS}


@pytest.mark.parametrize("name", sorted([*REAL, *ODD_RUNS]))
def test_real_runs_decode_the_same(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                   monkeypatch: pytest.MonkeyPatch, native: ModuleType, name: str) -> None:
    if name in ODD_RUNS:
        (tmp_path / "odd.py").write_text(ODD)
        run = tmp_path / name
        p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(run), *ODD_RUNS[name], str(tmp_path / "odd.py"),
                     env={"SKELETON_KEEP_SPILL": "1"})
        assert (run / "trace.jsonl").exists(), p.stdout + p.stderr
    else:
        run = record_kept(name, tmp_path_factory)
    cap = orjson.loads((run / ".trace-header.json").read_bytes()).get("options", {}).get("max_events", 0)
    chunks = list(read_spill(run / ".trace.spill"))
    events = _same_both_ways(chunks, cap, native)
    assert sum(e.order >= 0 for e in events) > 100
    want = _artifacts(run, tmp_path / "py", None, monkeypatch)
    assert _artifacts(run, tmp_path / "c", native, monkeypatch) == want
    if name.startswith("odd"):  # what the odd program is for: threads, parked generators, raises, the cap
        assert len({e.thread for e in events}) >= 4
        assert {YIELD, RESUME, EXCEPTION} <= {e.kind for e in events}


# -- random record streams -----------------------------------------------------------------------------------

KINDS = ("module_function", "instance_method", "class_method", "static_method")


def _code(i: int, again: bool = False) -> tuple[Any, ...]:
    """A DEF_CODE record; `again`: the index defined again, with or without arguments the other way round."""
    kind = KINDS[i % len(KINDS)]
    cls = None if kind == "module_function" else f"C{i % 3}"
    qual = f"{cls}.f{i}" if cls else f"f{i}"
    args = () if (i % 3 == 0) != again else ("a", "b")[: 1 + i % 2]
    return (R.DEF_CODE, (i, f"m{i % 2}", qual, f"f{i}", cls, f"m{i % 2}.py", i + 1, kind, i % 5 == 4, args,
                         "self" if kind == "instance_method" else None, i % 4 == 1, "harness" if i == 7 else None))


def _detail(rng: random.Random, kind: int) -> Any:
    r = rng.random()
    if r < 0.45:
        return None
    if kind == R.UNWIND:
        return {"type": rng.choice(["ValueError", "GeneratorExit", "KeyError"]), "message": "m" * rng.randrange(3)}
    return rng.choice([0, False, True, 2**64 + 1, -(2**70), 1.5, float("nan"), "", "\u00e9\ud800", b"x", (1, 2),
                       {"n": [1, {"deep": None}], "s": "x" * 1000}, {"type": "GeneratorExit"}, [], {}])


def _stream(seed: int, length: int = 1500) -> Chunks:
    """Records like a tracer's, and unlike: returns with no call, frames unwound past, yields without a frame key,
    resumes with no parked frame or on another thread, callers named by node keys, definitions, scenarios,
    boundaries and aggregates in between; times past 64 bits and receiver ids past 64 bits in some streams."""
    rng = random.Random(seed)
    codes = [*range(12), 1030, 2054, 3078]  # the last three share a slot of the C loop's caches with code 6
    base = rng.choice([10**18, 2**70, 0, 5])
    recs: list[Any] = [_code(i) for i in codes]
    recs += [(R.DEF_THREAD, 1, "MainThread"), (R.DEF_OBJECT, 1, "m0", "C0", False), (R.DEF_OBJECT, 2, "m1", "C1", True),
             (R.DEF_OBJECT, 3, "m0", "C2", None)]
    stacks: dict[int, list[tuple[int, Any]]] = {}
    parked: list[tuple[int, Any]] = []
    t = base
    fids = iter(range(1000, 10**6))
    for _ in range(length):
        t += rng.choice([0, 1, 7, 10**6, 2**40])
        tid = rng.choice([1, 1, 1, 2, 3, 2**63 + 5])
        stack = stacks.setdefault(tid, [])
        idx = rng.choice(codes)
        obj = rng.choice([0, 0, 1, 2, 3, 4, 1025, 2049, 2**64 + 9])
        r = rng.random()
        if r < 0.35 or not stack:
            fid = next(fids) if idx % 4 == 1 or rng.random() < 0.2 else None
            rec: tuple[Any, ...] = (R.CALL, idx, tid, t, _detail(rng, R.CALL), obj)
            if fid is not None or rng.random() < 0.1:
                rec += (fid,)
            if rng.random() < 0.05:
                rec = (*rec[:6], fid, rng.choice([R.MODULE_KEY, 3 * R.NODE_KEY_SPAN + 2, -1 - 5, 4]))
            stack.append((idx, fid))
        elif r < 0.6:
            idx, fid = stack.pop() if rng.random() < 0.9 else (rng.choice(codes), None)
            kind = rng.choice([R.RETURN, R.RETURN, R.UNWIND])
            rec = (kind, idx, tid, t, _detail(rng, kind), 0) + ((fid,) if fid is not None or rng.random() < 0.3 else ())
        elif r < 0.68 and len(stack) > 2:  # an exception unwinding past frames that recorded no exit
            depth = rng.randrange(len(stack) - 1)
            idx, fid = stack[depth]
            del stack[depth:]
            rec = (R.UNWIND, idx, tid, t, _detail(rng, R.UNWIND), 0) + ((fid,) if fid is not None else ())
        elif r < 0.78:
            idx, fid = stack.pop()
            rec = (R.YIELD, idx, tid, t, _detail(rng, R.YIELD), 0) + ((fid,) if fid is not None else ())
            parked.append((idx, fid))
        elif r < 0.88:
            if parked and rng.random() < 0.85:
                idx, fid = parked.pop(rng.randrange(len(parked)))
            else:
                fid = rng.choice([next(fids), None])
            rec = (R.RESUME, idx, tid, t, _detail(rng, R.RESUME), 0, fid)
            stack.append((idx, fid))
        elif r < 0.9:
            name = f"s{rng.randrange(3)}"
            rec = rng.choice([(R.SCENARIO, name, {"kind": "test", "file": "t.py", "line": 1}),
                              (R.SCENARIO_END, name, {"outcome": "passed", "duration_s": 0.1, "message": None})])
        elif r < 0.92:
            rec = rng.choice([(R.DEF_THREAD, tid, f"T{tid}"), (R.GAP, "other", "m", 1), _code(idx, rng.random() < 0.5),
                              (R.AGGREGATE, {((idx, 0), (1, 2)): 3, ((), (2, 0)): 1}, {((idx, 0), (1, 2)): 1}, None, 2),
                              (R.BOUNDARY, rng.randrange(5), idx, 0, "file", "/x", "read", None),
                              (R.BOUNDARY_COUNTS, {0: 2, 1: 1}), (-99, "a kind of record to come"), (-(2**70), 0)])
        else:
            rec = (rng.choice([R.RETURN, R.YIELD]), rng.choice(codes), tid, t, None, 0)  # no matching call
        recs.append(rec)
    size = rng.choice([50, 333, 10**6])
    return [recs[i:i + size] for i in range(0, len(recs), size)]


@pytest.mark.parametrize("seed", range(40))
def test_random_streams_decode_the_same(native: ModuleType, seed: int) -> None:
    chunks = _stream(seed)
    n_events = sum(1 for chunk in chunks for rec in chunk if rec[0] >= 0)
    for cap in (0, 1, 37, n_events // 2, 10**30, -3):
        events = _same_both_ways(chunks, cap, native, seed)
        if cap == 0:
            assert len(events) > 500
            assert any(e.call_id is None for e in events)  # a resume with no parked frame
            assert any(e.thread_name for e in events)


def test_the_loops_take_turns_record_by_record(native: ModuleType) -> None:
    chunks = _stream(99, length=600)
    records = [[rec] for chunk in chunks for rec in chunk]
    for cap in (0, 200):
        want_d, want = _decode_with(records, cap, lambda i: None)
        for turn in (lambda i: native if i % 2 else None, lambda i: native if i % 3 == 0 else None):
            d, got = _decode_with(records, cap, turn)
            assert _events_text(got) == _events_text(want) and _state(d, cap) == _state(want_d, cap)


def test_many_counted_edges_keep_their_order(native: ModuleType) -> None:
    """Calls and raises past the cap on ~2,000 distinct (caller, callee) pairs in one chunk, more than the C loop
    counts before adding them to the decoder's dicts, some on receivers redefined meanwhile: the same counts, in
    the same order, as the Python loop's call-by-call dict."""
    codes = list(range(40))
    recs: list[Any] = [_code(i) for i in codes] + [(R.DEF_THREAD, 1, "MainThread")]
    t = 10**18
    for outer in codes:
        for obj in range(2):
            for inner in codes:
                for rep in range(1 + (inner + obj) % 3):
                    t += 1
                    recs.append((R.CALL, outer, 1, t, None, obj))
                    recs.append((R.CALL, inner, 1, t, None, 5 + obj * 13 + inner))
                    kind = R.UNWIND if (inner + rep) % 4 == 0 else R.RETURN
                    detail = {"type": "ValueError", "message": "m"} if kind == R.UNWIND else None
                    recs.append((kind, inner, 1, t, detail, 0))
                    recs.append((R.RETURN, outer, 1, t, None, 0))
            if outer % 5 == 0:
                recs.append(_code(outer, again=True))
    d, _ = _decode_with([recs], 3, lambda i: None)
    assert len(d.dropped_calls) > 1024 and len(d.dropped_raised) > 300
    _same_both_ways([recs], 3, native)


# -- errors --------------------------------------------------------------------------------------------------

BAD = {
    "short record": (R.RETURN, 0, 1),
    "call without its receiver": (R.CALL, 2, 1, 10**18 + 50, None),
    "resume without a frame key": (R.RESUME, 1, 1, 10**18 + 50, None, 0),
    "unknown kind": (7, 1, 1, 10**18 + 50, None, 0),
    "a kind past 64 bits": (2**70, 1, 1, 10**18 + 50, None, 0),
    "undefined code": (R.CALL, 500, 1, 10**18 + 50, None, 0),
    "a time that is no number": (R.CALL, 1, 1, "later", None, 0),
    "unhashable frame key": (R.RESUME, 1, 1, 10**18 + 50, None, 0, [1]),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_record_fails_the_same_way(native: ModuleType, name: str) -> None:
    """The same exception, after the same events, leaving the same state (the Python loop's `finally`)."""
    good = _stream(5, length=200)[0][:120]
    chunk = [*good, BAD[name], *good[-5:]]
    got: list[tuple[type[BaseException], str, str, str]] = []
    for use in ("python", "c", "c-packed"):  # c-packed: the chunk as the spill stores it (a bad record is no row)
        d = Decoder(0)
        d._native = None
        before: list[Event] = []
        d._chunk(good[:20], before.append)  # state from a chunk before
        out: list[Event] = []
        with pytest.raises(Exception) as info:
            if use == "c":
                native.decode_chunk(d, chunk, out)
            elif use == "c-packed":
                native.decode_chunk(d, R.pack_records(chunk), out)
            else:
                d._chunk(chunk, out.append)
        got.append((info.type, str(info.value), _events_text(out), _state(d, 0)))
    assert got[1] == got[0]
    assert got[2] == got[0]
    assert len(got[0][2]) > 100  # events came before the bad record


def test_pure_python_switch(monkeypatch: pytest.MonkeyPatch, native: ModuleType) -> None:
    assert Decoder()._native is native
    monkeypatch.setenv("SKELETON_PURE_PYTHON", "1")
    assert Decoder()._native is None


# -- the C loop's caches, kept between calls -----------------------------------------------------------------


def test_a_decode_started_from_inside_another_decodes_the_same(native: ModuleType) -> None:
    """decode_chunk keeps its caches between calls; a call made while one runs (here from the Python callback of
    the first, at records that are no event) gets caches of its own: both decode as they do alone."""
    outer_chunks, inner_chunks = _stream(11, length=400), _stream(12, length=300)
    want_outer, want_outer_events = _decode_with(outer_chunks, 0, lambda i: None)
    want_inner, want_inner_events = _decode_with(inner_chunks, 0, lambda i: None)
    inner = Decoder(0)
    inner._native = native
    inner_events: list[Event] = []
    pending = [rec for chunk in inner_chunks for rec in chunk]
    nested = [0]

    def inner_part(n: int) -> None:
        part = [pending.pop(0) for _ in range(min(n, len(pending)))]
        for batch in inner.batches([part]):
            inner_events.extend(batch)

    class Nesting(Decoder):
        def _meta(self, rec: tuple[Any, ...], order: int, scen: str | None) -> str | None:
            if pending:  # a piece of the inner stream, in the middle of the outer chunk
                inner_part(40)
                nested[0] += 1
            return super()._meta(rec, order, scen)

    outer = Nesting(0)
    outer._native = native
    outer_events = [e for batch in outer.batches(outer_chunks) for e in batch]
    assert nested[0] >= 3
    inner_part(len(pending))  # the rest of it, if any
    assert _events_text(outer_events) == _events_text(want_outer_events)
    assert _state(outer, 0) == _state(want_outer, 0)
    assert _events_text(inner_events) == _events_text(want_inner_events)
    assert _state(inner, 0) == _state(want_inner, 0)


def test_the_kept_caches_hold_no_endpoint_after_a_call(native: ModuleType) -> None:
    """The caches kept for the next call let go of the endpoints they held (they keep int objects only): after
    the pass every endpoint has the references it has after the Python loop's."""
    import sys

    chunks = _stream(21, length=500)
    d_py, ev_py = _decode_with(chunks, 0, lambda i: None)
    d_c, ev_c = _decode_with([R.pack_records(c) for c in chunks], 0, lambda i: native)
    del ev_py, ev_c
    assert len(d_c._endpoints) > 10
    assert [sys.getrefcount(ep) for ep in d_c._endpoints.values()] == [
        sys.getrefcount(ep) for ep in d_py._endpoints.values()
    ]
