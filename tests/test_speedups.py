"""The optional C fast paths (capture/_speedups.c) write exactly what the pure-Python callbacks write."""
from __future__ import annotations

import os
import textwrap

import orjson
import pytest

from conftest import BACKENDS, skeleton
from skeleton_replay.capture import speedups

COMPILED = speedups.load() is not None
needs_c = pytest.mark.skipif(not COMPILED, reason="the C fast paths were not compiled here (no compiler at install)")

APP = textwrap.dedent("""
    import threading

    class Cell:
        def __init__(self, v):
            self.v = v
        def value(self):
            return self.v
        def double(self):
            f = lambda: self.value() * 2   # self is a cell variable here
            return f()
        @classmethod
        def make(cls, v):
            return cls(v)
        @staticmethod
        def clamp(v):
            return min(v, 100)
        def countdown(self, n):
            while n:
                yield self.value() + n
                n -= 1
        def risky(self):
            raise ValueError("no " + str(self.v))

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def guarded(c):
        try:
            c.risky()
        except ValueError:
            return -1

    def work(cells):
        total = 0
        for c in cells:
            total += Cell.clamp(c.double()) + sum(c.countdown(2)) + guarded(c)
        return total

    class Base:
        def ping(self, other):
            return other.pong()
        def pong(self):
            return 1

    def many_objects():
        # 90 classes x 50 instances: run-local object ids past 4096, where a caller -> callee edge no
        # longer packs into one int (the C code's tuple fallback)
        kinds = [type(f"K{i}", (Base,), {}) for i in range(90)]
        objs = [k() for k in kinds for _ in range(50)]
        return sum(a.ping(b) for a, b in zip(objs, objs[1:]))

    class Dot:
        def x(self):
            return 1

    def crowd():
        # past INSTANCE_LIMIT (1,000 objects of one class): the later ones share one id (`Dot#*`)
        return sum(d.x() for d in [Dot() for _ in range(1_050)])

    def main():
        import helpers   # a module body calling traced code: the imports' budget (capture/budget.py)
        cells = [Cell.make(i) for i in range(70)]
        out = [work(cells), fib(12), many_objects(), crowd(), helpers.TOTAL]
        t = threading.Thread(target=lambda: out.append(work(cells[:5])))
        t.start()
        t.join()
        print(out)

    main()
""")


HELPERS = textwrap.dedent("""
    def triple(n):
        return 3 * twice(n)

    def twice(n):
        return 2 * n

    TOTAL = sum(triple(i) for i in range(300))
""")


