"""The tracer never runs the program's code and never shows in the program's view of itself.

Each program plants hooks that count how often they are called from Skeleton's frames (a str
subclass as a class's __module__, module globals that are a dict subclass, a Thread subclass's
`name` property, replaced builtins) or measures what Skeleton could leave behind (weak references,
memory growth seen by tracemalloc). The counts must be zero and the run must record its events.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS, HAS_SYSMON, skeleton  # noqa: E402

VARIANTS = [(b, pure) for b in BACKENDS for pure in (False, True)]

# Counts calls made by Skeleton's code (the program's own calls are not counted).
COUNTER = """
    import sys
    calls = {}

    def count(name):
        if "skeleton_replay" in sys._getframe(2).f_code.co_filename:
            calls[name] = calls.get(name, 0) + 1
"""


def _run(tmp_path: Path, source: str, backend: str, pure: bool, extra: tuple[str, ...] = ()):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(COUNTER) + textwrap.dedent(source))
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    traced = skeleton("run", "--no-open", "--no-html", "--out-dir", "out", "--backend", backend, *extra, str(script),
                      cwd=tmp_path, timeout=180, env={"SKELETON_PURE_PYTHON": "1" if pure else "0"})
    assert plain.returncode == 0, plain.stderr
    assert traced.returncode == 0, traced.stderr[-3000:]
    lines = [json.loads(line) for line in (tmp_path / "out" / "trace.jsonl").read_text("utf-8").splitlines()]
    return plain, traced, lines[1:-1], lines[-1]


def _no_tracer_errors(end: dict) -> None:
    assert not [g for g in end["gaps"] if g["kind"] == "tracer_error"], end["gaps"]


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_str_subclass_module_name_is_never_called_and_nothing_is_lost(tmp_path, backend, pure):
    plain, traced, events, end = _run(tmp_path, """
        class Name(str):
            def __eq__(self, other):
                count("__eq__"); return str.__eq__(self, other)
            __hash__ = str.__hash__
            def __format__(self, spec):
                count("__format__"); return str.__format__(self, spec)
            def __str__(self):
                count("__str__"); return str.__str__(self)
            @property
            def __class__(self):
                count("__class__"); return str

        class Widget:
            pass
        Widget.__module__ = Name("widgets")

        def use(w, n):
            return n + 1

        def main():
            w, total = Widget(), 0
            for i in range(300):
                total = use(w, total)
            print(total, sorted(calls.items()))

        main()
    """, backend, pure)
    assert traced.stdout == plain.stdout == "300 []\n"
    _no_tracer_errors(end)
    assert sum(e["event_type"] == "call" for e in events) == 301  # no chunk of records was lost
    arg = next(e for e in events if e["event_type"] == "call" and e["callee"]["function"] == "use")["args"]["w"]
    assert arg["type"] == "Widget"  # a module name that is not an exact str is not used


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_dict_subclass_globals_are_not_consulted(tmp_path, backend, pure):
    (tmp_path / "plugin.py").write_text("def hello(n):\n    return n * 2\n\ndef run():\n    return sum(hello(i) for i in range(50))\n")
    plain, traced, events, end = _run(tmp_path, """
        import os

        class Globals(dict):
            def get(self, key, default=None):
                count("get"); return dict.get(self, key, default)
            def __contains__(self, key):
                count("__contains__"); return dict.__contains__(self, key)

        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugin.py")
        with open(path) as f:
            code = compile(f.read(), path, "exec")
        g = Globals(__name__="plugin", __builtins__=__builtins__)
        exec(code, g)
        print(g["run"](), sorted(calls.items()))
    """, backend, pure)
    assert traced.stdout == plain.stdout == "2450 []\n"
    _no_tracer_errors(end)
    assert sum(e["event_type"] == "call" and e["callee"]["function"] == "hello" for e in events) == 50


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_thread_subclass_name_property_is_not_called(tmp_path, backend, pure):
    plain, traced, events, end = _run(tmp_path, """
        import threading

        class Worker(threading.Thread):
            @property
            def name(self):
                count("name"); return "worker-property"
            @name.setter
            def name(self, value):
                pass
            def __getattribute__(self, attr):
                count("attribute " + attr)  # any attribute read by Skeleton (the property is read through here)
                return object.__getattribute__(self, attr)

        def job(n):
            return n + 1

        def body():
            return [job(i) for i in range(5)]

        w = Worker(target=body, name="w1")
        w.start()
        w.join()
        print(sorted(calls.items()))
    """, backend, pure)
    assert traced.stdout == plain.stdout == "[]\n"
    _no_tracer_errors(end)
    assert sum(e["event_type"] == "call" and e["callee"]["function"] == "job" for e in events) == 5


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_replaced_builtins_are_never_called_by_the_tracer(tmp_path, backend, pure):
    plain, traced, events, end = _run(tmp_path, """
        import builtins

        def spy(name, real):
            def wrapper(*args, **kwargs):
                count(name)
                return real(*args, **kwargs)
            return wrapper

        # functions only: a program that replaces a type (str, dict...) breaks the standard library itself
        names = ("len", "id", "isinstance", "issubclass", "repr", "getattr", "hasattr", "min", "max", "iter",
                 "next", "sorted", "any", "all", "sum", "hash", "callable", "vars", "format", "divmod", "abs")
        saved = {n: getattr(builtins, n) for n in names}
        for n in names:
            setattr(builtins, n, spy(n, saved[n]))

        class Point:
            def __init__(self, x):
                self.x = x
            def moved(self, dx, label):
                return Point(self.x + dx)

        def walk(items, text, mapping):
            p = Point(0)
            for i in items:
                p = p.moved(i, text)
            return p.x, text[:3], mapping

        def gen(n):
            for i in range(n):
                yield i

        def main():
            out = walk([1, 2, 3] * 40, "x" * 5000, {"a": [1, (2, 3)], "b": b"bytes", "c": 1.5})
            out2 = [v for v in gen(30)]
            try:
                raise ValueError("boom")
            except ValueError:
                pass
            return out, saved["len"](out2)

        result = main()
        for n in names:
            setattr(builtins, n, saved[n])
        print(result[0][0], result[1], sorted(calls.items()))
    """, backend, pure)
    assert traced.stdout == plain.stdout == "240 30 []\n"
    _no_tracer_errors(end)
    assert sum(e["event_type"] == "call" for e in events) > 120


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_no_weak_reference_is_added_to_the_programs_objects(tmp_path, backend, pure):
    plain, traced, events, end = _run(tmp_path, """
        import weakref

        class Account:
            def __init__(self, n):
                self.n = n
            def deposit(self, amount):
                return self.n + amount

        def pay(account, amount):
            return account.deposit(amount)

        accounts = [Account(i) for i in range(3)]
        total = sum(pay(a, 10) for a in accounts)
        print(total, [weakref.getweakrefcount(a) for a in accounts])
    """, backend, pure)
    assert traced.stdout == plain.stdout == "33 [0, 0, 0]\n"
    _no_tracer_errors(end)


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_a_new_object_at_a_freed_objects_address_is_a_new_instance(tmp_path, backend, pure):
    plain, traced, events, end = _run(tmp_path, """
        class Job:
            def __init__(self, n):
                self.n = n
            def run(self):
                return self.n

        class Child(Job):
            def __init__(self, n):
                super().__init__(n)   # the same object: keeps its id
                self.run()

        def main():
            ids = set()
            for i in range(6):
                j = Job(i)           # the previous Job is freed first: often at the same address
                ids.add(id(j))
                j.run()
                del j
            Child(9).run()
            return len(ids)

        print(main() >= 1)
    """, backend, pure)
    assert traced.stdout == plain.stdout == "True\n"
    runs = [e for e in events if e["event_type"] == "call" and e["callee"]["function"] == "run"]
    jobs = {e["callee"]["instance_id"] for e in runs[:6]}
    assert len(jobs) == 6, runs  # six objects, six instances, whatever their addresses
    assert runs[6]["callee"]["instance_id"] == runs[7]["callee"]["instance_id"]  # Child: __init__'s self.run() and the later run()


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_tracemalloc_sees_no_growth_from_the_tracer(tmp_path, backend, pure):
    # A real project's test bounded its memory growth with tracemalloc and failed only under Skeleton.
    plain, traced, events, end = _run(tmp_path, """
        import tracemalloc

        def step(i):
            return i + 1

        def loop(n):
            x = 0
            for _ in range(n):
                x = step(x)
            return x

        tracemalloc.start()
        loop(40_000)                      # the tracer notices tracemalloc (the pure-Python callbacks at a flush)
        base = tracemalloc.get_traced_memory()[0]
        growth = 0
        for _ in range(20):
            loop(1_000)
            growth = max(growth, tracemalloc.get_traced_memory()[0] - base)
        tracemalloc.stop()
        print(growth < 262_144, "" if growth < 262_144 else growth)
    """, backend, pure)
    assert plain.stdout == "True \n"
    assert traced.stdout == plain.stdout
    _no_tracer_errors(end)
    assert len(events) > 100_000


@pytest.mark.skipif(not HAS_SYSMON, reason="sys.monitoring is 3.12+")
@pytest.mark.parametrize("pure", [False, True])
def test_program_frees_skeletons_tool_id(tmp_path, pure):
    plain, traced, events, end = _run(tmp_path, """
        import sys

        def work(n):
            return n + 1

        work(1)
        for tool in range(6):
            if sys.monitoring.get_tool(tool) == "skeleton":
                sys.monitoring.free_tool_id(tool)
        print(work(2))
    """, "sysmon", pure)
    assert traced.stdout == plain.stdout == "3\n"
    assert end["exit_code"] == 0 and end["status"] == "ok"
    assert any("freed sys.monitoring tool id" in g["message"] for g in end["gaps"]), end["gaps"]
    assert any(e["callee"]["function"] == "work" for e in events)


@pytest.mark.skipif(not HAS_SYSMON, reason="sys.monitoring is 3.12+")
def test_program_replaces_skeletons_callbacks(tmp_path):
    plain, traced, events, end = _run(tmp_path, """
        import sys

        def work(n):
            return n + 1

        work(1)
        mon = sys.monitoring
        for tool in range(6):
            if mon.get_tool(tool) == "skeleton":
                mon.register_callback(tool, mon.events.PY_START, lambda code, offset: None)
                mon.set_events(tool, 0)
        print(work(2))
    """, "sysmon", False)
    assert traced.stdout == plain.stdout == "3\n"
    messages = " ".join(g["message"] for g in end["gaps"])
    assert "replaced Skeleton's sys.monitoring PY_START callback" in messages
    assert "changed the sys.monitoring events" in messages


@pytest.mark.parametrize("pure", [False, True])
def test_program_removes_the_profilers(tmp_path, pure):
    plain, traced, events, end = _run(tmp_path, """
        import sys, threading

        def work(n):
            return n + 1

        work(1)
        sys.setprofile(None)
        threading.setprofile(None)
        print(work(2))
    """, "setprofile", pure)
    assert traced.stdout == plain.stdout == "3\n"
    messages = " ".join(g["message"] for g in end["gaps"])
    assert "the profiler was removed from the thread" in messages
    assert "replaced the profiler for new threads" in messages
