"""trace.jsonl's lines written in C (events/_jsonw.c) are the bytes its pure-Python twin writes (orjson.dumps).

The encoder is compared with orjson value by value (timestamps, random floats, every code point, ints at the
64-bit edges, random nested summaries), and the writer line by line: on real runs (rich, jinja2, sqlparse and the
examples, from their raw records) and on odd events (odd types in summaries, lone surrogates, big ints, deep
nesting, threads, exceptions, the cap), where the C writer must hand over to the twin and end the same way."""
from __future__ import annotations

import importlib
import math
import random
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from native_runs import record_kept, require_compiled

from skeleton_replay.capture.records import read_spill
from skeleton_replay.events.decode import Decoder
from skeleton_replay.events.jsonl import TraceWriter
from skeleton_replay.events.types import CALL, EXCEPTION, RESUME, RETURN, YIELD, Endpoint, Event

try:
    _jsonw: ModuleType | None = importlib.import_module("skeleton_replay.events._jsonw")
except ImportError:  # not compiled
    _jsonw = None



@pytest.fixture
def jsonw(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The C writer is required wherever a C compiler is installed (a failed build must not pass)."""
    require_compiled(_jsonw, "events/_jsonw.c")
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    return _jsonw


# -- the encoder, value by value -----------------------------------------------------------------------------


def test_timestamps_as_orjson_writes_them(jsonw: ModuleType) -> None:
    rng = random.Random(16)
    values = [0, 1, 5, 9, 10, 999, 1000, 10**5, 10**9 - 1, 10**9, 10**9 + 1, 1_234_567_890, 8 * 10**15 - 1,
              8 * 10**15, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -1, -(10**9), -(2**63)]
    for exp in range(1, 64):  # every magnitude, then at random
        values += [rng.randrange(2**exp) for _ in range(2000)]
    values += [rng.randrange(8 * 10**15) for _ in range(50_000)]
    values += [rng.randrange(10**6) * 10**k for k in range(10) for _ in range(500)]  # trailing zeros
    for t in values:
        assert jsonw.timestamp(t) == orjson.dumps(t / 1e9), t
    with pytest.raises(OverflowError):  # as Python's own t_ns / 1e9
        jsonw.timestamp(10**400)


def _random_double(rng: random.Random) -> float:
    return float(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])


def test_floats_as_orjson_writes_them(jsonw: ModuleType) -> None:
    rng = random.Random(7)
    values = [0.0, -0.0, 1.0, -1.5, 1e-5, 5e-5, 1e-6, 1e-7, 1.5e-6, 9.99999e-6, 1e15, 9.999e15, 1e16, 1e22, 1e23,
              123456789012345678.0, 0.1, 0.3, 2.0**53, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
              math.nan, math.inf, -math.inf, math.pi, -math.e]
    values += [_random_double(rng) for _ in range(100_000)]
    values += [rng.random() * 10.0 ** rng.randint(-12, 20) for _ in range(50_000)]
    values += [round(rng.random(), rng.randint(0, 12)) * 10.0 ** rng.randint(-8, 17) for _ in range(50_000)]
    for v in values:
        assert jsonw.encode(v) == orjson.dumps(v), repr(v)


def test_strings_as_orjson_writes_them(jsonw: ModuleType) -> None:
    rng = random.Random(3)
    singles = [chr(c) for c in range(0x3000) if not 0xD800 <= c <= 0xDFFF]
    singles += [chr(c) for c in (0xE000, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF)]
    for s in singles:
        assert jsonw.encode(s) == orjson.dumps(s), hex(ord(s))
    pools = ["abc \"\\/\b\f\n\r\t\x00\x1f\x7f", "abcé\x80\xff", "aé\u2028\u2029€\ufffd", "a€😀\U0010ffff"]
    for _ in range(20_000):
        s = "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randrange(40)))
        assert jsonw.encode(s) == orjson.dumps(s), s
    assert jsonw.encode("") == b'""'
    assert jsonw.encode("a" * 100_000 + "\x01") == orjson.dumps("a" * 100_000 + "\x01")
    for lone in ("\ud800", "a\udfff", "€\udc80", "😀\ud83d"):  # orjson refuses them: the twin writes (or raises)
        assert jsonw.encode(lone) is None
        with pytest.raises(orjson.JSONEncodeError):
            orjson.dumps(lone)


def test_one_special_character_at_every_place_of_a_clean_run(jsonw: ModuleType) -> None:
    """Latin-1 strings are copied 8 bytes at a time while no byte needs escaping or encoding (_jsonfmt.h
    word_needs_work): a special byte at any offset, in any of the 8 lanes, next to bytes 0x1f-0x21 / 0x5b-0x5d
    (a word trick's borrows), must still come out as orjson writes it."""
    specials = ['"', "\\", "\x00", "\x1f", "\x7f", "\x80", "\xe9", "\xff", "\n", " ", "!", "#", "[", "]"]
    for n in range(0, 26):
        for k in range(n):
            for c in specials:
                for fill in ("a", "\x20", "\x5d", "\x01"):
                    s = fill * k + c + fill * (n - k - 1)
                    assert jsonw.encode(s) == orjson.dumps(s), (n, k, c, fill)
    rng = random.Random(8)
    pool = "abcdefgh !#[]{}~" * 8 + '"\\\x00\n\x1f\x7f\x80\xe9\xff'
    for _ in range(5_000):
        s = "".join(rng.choice(pool) for _ in range(rng.randrange(200)))
        assert jsonw.encode(s) == orjson.dumps(s), s


def test_ints_at_orjson_edges(jsonw: ModuleType) -> None:
    for v in (0, 1, -1, 9, 10, 99, 100, 10**15, 2**31, 2**63 - 1, -(2**63), 2**63, 2**64 - 1, True, False, None):
        assert jsonw.encode(v) == orjson.dumps(v), v
    for v in (2**64, -(2**63) - 1, 10**40):  # past orjson's range: the twin raises orjson's error
        assert jsonw.encode(v) is None
        assert jsonw.encode({"type": "int", "value": v}) is None


class Text(str):
    pass


class Number(int):
    pass


class Mapping(dict):  # type: ignore[type-arg]
    pass


def _random_summary(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(12 if depth < 5 else 7)
    if pick == 0:
        return None
    if pick == 1:
        return rng.random() < 0.5
    if pick == 2:
        return rng.choice([rng.randrange(-(10**15), 10**15), rng.randrange(-(2**63), 2**64), rng.randrange(100)])
    if pick == 3:
        return rng.choice([_random_double(rng), rng.random() * 1e6, float(rng.randrange(100))])
    if pick in (4, 5, 6):
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0, 32), rng.randrange(0x80, 0x800),
                                       rng.randrange(0xE000, 0x10000), rng.randrange(0x10000, 0x110000)]))
                       for _ in range(rng.randrange(12)))
    if pick in (7, 8, 9):
        return {_random_key(rng): _random_summary(rng, depth + 1) for _ in range(rng.randrange(6))}
    if pick == 10:
        return [_random_summary(rng, depth + 1) for _ in range(rng.randrange(6))]
    return tuple(_random_summary(rng, depth + 1) for _ in range(rng.randrange(4)))