def _run(tmp_path, name, backend, cap, pure):
    script = tmp_path / "app.py"
    script.write_text(APP)
    (tmp_path / "helpers.py").write_text(HELPERS)
    out = tmp_path / name
    opts = ["run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out), "--project-root", str(tmp_path)]
    if cap is not None:
        opts += ["--max-events", cap]
    p = skeleton(*opts, str(script), env={"SKELETON_PURE_PYTHON": "1" if pure else "0"})
    assert p.returncode == 0, p.stderr
    lines = [orjson.loads(line) for line in (out / "trace.jsonl").read_bytes().splitlines()]
    header, events, end = lines[0], lines[1:-1], lines[-1]
    for e in events:
        e.pop("timestamp", None)
        e.pop("duration_ns", None)
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    return header, events, end, snap, p.stdout


def _untimed(items):
    return [{k: v for k, v in d.items() if not k.endswith("_ns")} for d in items]


def test_compiled_where_the_build_requires_it():
    """CI sets SKELETON_REQUIRE_SPEEDUPS=1: there a failed compile must not pass unnoticed."""
    if os.environ.get("SKELETON_REQUIRE_SPEEDUPS") != "1":
        pytest.skip("SKELETON_REQUIRE_SPEEDUPS is not set")
    assert COMPILED, "skeleton_replay/capture/_speedups.c did not compile: see `pip install -v -e .`"
    try:  # capture/_summarise.c: the summaries of builtin values
        import skeleton_replay.capture._summarise  # noqa: F401
    except ImportError:
        pytest.fail("skeleton_replay/capture/_summarise.c did not compile: see `pip install -v -e .`")


@needs_c
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", [None, "150", "1", "3000"])
def test_c_and_python_callbacks_write_the_same_trace(tmp_path, backend, cap):
    hc, ec, endc, sc, outc = _run(tmp_path, "c", backend, cap, pure=False)
    hp, ep, endp, sp, outp = _run(tmp_path, "py", backend, cap, pure=True)
    assert "C fast paths" in hc["backend_reason"] and "pure Python" in hp["backend_reason"]
    assert outc == outp  # the program's own output is untouched
    assert len(ec) == len(ep)
    for a, b in zip(ec, ep):
        assert a == b
    for key in ("events", "dropped_events", "calls", "status", "gaps", "counted"):
        assert endc.get(key) == endp.get(key), key
    assert _untimed(sc["edges"]) == _untimed(sp["edges"])
    assert [(n["id"], n.get("call_count")) for n in sc["nodes"]] == [(n["id"], n.get("call_count")) for n in sp["nodes"]]
    if cap == "1":  # nearly everything was counted past the cap, by the C code
        assert endc["dropped_events"] > 1000
        assert any(e["count"] > 100 for e in sc["edges"])
    if cap == "3000":  # the first calls of edges past the budgets, recorded by the C code with their caller
        assert any(e.get("count", 0) > 3 and len(e.get("example_events", [])) >= 1 for e in sc["edges"])
        assert any(g["kind"] == "sampling" and "first 3 calls" in g["message"] for g in endc["gaps"])
    assert any(n["id"].endswith("Dot#*") for n in sc["nodes"])  # the safety limit on instances


LOOP_APP = textwrap.dedent("""
    class Counter:
        def __init__(self):
            self.n = 0
        def step(self, i):
            self.n += i % 3
            return self.n

    def numbers(k):
        for i in range(k):
            yield i

    def main():
        c = Counter()
        total = 0
        for i in numbers(20000):      # a generator started before the cap, resumed after it
            total += c.step(i)        # called by a frame that was open when the cap was reached
        try:
            c.step(None)              # raises TypeError past the cap, caught here
        except TypeError:
            total -= 1
        print(total)

    main()
""")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pure", [False, True] if COMPILED else [True])
def test_frames_open_at_the_cap_count_their_calls_instead_of_writing_them(tmp_path, backend, pure):
    """Past the cap, the calls of a loop in a frame that was already running (main(), the generator
    it iterates) are counted on edges, not written to the spill one by one: the spill stays small,
    and the counts are exactly those of the program."""
    script = tmp_path / "app.py"
    script.write_text(LOOP_APP)
    out = tmp_path / "out"
    p = skeleton("run", "--no-open", "--no-html", "--json", "--backend", backend, "--max-events", "50",
                 "--out-dir", str(out), "--project-root", str(tmp_path), str(script),
                 env={"SKELETON_PURE_PYTHON": "1" if pure else "0"})
    assert p.returncode == 0, p.stderr
    metrics = orjson.loads(p.stdout.splitlines()[-1])["metrics"]
    # 20,000 calls and 20,000 resumes past the cap would take well over 300 KB as records
    assert metrics["spill_bytes"] < 30_000, metrics
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    nodes = {n["id"]: n for n in snap["nodes"]}
    edges = {(nodes[e["source"]].get("label"), nodes[e["target"]].get("label")): e for e in snap["edges"]}
    step = edges[("main", "step")]
    assert step["count"] == 20001
    assert step.get("raised", 0) == 1
    assert edges[("main", "numbers")]["count"] == 1
    end = orjson.loads((out / "trace.jsonl").read_bytes().splitlines()[-1])
    assert end["events"] == 50 and end["calls"] == 20003  # main, numbers, 20,001 step (__init__ is a dunder)


# -- the hooks call the C summariser themselves: its refusals and errors end as the Recorder's methods end them --

SUMMARY_APP = textwrap.dedent("""
    def f(a, b):
        return a

    for i in range(3):
        f(i, "x")
""")

FAULTY = textwrap.dedent("""
    import sys
    from skeleton_replay.capture import recorder as recmod

    MODE = sys.argv.pop(1)
    original = recmod.Recorder.__init__

    class Faulty:  # stands for capture/_summarise.c's Summariser: args_json fails as MODE says
        def __init__(self, real):
            self.real = real
            self.Unstorable = real.Unstorable
            self.result_json = real.result_json
            self.args = real.args
            self.result = real.result
            if MODE == "ours":  # a C function's error: no frame of the program in its traceback
                self.args_json = int
            elif MODE == "unstorable":
                self.args_json = self.refuse
            else:
                self.args_json = self.programs

        def refuse(self, frame, names):
            raise self.Unstorable

        def programs(self, frame, names):  # a frame of neither Skeleton nor the standard library: the program's
            raise LookupError("the program's own")

    def init(self, *a, **k):
        original(self, *a, **k)
        assert self.fast_summaries is not None, "the C summariser is not in use"
        self.fast_summaries = Faulty(self.fast_summaries)

    recmod.Recorder.__init__ = init
    from skeleton_replay.cli import main
    sys.argv[0] = "skeleton"
    raise SystemExit(main(sys.argv[1:]))
""")


@needs_c
@pytest.mark.skipif(os.environ.get("SKELETON_PURE_PYTHON") == "1", reason="the C hooks are off")
@pytest.mark.parametrize("mode", ["ours", "unstorable", "program"])
def test_the_hooks_handle_the_c_summarisers_failures_as_the_recorder_does(tmp_path, mode):
    import subprocess
    import sys

    (tmp_path / "app.py").write_text(SUMMARY_APP)
    (tmp_path / "faulty.py").write_text(FAULTY)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(tmp_path / "faulty.py"), mode, "run", "--no-open", "--no-html",
                        "--backend", "sysmon" if sys.version_info >= (3, 12) else "setprofile",
                        "--project-root", str(tmp_path), "--out-dir", str(out), str(tmp_path / "app.py")],
                       cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=120)
    lines = [orjson.loads(x) for x in (out / "trace.jsonl").read_text().splitlines()]
    calls = [e for e in lines if e.get("event_type") == "call" and e["callee"]["function"] == "f"]
    end = lines[-1]
    gaps = [g["message"] for g in end["gaps"]]
    if mode == "ours":  # summarise_args' except clause: no arguments, a gap, the program untouched
        assert p.returncode == 0, p.stderr[-2000:]
        assert len(calls) == 3 and all("args" not in e for e in calls), calls
        assert any("summarising arguments: TypeError" in m for m in gaps), gaps
    elif mode == "unstorable":  # the dicts' path: the arguments all the same
        assert p.returncode == 0, p.stderr[-2000:]
        assert [e["args"] for e in calls] == [{"a": {"type": "int", "value": i}, "b": {"type": "str", "value": "x"}}
                                              for i in range(3)]
    else:  # the program's exception raised in the program, at its first call of f, which is on record
        assert p.returncode == 1 and "LookupError: the program's own" in p.stderr, p.stderr[-2000:]
        assert len(calls) == 1 and end["status"] != "ok"


