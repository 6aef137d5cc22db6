"""Past the recording budgets calls are only counted (capture/counting.py): a capped run must count every
call, raise and event exactly as the uncapped run of the same program records them.

Generators are the hard case: a generator's call is counted on the edge from the frame that started it,
and a later raise (resumed by any other frame) belongs to that edge, as a recorded trace credits it; each
resume and yield is an event of its own.
"""
from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS, skeleton

# f() creates and starts the generator, g() resumes it and it raises: the raise is on the edge f -> gen.
# keep() starts generators that yield several times and are resumed by drain(): resumes and yields
# past the cap are events the uncapped run records. The loop runs long after the cap.
GENERATORS = textwrap.dedent('''
    def gen(n):
        yield n
        raise ValueError(n)

    def f(n):
        it = gen(n)
        next(it)
        return it

    def g(it):
        try:
            next(it)
        except ValueError:
            return 1
        return 0

    def counter(n):
        for i in range(n):
            yield i

    def keep(n):
        it = counter(n)
        next(it)
        return it

    def drain(it):
        return sum(it)

    def main():
        total = 0
        for i in range(60):
            total += g(f(i))
            total += drain(keep(i % 4 + 1))
        print(total)

    main()
''')

PURE = [pytest.param(False, id="C"), pytest.param(True, id="pure")]


def _run(tmp_path: Path, script: Path, backend: str, pure: bool, cap: int, tag: str) -> dict[str, Any]:
    out = tmp_path / f"out-{tag}"
    env = {"SKELETON_PURE_PYTHON": "1" if pure else "0"}
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--max-events", str(cap), "--out-dir",
                 str(out), "--project-root", str(script.parent), str(script), env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    snap: dict[str, Any] = json.loads((out / "snapshot.json").read_text())
    return snap


def _edges(snap: dict[str, Any]) -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for e in snap["edges"]:
        k = re.sub(r"#(\d+|\*)", "#", e["id"])
        out[(k, "calls")] += e["count"]
        out[(k, "raised")] += e["raised"]
    return +out