def _random_key(rng: random.Random) -> str:
    return rng.choice(["type", "value", "len", "truncated", "items", "entries", "id", "redacted", "note", "",
                       "k\u00e9y", "\"q\"", "a\nb", "\x00", "😀"])


def test_random_summaries_as_orjson_writes_them(jsonw: ModuleType) -> None:
    rng = random.Random(1616)
    for _ in range(20_000):
        v = _random_summary(rng)
        assert jsonw.encode(v) == orjson.dumps(v), v


@pytest.mark.parametrize("odd", [Text("sub"), Number(5), Mapping(a=1), {1: "non-str key"}, {Text("k"): 1},
                                 {"deep": [[[[]]]]}, b"bytes", {"set": {1}}, object, complex(1, 2)],
                         ids=repr)
def test_the_encoder_hands_odd_values_over(jsonw: ModuleType, odd: Any) -> None:
    wrapped: Any = {"type": "x", "items": [1, {"v": odd}]}
    if isinstance(odd, dict) and "deep" in odd:  # plain, only deep: hand over past the encoder's depth
        wrapped = odd
        for _ in range(200):
            wrapped = {"v": wrapped}
        assert jsonw.encode(wrapped) is None
        return
    assert jsonw.encode(wrapped) is None


# -- the writer, line by line --------------------------------------------------------------------------------


