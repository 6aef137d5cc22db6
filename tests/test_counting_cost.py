"""What a call costs past the cap (issue 16): the C hooks' caches answer exactly as the Recorder's dicts.

_speedups.c keeps caches in front of `objects`/`overflow` (receivers), the node and edge ints of the counting
regime, the creations' keys and each thread's state list. These tests run programs that stress each cache's
invalidation (addresses reused by new objects, an address taken over by an object of another class, receivers
rebound to None) past the cap with the C hooks and with the pure-Python callbacks, and require the same trace,
snapshot and counts. (Threads: test_speedups.py; a program whose threads make objects concurrently gives ids
in an order that differs from run to run, with either callbacks.)
"""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS
from native_runs import run_app

from skeleton_replay.capture import speedups
from skeleton_replay.capture.recorder import Recorder

COMPILED = speedups.load() is not None
needs_c = pytest.mark.skipif(not COMPILED, reason="the C fast paths were not compiled here")

# Objects die and are replaced at once, so that CPython hands their addresses to the next ones, past
# INSTANCE_LIMIT (1,000 per class: their instances then share one id), and objects of another class take
# over an address. Creators rebind their receiver to None. (Every class has a project __init__: an object of
# a class without one, at a reused address, keeps the old id, and which addresses are reused differs
# between the C and the Python callbacks, which allocate differently.)
APP = textwrap.dedent("""
    class Made:
        def __init__(self, v):
            self.v = v
        def get(self):
            return self.v

    class Other:
        def __init__(self, v):
            self.v = v
        def get(self):
            return -self.v

    class Factory:
        def make(self, v):
            return Made(v)
        def orphan(self, v):
            self = None       # the creator's receiver rebound: the creator is the function itself
            return Made(v)

    def churn(n):
        total = 0
        f = Factory()
        for i in range(n):
            total += Made(i).get()          # freed at once: the next Made likely reuses its address
            total += Other(i).get() if i % 3 == 0 else 0
            total += f.make(i).get()
            if i % 5 == 0:
                total += f.orphan(i).get()
        return total

    print(churn(1500))
""")


def _run(tmp_path: Path, name: str, backend: str, cap: str, pure: bool) -> tuple[Any, ...]:
    lines, snap, out = run_app(tmp_path, APP, name, backend, cap, pure)
    return lines[0], lines[1:-1], lines[-1], snap, out


def _untimed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in d.items() if not k.endswith("_ns")} for d in items]


@needs_c
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", ["1", "400"])
def test_reused_addresses_and_creators_past_the_cap(tmp_path: Path, backend: str, cap: str) -> None:
    hc, ec, endc, sc, outc = _run(tmp_path, "c", backend, cap, pure=False)
    hp, ep, endp, sp, outp = _run(tmp_path, "py", backend, cap, pure=True)
    assert "C fast paths" in hc["backend_reason"] and "pure Python" in hp["backend_reason"]
    assert outc == outp
    assert ec == ep
    for key in ("events", "dropped_events", "calls", "status", "gaps", "counted", "creations"):
        assert endc.get(key) == endp.get(key), key
    assert _untimed(sc["edges"]) == _untimed(sp["edges"])
    nodes = [[(n["id"], n.get("call_count")) for n in snap["nodes"]] for snap in (sc, sp)]
    assert nodes[0] == nodes[1]
    assert endc["dropped_events"] > 5000  # nearly everything counted, by the C code
    assert any("Made#*" in n["id"] for n in sc["nodes"])  # past INSTANCE_LIMIT: the shared id (overflow cache)


def test_objects_gen_changes_whenever_an_entry_leaves_objects() -> None:
    """The C cache of `objects` is flushed when objects_gen's item changes: every removal or replacement
    of an entry in Python must change it (and nothing else needs to)."""
    rec = Recorder.__new__(Recorder)
    rec.init_objects()
    rec.buf, rec.definitions = [], 0
    rec.filter = type("F", (), {"main_module": "__main__"})()
    rec.gap = lambda *a: None  # type: ignore[method-assign]

    class A:
        pass

    class B:
        pass

    a = A()
    gen = rec.objects_gen
    first = rec.object_id(a)
    assert rec.object_id(a) == first and gen[0] == 0  # additions and hits leave it alone
    seen = gen[0]
    rec.objects[id(a)] = (first, B)  # as if an object of another class had had this address
    again = rec.object_id(a)  # the entry is replaced: a new id
    assert again != first and gen[0] != seen
    seen = gen[0]

    def init(self: Any) -> None:
        frame = __import__("sys")._getframe()
        rec.reborn(frame, "self")

    rec.made.created = lambda back, me: None  # type: ignore[method-assign]
    init(a)  # a project __init__ for an object at a known address: its entry leaves
    assert id(a) not in rec.objects and gen[0] != seen
    seen = gen[0]
    init(a)  # nothing left to remove: unchanged
    assert gen[0] == seen
