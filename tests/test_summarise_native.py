"""Summaries made in C (capture/_summarise.c) are the summaries of its pure-Python twin (capture/summarise.py).

Compared strictly (same types, same key order, the shared summaries of None/True/False, the same redactions and
the same secrets learned) on adversarial values, and on every argument and returned value of real runs (rich,
sqlparse, jinja2 and the examples), where both summarisers run side by side inside the traced program."""
from __future__ import annotations

import collections
import importlib
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest
from conftest import REPO
from native_runs import SQLPARSE, compiled_summariser, real_command

from skeleton_replay.capture import summarise as S
from skeleton_replay.capture.summarise import Summariser

try:
    _summarise: ModuleType | None = importlib.import_module("skeleton_replay.capture._summarise")
except ImportError:  # not compiled
    _summarise = None


@pytest.fixture
def native(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return compiled_summariser(monkeypatch)


def same(a: Any, b: Any, where: str = "") -> None:
    """a and b are the same summary: equal, same types all the way down, same key order, same singletons."""
    assert type(a) is type(b), (where, a, b)
    for shared in (S._NONE, S._TRUE, S._FALSE):
        assert (a is shared) == (b is shared), (where, a, b)
    if type(a) is dict:
        assert list(a) == list(b), (where, a, b)
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif type(a) is list:
        assert len(a) == len(b), (where, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    elif type(a) is float:
        assert a == b or (a != a and b != b), (where, a, b)
        assert math.copysign(1, a) == math.copysign(1, b), (where, a, b)
    else:
        assert a == b, (where, a, b)


class Hostile(str):
    calls = 0

    def __repr__(self) -> str:
        Hostile.calls += 1
        raise RuntimeError("user code")

    def __eq__(self, other: object) -> bool:
        Hostile.calls += 1
        raise RuntimeError("user code")

    def __hash__(self) -> int:
        Hostile.calls += 1
        raise RuntimeError("user code")

    def __len__(self) -> int:
        Hostile.calls += 1
        raise RuntimeError("user code")


class Meta(type):
    def __hash__(cls) -> int:
        raise RuntimeError("user code")

    def __eq__(cls, other: object) -> bool:
        raise RuntimeError("user code")


class Odd(metaclass=Meta):
    pass


class Renamed:
    pass


NoModule = eval("type('NoModule', (), {})", {"__builtins__": __builtins__})  # (no __name__: no __module__)
class OddNames:
    pass


class QualStr(str):
    def __add__(self, other: object) -> str:
        raise RuntimeError("user code")


OddNames.__module__ = 5  # type: ignore[assignment]
OddNames.__qualname__ = QualStr("Odd.Names")


class Dsub(dict):  # type: ignore[type-arg]
    def items(self) -> Any:
        raise RuntimeError("user code")


def adversarial() -> list[Any]:
    rec: list[Any] = [1, 2]
    rec.append(rec)
    drec: dict[str, Any] = {}
    drec["self"] = drec
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234567890abcdef\n-----END RSA PRIVATE KEY-----"
    return [
        None, True, False, 0, 1, -1, 10**15 - 1, 10**15, -(10**15) + 1, -(10**15), 2**63, -(2**63) - 1, 10**39,
        10**40, 10**41, 2**4001, 0.0, -0.0, 1.5, 1e300, float("nan"), float("inf"), float("-inf"), 1 + 2j,
        "", "a", "abcdef", "abcdefg", "x" * 47, "x" * 48, "x" * 79, "x" * 80, "x" * 81, "x" * 208, "x" * 209,
        "é" * 100, "日本" * 50, "\U0001f600" * 90, "ab\ud800cd", "x" * 79 + "\udcff" + "y" * 10, "\udcff" * 3,
        "Bearer abcdefghijklmnop", "x" * 100 + "password=hunter2hunter2", "x" * 300 + "ghp_" + "a" * 36,
        "postgres://user:sekret99@host/db", key, b"", b"abc", b"x" * 33, bytearray(b"token=abc"),
        b"Bearer abcdefghijklmnop", [], (), set(), frozenset(), {}, [1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6],
        tuple(range(5)), tuple(range(6)), {1, 2, 3}, set(range(100)), frozenset("abcdefgh"), {"a", "b", "c"},
        {str(i): i for i in range(5)}, {str(i): i for i in range(6)}, {1: "a", (1, 2): "b", None: 3, 1.5: [1]},
        {"password": "hunter2hunter2", "user": "bob"}, {"api_key": b"abc"}, {"key": "weakkeyvalue1"},
        {"a": key, "b": "MIIEpAIBAAKCAQEA", "c": 1}, [key, "MIIEpAIBAAKCAQEA", "x"], ("y", key, "z"),
        [("Authorization", "Basic dXNlcjpwdw=="), ("Accept", "text/html")], [["token", "abc"], ["x", "y"]],
        [(b"Cookie", b"abc=def"), (b"X", b"y")], [("p" * 100 + "password", "v")], [(1, 2)], [("a", "b", "c")],
        [[[[[1]]]]], {"k": {"k": {"k": {"k": 1}}}}, [{"a": [1, (2, {3})]}], rec, drec, [rec, rec], (rec,),
        Hostile("abc"), Hostile("password=hunter2hunter2"), [Hostile("x")], {"k": Hostile("v")},
        Dsub(a=1), [Dsub()], Odd(), Odd, Renamed(), Renamed, type, int, NoModule, NoModule(), OddNames, OddNames(),
        (int, str, Renamed), [collections.OrderedDict, Summariser], ValueError, type(None),
        collections.deque([1, 2, 3]),
        [collections.deque([rec])], collections.OrderedDict(a=1), object(), len, sys, range(3), ValueError("x"),
        {1, "a", (1, 2), None, 2.5}, [None, True, False, [None]], {"x": None, "y": True},
    ]


NAMES = (None, "x", "password", "key", "api_key", "apiKey", "tokens", "data", "pw", "session_id")


def test_adversarial_values_summarised_alike(native: ModuleType) -> None:
    py = Summariser()
    c = native.Summariser(Summariser())
    values = adversarial()
    Hostile.calls = 0
    for round_ in range(3):  # later rounds: the clean windows, class names and known secrets remembered
        for i, v in enumerate(values):
            for name in NAMES:
                same(py.value(v, name), c.value(v, name), f"round {round_} value #{i} name={name}")
    assert Hostile.calls == 0  # no user code


def test_same_known_secrets_and_versions(native: ModuleType) -> None:
    py, backing = Summariser(), Summariser()
    c = native.Summariser(backing)
    for v in adversarial():
        for name in NAMES:
            same(py.value(v, name), c.value(v, name))
    assert list(py.known._all) == list(backing.known._all)
    assert py.known.version == backing.known.version
    assert list(py._clean) == list(backing._clean) and list(py._clean_short) == list(backing._clean_short)


def test_shared_singletons_and_values(native: ModuleType) -> None:
    c = native.Summariser(Summariser())
    assert c.value(None) is S._NONE and c.value(True, "password") is S._TRUE and c.value(False) is S._FALSE
    assert c.value([None])["items"][0] is S._NONE
    big = 123456789
    assert c.value(big)["value"] is big  # the int itself, as the Python summary holds it


def test_class_renamed_and_main_module(native: ModuleType) -> None:
    py, backing = Summariser(), Summariser()
    c = native.Summariser(backing)

    class Local:
        pass

    obj = Local()
    same(py.value(obj), c.value(obj))
    Local.__qualname__ = "Renamed.Local"
    Local.__module__ = "elsewhere"
    same(py.value(obj), c.value(obj))
    assert c.value(obj)["type"] == "elsewhere.Renamed.Local"
    Local.__module__ = "__main__"
    py.main_module = backing.main_module = "shop"
    same(py.value(obj), c.value(obj))
    assert c.value(obj)["type"] == "shop.Renamed.Local"


def test_extra_patterns_and_secret_names(native: ModuleType) -> None:
    py = Summariser(secret_names=("password", "zz"), extra_value_patterns=(r"abc\d",))
    c = native.Summariser(Summariser(secret_names=("password", "zz"), extra_value_patterns=(r"abc\d",)))
    for v in ["abc1", "xabc2y", "abc", ["abc3", "q"], {"zzz": 1, "a": "abc4"}, "x" * 300 + "abc5"]:
        for name in (None, "zz_top", "key", "password"):
            same(py.value(v, name), c.value(v, name))


def test_summary_failure_is_the_python_note(native: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    py, backing = Summariser(), Summariser()
    TEXT = "a long enough string, api"  # a pattern's trigger ("api"): the C gate sends it to _secret_str
    # Skeleton's own error (no frame of the program in its traceback): int(window, whole) raises TypeError
    monkeypatch.setattr(py, "_secret_str", int)
    monkeypatch.setattr(backing, "_secret_str", int)
    c = native.Summariser(backing)
    assert not c.gate_clean(TEXT)
    for v in (TEXT, [TEXT], {"k": TEXT}):
        same(py.value(v), c.value(v))
    assert c.value(TEXT) == {"type": "?", "note": "summary failed: TypeError"}

    def interrupted(window: str, whole: str) -> bool:
        raise ValueError("a signal handler's error (the program's)")

    monkeypatch.setattr(backing, "_secret_str", interrupted)
    c = native.Summariser(backing)
    with pytest.raises(ValueError):  # the program's exception goes on, as from the Python summariser
        c.value(TEXT)


def test_args_read_from_the_frame(native: ModuleType) -> None:
    py = Summariser()
    c = native.Summariser(Summariser())
    frames: list[Any] = []

    def f(a: Any, password: Any, *rest: Any, **kw: Any) -> Any:
        def inner() -> Any:
            return a  # `a` is a cell
        frames.append(sys._getframe())
        return inner

    f([1, 2], "hunter2hunter2", 3, k={"x": 1})
    frame = frames[0]
    names = ("a", "password", "rest", "kw", "missing")
    loc = frame.f_locals
    same({n: py.value(loc[n], n) for n in names if n in loc}, c.args(frame, names))
    assert list(c.args(frame, names)) == ["a", "password", "rest", "kw"]


# -- real runs: both summarisers on every summarised argument and returned value ---------------------------------

CHECKER = """
import json, sys, orjson
from skeleton_replay.capture import recorder as recmod
from skeleton_replay.capture.summarise import _NONE, _TRUE, _FALSE
sys.path.insert(0, {tests!r})
from test_summarise_native import same

stats = {{"args": 0, "results": 0, "json": 0, "diffs": []}}
original = recmod.Recorder.__init__

def init(self, *a, **k):
    original(self, *a, **k)
    fast, s, rec = self.fast_summaries, self.summariser, self
    assert fast is not None, "the C summariser is not in use"

    class Check:
        Unstorable = fast.Unstorable

        def args_json(self_, frame, names):  # C's bytes == orjson.dumps(the Python summaries), every time
            got = fast.args_json(frame, names)
            loc = frame.f_locals
            want = orjson.dumps({{n: s.value(loc[n], n) for n in names if n in loc}})
            stats["json"] += 1
            if got != want:
                stats["diffs"].append(repr((want, got))[:2000])
            self_.args(frame, names)
            return got

        def result_json(self_, idx, value):
            got = fast.result_json(idx, value)
            want = orjson.dumps(s.secret_result(value) if idx in rec.secret_codes else s.value(value))
            stats["json"] += 1
            if got != want:
                stats["diffs"].append(repr((want, got))[:2000])
            self_.result(idx, value)
            return got

        def args(self_, frame, names):
            got = fast.args(frame, names)
            loc = frame.f_locals
            want = {{n: s.value(loc[n], n) for n in names if n in loc}}
            stats["args"] += 1
            try:
                same(want, got)
            except AssertionError as exc:
                stats["diffs"].append(repr(exc)[:2000])
            return got

        def result(self_, idx, value):
            got = fast.result(idx, value)
            want = s.secret_result(value) if idx in rec.secret_codes else s.value(value)
            stats["results"] += 1
            try:
                same(want, got)
            except AssertionError as exc:
                stats["diffs"].append(repr(exc)[:2000])
            return got

    self.fast_summaries = Check()

recmod.Recorder.__init__ = init
import atexit
atexit.register(lambda: open({log!r}, "w").write(json.dumps(stats)))
from skeleton_replay.cli import main
sys.argv[0] = "skeleton"
main(sys.argv[1:])
"""

REAL = ["rich", "sqlparse", "jinja2", "jinja2-capped", "shop", "async_pipeline", "hot_loop"]


@pytest.mark.parametrize("name", REAL)
def test_real_runs_summarised_alike(native: ModuleType, name: str, tmp_path: Path) -> None:
    import os
    import subprocess

    script = tmp_path / "sqlparse_run.py"
    script.write_text(SQLPARSE)
    args = real_command(name, script)
    log = tmp_path / "stats.json"
    checker = tmp_path / "check.py"
    checker.write_text(CHECKER.format(tests=str(REPO / "tests"), log=str(log)))
    out = tmp_path / "out"
    env = {**os.environ, "CI": "1", "SKELETON_PURE_PYTHON": ""}
    p = subprocess.run([sys.executable, str(checker), args[0], "--no-open", "--no-html", "--max-events", "0",
                        "--out-dir", str(out), *args[1:]], capture_output=True, text=True, env=env, timeout=300)
    assert log.exists(), p.stdout[-2000:] + p.stderr[-4000:]
    stats = json.loads(log.read_text())
    assert stats["diffs"] == []
    assert stats["args"] > 0 and stats["results"] > 0 and stats["json"] == stats["args"] + stats["results"], stats


def test_no_reference_kept_or_lost(native: ModuleType) -> None:
    """Exact reference counts: summarising a value many times leaves its count (and its items') as it was."""
    import gc

    # (not the objects the interpreter shares, whose counts move with everything else before 3.12: None, bools,
    # small ints, 1-char strings, the empty bytes and tuple, classes; on 3.11 a full suite moved () by -32)
    values = [v for v in adversarial() if not (v is None or type(v) is bool or (type(v) is int and -5 <= v <= 256)
                                                or (type(v) is str and len(v) <= 1)
                                                or ((type(v) is bytes or type(v) is tuple) and len(v) == 0)
                                                or issubclass(type(v), type))]
    c = native.Summariser(Summariser(), {}, set(), {})

    def run(summarise: Any, names: tuple[Any, ...], times: int) -> list[int]:
        gc.collect()
        before = [sys.getrefcount(v) for v in values]
        for _ in range(times):
            for v in values:
                for name in names:
                    summarise(v, name)
        del v
        gc.collect()
        return [sys.getrefcount(v) - n for v, n in zip(values, before, strict=True)]

    # A reference kept or lost per summary would show 60 times over (the windows found clean are remembered, as
    # by the Python summariser: a reference or two, whatever the number of summaries)
    assert all(-2 <= d <= 2 for d in run(c.value, NAMES, 60))
    assert all(-2 <= d <= 2 for d in run(lambda v, idx: c.result(idx, v), (1, 2), 60))
    frames: list[Any] = []

    def f(a: Any, b: Any) -> None:
        frames.append(sys._getframe())

    thing = Renamed()
    f(thing, [thing])
    c.args(frames[0], ("a", "b"))  # (3.11: the frame's f_locals dict, made once, holds them too)
    count = sys.getrefcount(thing)
    for _ in range(100):
        c.args(frames[0], ("a", "b"))
    assert sys.getrefcount(thing) == count


# -- summaries as JSON bytes written by C (args_json, result_json): orjson.dumps of the Python summary, byte for byte --

def _object_ids() -> tuple[dict[int, tuple[int, type]], Any]:
    """A run-local id table shaped as the Recorder's (id(obj) -> (oid, class)) and its object_id."""
    objects: dict[int, tuple[int, type]] = {}

    def object_id(v: Any) -> int:
        ent = objects.get(id(v))
        if ent is None or ent[1] is not type(v):
            ent = objects[id(v)] = (len(objects) + 1, type(v))
        return ent[0]

    return objects, object_id


def _pair(secret_names: tuple[str, ...] = ()) -> tuple[Summariser, Any]:
    """A Python summariser and a C one over a backing twin, sharing the run-local object ids."""
    objects, object_id = _object_ids()
    py, backing = Summariser(secret_names=secret_names), Summariser(secret_names=secret_names)
    py._object_id = backing._object_id = object_id
    return py, _summarise.Summariser(backing, objects, set(), {})  # type: ignore[union-attr]


def _json_or_none(summary: Any) -> bytes | None:
    try:
        return orjson.dumps(summary)
    except TypeError:
        return None


def test_result_json_is_orjson_of_the_python_summary(native: ModuleType) -> None:
    py, c = _pair()
    values = [*adversarial(), Renamed(), Renamed(), OddNames(), "x\x00\x1f\"\\\u2028\x7f", "é" * 20, "\U0001f600",
              2**63 - 1, -(2**63), 10**15 - 1, -(10**15) + 1, 1e-7, 1e16, 123456.789, 5e-324]
    Hostile.calls = 0
    for round_ in range(3):  # later rounds: clean windows, class names and object ids known (the direct paths)
        for i, v in enumerate(values):
            want = _json_or_none(py.value(v))
            assert want is not None, v
            assert c.result_json(0, v) == want, f"round {round_} value #{i}: {v!r}"
    assert Hostile.calls == 0


def test_secret_results_are_the_python_secret_result(native: ModuleType) -> None:
    """A secret-named callable's result (secret code 1): data redacted, None, bools, classes and objects
    summarised as usual, the same from C (result_json, result) as from Summariser.secret_result."""
    objects, object_id = _object_ids()
    py, backing = Summariser(), Summariser()
    py._object_id = backing._object_id = object_id
    c = _summarise.Summariser(backing, objects, {1}, {})  # type: ignore[union-attr]

    class Str(str):
        pass

    # around the shortest value learnt (KNOWN_MIN): shorter str/bytes are written by C, longer ones learnt too
    edges = [kind(("Zq9#" * 3)[:n]) for n in range(0, 12) for kind in (str, str.encode, lambda t: bytearray(t, "ascii"))]
    values = [*adversarial(), Renamed(), Str("hunter2-correct"), collections.deque(["hunter3-battery"]),
              collections.OrderedDict(k="v"), Summariser, collections.OrderedDict, *edges, "PRIVATE", 1 + 2j,
              frozenset({1}), {"k": "v"}, (1, "t"), [0.5], {2}, 2**80, 1.5]
    Hostile.calls = 0
    for round_ in range(2):
        for i, v in enumerate(values):
            want = py.secret_result(v)
            assert c.result_json(1, v) == _json_or_none(want), f"round {round_} value #{i}: {v!r}"
            same(want, c.result(1, v), f"round {round_} value #{i}")
    assert Hostile.calls == 0
    # result_json alone learns the secrets secret_result learns, in the same order (it writes the short ones,
    # which are never learnt, without Python)
    py, backing = Summariser(), Summariser()
    c = _summarise.Summariser(backing, {}, {1}, {})  # type: ignore[union-attr]
    for v in [*values, "Zq9#Zq9#" * 3]:
        py.secret_result(v)
        c.result_json(1, v)
    assert list(backing.redactor.known._all) == list(py.redactor.known._all)
    assert "Zq9#Zq9#" in py.redactor.known._all and "Zq9#Zq9" not in py.redactor.known._all
    deque_summary = orjson.loads(c.result_json(1, collections.deque(["x"])))
    assert deque_summary == {"type": "collections.deque", "redacted": True}  # data, a heap type from 3.12


def test_args_json_is_orjson_of_the_python_summaries(native: ModuleType) -> None:
    py, c = _pair(secret_names=("zz",))
    frames: list[Any] = []

    def f(x: Any, password: Any, key: Any, api_key: Any, tokens: Any, data: Any, pw: Any, zz_top: Any,
          *rest: Any, **kw: Any) -> Any:
        def inner() -> Any:
            return x  # a cell
        frames.append(sys._getframe())
        return inner

    names = ("x", "password", "key", "api_key", "tokens", "data", "pw", "zz_top", "rest", "kw", "unbound")
    for round_ in range(2):
        for i, v in enumerate(adversarial()):
            frames.clear()
            f(v, v, v, v, v, v, v, v, v, k=v)
            loc = frames[0].f_locals
            want = orjson.dumps({n: py.value(loc[n], n) for n in names if n in loc})
            assert c.args_json(frames[0], names) == want, f"round {round_} value #{i}: {v!r}"
    assert c.args_json(frames[0], ()) == b"{}"


def test_unstorable_summary_raises_for_the_dict_path(native: ModuleType) -> None:
    """What orjson refuses (here a summary holding an object) raises Unstorable, never other bytes."""
    backing = Summariser()
    backing._summarise = lambda v, depth, seen: {"type": "bytes", "value": object()}  # type: ignore[method-assign]
    c = native.Summariser(backing)
    assert c.result_json(0, 7) == b'{"type":"int","value":7}'
    with pytest.raises(native.Unstorable):
        c.result_json(0, b"abc")
    frames: list[Any] = []

    def f(a: Any, b: Any) -> None:
        frames.append(sys._getframe())

    f(1, b"x")
    with pytest.raises(native.Unstorable):
        c.args_json(frames[0], ("a", "b"))
    assert c.args_json(frames[0], ("a",)) == b'{"a":{"type":"int","value":1}}'


def test_json_bytes_keep_no_reference(native: ModuleType) -> None:
    import gc

    values = [v for v in adversarial() if not (v is None or type(v) is bool or (type(v) is int and -5 <= v <= 256)
                                                or (type(v) is str and len(v) <= 1))]
    objects, object_id = _object_ids()
    backing = Summariser()
    backing._object_id = object_id
    c = native.Summariser(backing, objects, {1}, {})
    for _ in range(2):  # warm: clean windows, class names, ids
        for v in values:
            c.result_json(0, v)
    gc.collect()
    before = [sys.getrefcount(v) for v in values]
    for _ in range(60):
        for v in values:
            c.result_json(0, v)
            c.result_json(1, v)  # a secret-named callable's result
    del v
    gc.collect()
    assert all(-2 <= sys.getrefcount(v) - n <= 2 for v, n in zip(values, before, strict=True))
    frames: list[Any] = []

    def f(a: Any, b: Any, c_: Any) -> None:
        frames.append(sys._getframe())

    thing = Renamed()
    f(thing, [thing], 1.5)
    c.args_json(frames[0], ("a", "b", "c_"))
    count = sys.getrefcount(thing)
    for _ in range(100):
        c.args_json(frames[0], ("a", "b", "c_"))
    assert sys.getrefcount(thing) == count