def _endpoint(name: str, **kw: Any) -> Endpoint:
    return Endpoint(f"fn:m:{name}", "m", None, name, name, "m.py", 3, "module_function", None, **kw)


def _write(tmp_path: Path, batches: list[list[Event]], pure: bool, monkeypatch: pytest.MonkeyPatch,
           name: str = "t") -> tuple[bytes, int, int]:
    """(trace.jsonl bytes, lines counted, lines the C writer handed to the twin)."""
    with monkeypatch.context() as m:
        if pure:
            m.setenv("SKELETON_PURE_PYTHON", "1")
        w = TraceWriter(tmp_path / f"{name}-{'py' if pure else 'c'}.jsonl")
    assert (w._native is None) is pure
    handed = [0]
    line = w._line

    def counted_line(e: Event) -> bytes | None:
        handed[0] += 1
        return line(e)

    w._line = counted_line  # type: ignore[method-assign]
    try:
        for batch in batches:
            w.write_batch(batch)
    finally:
        path = w.close()
    return path.read_bytes(), w.lines, handed[0]


def _same(tmp_path: Path, events: list[Event], monkeypatch: pytest.MonkeyPatch, sizes: tuple[int, ...] = (10**9, 1, 7),
          ) -> tuple[bytes, int]:
    """The C writer, in batches of several sizes, writes the twin's bytes; (those bytes, events handed over)."""
    want, want_lines, _ = _write(tmp_path, [events], True, monkeypatch)
    handed = 0
    for size in sizes:
        batches = [events[i : i + size] for i in range(0, len(events), size)]
        got, lines, handed = _write(tmp_path, batches, False, monkeypatch)
        assert lines == want_lines
        if got != want:
            for g, w in zip(got.split(b"\n"), want.split(b"\n"), strict=False):
                assert g == w, size
        assert got == want, size
    return want, handed


def _event(order: int, kind: int = CALL, detail: Any = None, **kw: Any) -> Event:
    fields: dict[str, Any] = {"order": order, "kind": kind, "call_id": order, "t_ns": 1000 * order + 7, "depth": 1,
                              "thread": 1, "caller": _endpoint("main"), "callee": _endpoint("f"), "detail": detail,
                              "skipped": False}
    fields.update(kw)
    return Event(**fields)


def test_every_field_and_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jsonw: ModuleType) -> None:
    odd_ep = Endpoint("meth:m.C#1.g", "m\u00e9", "C", "g", "C.g", "d\u00eer/\"x\".py", 9, "instance_method", 17,
                      internal=True, role="harness")
    events = [
        _event(0, CALL, {"a": {"type": "int", "value": 1}}, caller=None, thread_name="MainThread", call_id=None),
        _event(1, CALL, None, skipped=True, scenario="tests/test_x.py::test_\u00e9[\"1\"]", callee=odd_ep),
        _event(2, RETURN, {"type": "float", "value": 0.1}, ns=123, caller=odd_ep, t_ns=0),
        _event(3, EXCEPTION, {"type": "ValueError", "message": {"type": "str", "value": "b\u00e4d\n"}}, ns=2**40),
        _event(4, YIELD, {"type": "str", "value": "x"}, thread=2**64 - 1, thread_name="w\u00f6rker-1", depth=0),
        _event(5, RESUME, {"type": "GeneratorExit", "message": {"type": "str", "value": ""}}, t_ns=8 * 10**15 + 3),
        _event(6, RESUME, None, t_ns=10**19, skipped=True),
        _event(-1, CALL, {"a": 1}),  # past the cap: not written
        _event(7, RETURN, None, ns=0, skipped=True, call_id=-1, depth=-3, t_ns=-5),
        _event(8, CALL, {}, thread=0, scenario=""),
    ]
    text, handed = _same(tmp_path, events, monkeypatch)
    assert handed == 0  # the C writer wrote every one of them
    lines = text.split(b"\n")
    assert len(lines) == 10 and lines[-1] == b""
    assert orjson.loads(lines[5])["timestamp"] == 8 * 10**15 / 1e9 + 3e-9