# -- a thread appending while another flushes does not call flush for every event ----------------------------------

BUSY_APP = textwrap.dedent("""
    import threading

    def leaf(i):
        return i + 1

    def work(n):
        total = 0
        for i in range(n):
            total += leaf(i)
        return total

    threads = [threading.Thread(target=work, args=(60000,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
""")

SLOW_FLUSH = textwrap.dedent("""
    import json, sys, threading, time
    from skeleton_replay.capture import buffer

    stats = {"calls": 0, "busy": 0}
    write, flush = buffer.Buffer._write, buffer.Buffer.flush

    def slow_write(self, records):  # the spill's write, slow: the GIL is released meanwhile
        time.sleep(0.02)
        return write(self, records)

    def counted_flush(self):
        stats["calls"] += 1
        if self._flushing:
            stats["busy"] += 1  # it returns at once: a call for nothing
        return flush(self)

    buffer.Buffer._write = slow_write
    buffer.Buffer.flush = counted_flush
    import atexit
    STATS = sys.argv[1]
    atexit.register(lambda: open(STATS, "w").write(json.dumps(stats)))
    from skeleton_replay.cli import main
    sys.argv[0] = "skeleton"
    raise SystemExit(main(sys.argv[2:]))
""")


@needs_c
@pytest.mark.skipif(os.environ.get("SKELETON_PURE_PYTHON") == "1", reason="the C hooks are off")
def test_no_flush_call_for_each_event_while_another_thread_flushes(tmp_path):
    import json
    import subprocess
    import sys

    (tmp_path / "app.py").write_text(BUSY_APP)
    (tmp_path / "slow.py").write_text(SLOW_FLUSH)
    stats_file = tmp_path / "stats.json"
    p = subprocess.run([sys.executable, str(tmp_path / "slow.py"), str(stats_file), "run", "--no-open",
                        "--no-html", "--max-events", "0", "--project-root", str(tmp_path), "--out-dir",
                        str(tmp_path / "out"), str(tmp_path / "app.py")],
                       cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    stats = json.loads(stats_file.read_text())
    # 240k events in a few chunks; a thread that called flush for every event it appended while the other was
    # in a (slow) write of the spill made ~30,000 calls that returned at once
    assert stats["calls"] >= 2 and stats["busy"] < 50, stats