def _full_and_capped(tmp_path: Path, name: str, text: str, backend: str, pure: bool, cap: int) -> tuple[
        dict[str, Any], dict[str, Any], Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """The program run uncapped and with --max-events cap: both snapshots and their edges' counts."""
    script = tmp_path / name
    script.write_text(text)
    full = _run(tmp_path, script, backend, pure, 0, "full")
    capped = _run(tmp_path, script, backend, pure, cap, "capped")
    return full, capped, _edges(full), _edges(capped)


def _assert_counted_as_recorded(full: dict[str, Any], capped: dict[str, Any], fe: Counter[tuple[str, str]],
                                ce: Counter[tuple[str, str]]) -> None:
    """The capped run counts what the uncapped run records: every edge's calls and raises, every call, and
    every event (calls, returns, raises, yields and resumes), recorded or counted."""
    assert {k: (fe.get(k, 0), ce.get(k, 0)) for k in fe | ce if fe.get(k, 0) != ce.get(k, 0)} == {}
    assert capped["stats"]["calls"] == full["stats"]["calls"]
    assert capped["stats"]["events"] == full["stats"]["events"]
    assert capped["stats"]["events"] == capped["stats"]["recorded_events"] + capped["stats"]["dropped_events"]


@pytest.mark.parametrize("pure", PURE)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", [40, 400])
def test_generator_raise_resumed_elsewhere_is_counted_on_its_call_edge(
    tmp_path: Path, backend: str, pure: bool, cap: int
) -> None:
    full, capped, fe, ce = _full_and_capped(tmp_path, "gens.py", GENERATORS, backend, pure, cap)
    assert capped["stats"]["dropped_events"] > 0 and full["stats"]["dropped_events"] == 0
    raised_f = [v for (k, what), v in fe.items() if what == "raised" and k == "fn:gens:f->fn:gens:gen"]
    assert raised_f == [60], fe  # the uncapped run credits every raise to f -> gen
    for e in capped["edges"]:
        assert e["count"] or not e["raised"], f"{e['id']}: raised {e['raised']} on an edge with no call"
    _assert_counted_as_recorded(full, capped, fe, ce)


# Generators started while the run records and resumed once its budget is spent (their resumes and exits are
# then written as records, so that the decoder resumes the recorded frame), and generators started and
# resumed past the budget (counted).
GENS_MODULE = textwrap.dedent('''
    def gen(n):
        yield n
        raise ValueError(n)

    def start(n):
        it = gen(n)
        next(it)
        return it
''')

GENS_MAIN = textwrap.dedent('''
    def finish(it):
        try:
            next(it)
        except ValueError:
            return 1
        return 0

    def main():
        import gens_mod
        started = []
        for i in range(120):
            started.append(gens_mod.start(i))
        total = 0
        for it in started:
            total += finish(it)
        print(total)

    main()
''')


@pytest.mark.parametrize("pure", PURE)
@pytest.mark.parametrize("backend", BACKENDS)
def test_generators_started_while_recording_and_resumed_past_the_budget(
    tmp_path: Path, backend: str, pure: bool
) -> None:
    (tmp_path / "gens_mod.py").write_text(GENS_MODULE)
    script = tmp_path / "gens_main.py"
    script.write_text(GENS_MAIN)
    full = _run(tmp_path, script, backend, pure, 0, "full")
    capped = _run(tmp_path, script, backend, pure, 400, "capped")
    assert capped["stats"]["dropped_events"] > 0
    fe, ce = _edges(full), _edges(capped)
    assert fe[("fn:gens_mod:start->fn:gens_mod:gen", "raised")] == 120, fe
    _assert_counted_as_recorded(full, capped, fe, ce)


# Exceptions raised two and three frames below their handler, through methods and a recursion, some of them
# re-raised; a GeneratorExit closing a generator; an exception raised and caught in untraced code (json), all
# in a loop that runs long after the cap. (Past the cap, sys.monitoring's PY_UNWIND of a counted call is
# handled by the C hooks: _speedups.c unwind_core.)
RAISES = textwrap.dedent('''
    import json

    class Bad(Exception):
        pass

    class Parser:
        def parse(self, text):
            if not text.isdigit():
                raise Bad(text)
            return int(text)

        def pair(self, a, b):
            return self.parse(a) + self.parse(b)

    def deep(n):
        if n == 0:
            raise KeyError(n)
        return deep(n - 1)

    def relay(p, a, b):
        try:
            return p.pair(a, b)
        except Bad:
            raise ValueError(a)

    def numbers():
        yield 1
        yield 2

    def main():
        p = Parser()
        total = 0
        for i in range(300):
            try:
                total += relay(p, str(i), "x" if i % 3 == 0 else "7")
            except ValueError:
                total -= 1
            try:
                deep(i % 4)
            except KeyError:
                total += 1
            it = numbers()
            next(it)
            it.close()
            try:
                json.loads("{")
            except ValueError:
                total += 2
        print(total)

    main()
''')


@pytest.mark.parametrize("pure", PURE)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", [60, 900])
def test_raises_past_the_cap_are_counted_on_their_edges(tmp_path: Path, backend: str, pure: bool, cap: int) -> None:
    full, capped, fe, ce = _full_and_capped(tmp_path, "raises.py", RAISES, backend, pure, cap)
    assert capped["stats"]["dropped_events"] > 2000 and full["stats"]["dropped_events"] == 0
    assert fe[("fn:raises:relay->meth:raises.Parser#.pair", "raised")] == 300 // 3
    assert fe[("fn:raises:deep->fn:raises:deep", "raised")] > 300
    _assert_counted_as_recorded(full, capped, fe, ce)


# Three threads resume counted generators (functions' and methods') long past the cap, switching often: the C
# hooks keep a thread's resume events aside until they fold them into its state (_speedups.c fold_resumed), and
# must hand them to the right thread whenever another one resumes.
THREADED_GENERATORS = textwrap.dedent('''
    import sys
    import threading

    def counter(n):
        for i in range(n):
            yield i

    class Box:
        def __init__(self, n):
            self.n = n

        def items(self):
            for i in range(self.n):
                yield i

    def drain(it):
        return sum(it)

    def work():
        t = 0
        for i in range(300):
            t += drain(counter(i % 7 + 1)) + drain(Box(i % 5 + 1).items())
        return t

    def main():
        sys.setswitchinterval(1e-5)
        out = []
        threads = [threading.Thread(target=lambda: out.append(work())) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(sum(out))

    main()
''')


@pytest.mark.parametrize("pure", PURE)
@pytest.mark.parametrize("backend", BACKENDS)
def test_generator_events_of_several_threads_past_the_cap_are_all_counted(
    tmp_path: Path, backend: str, pure: bool
) -> None:
    full, capped, fe, ce = _full_and_capped(tmp_path, "threads_gens.py", THREADED_GENERATORS, backend, pure, 400)
    assert capped["stats"]["dropped_events"] > 10_000 and full["stats"]["dropped_events"] == 0
    _assert_counted_as_recorded(full, capped, fe, ce)