@pytest.mark.parametrize("detail", [
    Text("a str subclass"), {"v": Number(3)}, Mapping(type="dict"), {"k": b"bytes"}, {1: "int key"}, {"v": 2**64},
    {"v": -(2**63) - 1}, {"s": "\ud800"}, {"v": math.nan, "w": -math.inf}, {"t": (1, 2.5, None)},
    {"x": 1, "y": {"k": Text("deep")}},
], ids=repr)
def test_odd_summaries_are_handed_to_the_twin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jsonw: ModuleType,
                                              detail: Any) -> None:
    events = [_event(0), _event(1, RETURN, detail, ns=5), _event(2, CALL, {"plain": True})]
    try:
        want = orjson.dumps(detail)
    except orjson.JSONEncodeError as exc:  # orjson refuses it: both writers stop with its error
        for pure in (True, False):
            with pytest.raises(orjson.JSONEncodeError) as raised:
                _write(tmp_path, [events], pure, monkeypatch, name=str(pure))
            assert str(raised.value) == str(exc)
        return
    text, handed = _same(tmp_path, events, monkeypatch)
    assert handed in (0, 1)  # nan, tuples: written in C; subclasses and the like: by the twin
    assert want in text


def test_odd_fields_are_handed_to_the_twin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jsonw: ModuleType) -> None:
    odd = [_event(0, thread_name=Text("sub")), _event(1, scenario=Text("s")), _event(2, call_id=Number(2)),
           _event(Number(3)), _event(4, t_ns=True), _event(5, skipped=1), _event(6, depth=1.0),
           _event(7, RETURN, ns=None)]
    # an endpoint's JSON comes from the twin's cache (orjson) whatever its fields hold: not handed over
    ok = [_event(100, depth=2**63), _event(101, callee=_endpoint("x", role=Text("harness")))]
    text, handed = _same(tmp_path, [ok[0], *odd, ok[1]], monkeypatch, sizes=(10**9,))
    assert handed == len(odd) and text.count(b"\n") == len(odd) + 2
    bad_events = [_event(0, kind=9), _event(0, caller="not an endpoint"), _event(0, scenario="\udcff"),
                  _event(0, thread=-(2**63) - 1), _event(0, depth=2**64),
                  _event(0, t_ns=10**400)]
    for bad in bad_events:  # the twin's own error, either way
        errors = []
        for pure in (True, False):
            with pytest.raises((IndexError, AttributeError, TypeError, OverflowError)) as raised:
                _write(tmp_path, [[_event(1), bad]], pure, monkeypatch, name=str(pure))
            errors.append((type(raised.value), str(raised.value)))
        assert errors[0] == errors[1]


def test_threads_generators_and_the_cap_in_big_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       jsonw: ModuleType) -> None:
    rng = random.Random(5)
    eps = [_endpoint(f"f{i}", role="harness" if i % 7 == 0 else None) for i in range(300)]
    events = []
    for order in range(20_000):
        kind = rng.choice([CALL, RETURN, EXCEPTION, YIELD, RESUME])
        events.append(Event(order if rng.random() > 0.05 else -1, kind, rng.choice([order, None, -1]),
                            rng.randrange(10**12), rng.randrange(50), rng.choice([1, 2, 140234567890123]),
                            rng.choice([None, *eps]), rng.choice(eps),
                            _random_summary(rng) if rng.random() < 0.5 else None, rng.random() < 0.3,
                            rng.choice([None, None, "MainThread", "Thread-2 (w\u00f6rk)"]), rng.randrange(10**9),
                            rng.choice([None, "test_a", "test_\u00e9"])))
    text, handed = _same(tmp_path, events, monkeypatch, sizes=(10**9, 4096, 3))
    assert handed == 0 and len(text) > 2**20  # more than one chunk of the C writer's buffer


# -- real runs -----------------------------------------------------------------------------------------------


REAL = ("rich", "jinja2", "jinja2-capped", "sqlparse", "hot_loop", "shop", "async_pipeline", "pytest-shop")


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_runs_write_the_same_trace(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
                                        monkeypatch: pytest.MonkeyPatch, jsonw: ModuleType, name: str) -> None:
    """From a run's kept raw records, the C writer writes what the twin writes, and what the run wrote; every
    summary of the run encodes as orjson encodes it."""
    out = record_kept(name, tmp_path_factory)
    header = orjson.loads((out / ".trace-header.json").read_bytes())
    with monkeypatch.context() as m:  # the decoder's own C twin is another lane's: keep it out of the comparison
        m.setenv("SKELETON_PURE_PYTHON", "1")
        decoder = Decoder(header.get("options", {}).get("max_events", 0))
    batches = list(decoder.batches(read_spill(out / ".trace.spill")))
    events = [e for batch in batches for e in batch]
    assert sum(e.order >= 0 for e in events) > 150
    details = [e.detail for e in events if e.detail is not None]
    assert len(details) > 50
    for d in details:  # JSON bytes made at capture (capture/recorder.as_json): what the encoder writes for the value
        assert type(d) is bytes and jsonw.encode(orjson.loads(d)) == d, d
    want, want_lines, _ = _write(tmp_path, batches, True, monkeypatch)
    got, lines, handed = _write(tmp_path, batches, False, monkeypatch)
    assert got == want and lines == want_lines and handed == 0
    ran = (out / "trace.jsonl").read_bytes().split(b"\n")
    assert b"\n".join(ran[1:-2]) + b"\n" == want  # between the header and the end record: the same lines


def test_counted_entries_are_orjson_s_bytes_or_left_to_it(jsonw: ModuleType) -> None:
    """_jsonw.counted_json writes the end record's counted entries (events/write_trace.py) as orjson writes the
    list of their dicts without its brackets, or gives None where orjson's way differs (the Python path then)."""
    eps = [Endpoint(f"fn:m{i}:f", f"m{i}", None, "f", "f", "m.py", i, "module_function", None) for i in range(4)]
    made: list[Endpoint] = []

    def endpoint_json(ep: Endpoint) -> bytes:
        made.append(ep)
        return orjson.dumps(ep.as_json())

    def entry(row: tuple[Any, ...]) -> dict[str, Any]:
        caller, callee, n, r, scen = row
        d = {"caller": None if caller is None else ep_dict[id(caller)], "callee": ep_dict[id(callee)],
             "calls": n, "raised": r}
        if scen is not None:
            d["scenario"] = scen
        return d

    ep_dict = {id(ep): ep.as_json() for ep in eps}
    odd_names = ['tests/t.py::test_a[x"y\\z]', "tests/t.py::test_\x00\x1f\x7f", "tests/t.py::test_é€😀", ""]
    rows = [(eps[i % 4] if i % 3 else None, eps[(i + 1) % 4], i * 7, i % 2, None if i % 5 == 0 else odd_names[i % 4])
            for i in range(40)]
    rows.append((eps[0], eps[1], 2**64 - 1, 0, "tests/t.py::big"))  # the largest int orjson writes
    cache: dict[int, bytes] = {}
    for start, stop in ((0, 41), (0, 0), (3, 9), (39, 100), (-5, 2)):
        got = jsonw.counted_json(rows, start, stop, cache, endpoint_json)
        want = orjson.dumps([entry(r) for r in rows[max(start, 0):stop]])[1:-1]
        assert got == want, (start, stop)
    assert len(made) == len(eps)  # each endpoint's JSON made once, then taken from the cache
    # what orjson writes otherwise, or refuses: left to the Python path
    for bad in ((eps[0], eps[1], 2**64, 0, None), (eps[0], eps[1], -(2**63) - 1, 0, None), (eps[0], eps[1], True, 0, None),
                (eps[0], eps[1], 1, 0, "lone \ud800"), (eps[0], eps[1], 1, 0, b"bytes"), [eps[0], eps[1], 1, 0, None],
                (eps[0], eps[1], 1, 0), (eps[0], "not an endpoint", 1, 0, None)):
        assert jsonw.counted_json([*rows[:3], bad], 0, 4, {}, lambda ep: b"{}" if isinstance(ep, Endpoint) else None) is None
