"""The traced program forks and uses multiprocessing: the parent's trace stays whole, the
children write nothing of Skeleton's, and the parent's artifacts say that children ran untraced."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS  # noqa: E402

from ._checks import check_stacks, no_leftovers, read_trace, run_both

pytestmark = pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")

FORK_AND_MULTIPROCESSING = """
import multiprocessing as mp
import os
import sys

def work(x):
    return x * 2

def only_in_child():
    return work(21)

def forked():
    pid = os.fork()
    if pid == 0:  # the child ends here, with its own exit code
        print("child", only_in_child(), flush=True)
        os._exit(3)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)

def pools():
    for method in ("fork", "spawn", "forkserver"):
        ctx = mp.get_context(method)
        with ctx.Pool(2) as pool:
            print(method, pool.map(work, range(5)), flush=True)
        p = ctx.Process(target=work, args=(1,))
        p.start()
        p.join()
        print(method, "exit", p.exitcode, flush=True)

def main():
    print("parent sees", forked(), flush=True)
    pools()
    print("done", work(1))
    sys.exit(5)

if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_and_multiprocessing(tmp_path, backend):
    plain, traced, out = run_both(tmp_path, FORK_AND_MULTIPROCESSING, backend=backend)
    assert plain.returncode == traced.returncode == 5, traced.stderr
    assert traced.stdout == plain.stdout
    assert "child 42" in plain.stdout and "spawn exit 0" in plain.stdout and "forkserver exit 0" in plain.stdout
    assert traced.stderr.count("events recorded") == 1, traced.stderr  # no child printed a summary
    assert "Traceback" not in traced.stderr and "error" not in traced.stderr
    header, events, end = read_trace(out)
    check_stacks(events)
    assert end["status"] == "exit" and end["exit_code"] == 5
    called = [e["callee"]["function"] for e in events if e["event_type"] == "call"]
    assert called == ["main", "forked", "pools", "work"]  # nothing from the children
    gaps = [g for g in end["gaps"] if g["kind"] == "child_process"]
    # 1 os.fork + (2 pool workers + 1 process) per start method
    assert len(gaps) == 1 and gaps[0]["count"] == 10, end["gaps"]
    snap = json.loads((out / "snapshot.json").read_text())
    assert any(g["kind"] == "child_process" for g in snap["stats"]["gaps"])
    assert "child process" in (out / "workflow.md").read_text()
    assert no_leftovers(out) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_forked_child_that_runs_to_the_end_of_the_script(tmp_path, backend):
    """A child that is not os._exit-ed finishes the script like the parent: it must not write
    (or delete) the parent's artifacts, and exits with its own code."""
    plain, traced, out = run_both(tmp_path, """
        import os, sys
        def step(name):
            return name.upper()
        def main():
            pid = os.fork()
            if pid:
                _, status = os.waitpid(pid, 0)
                print("child exited", os.waitstatus_to_exitcode(status), flush=True)
                return 0
            print("in child", step("c"), flush=True)
            return 4
        code = main()
        print("leaving", code, step("p"), flush=True)
        sys.exit(code)
    """, backend=backend)
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout
    assert "child exited 4" in traced.stdout
    assert traced.stderr.count("events recorded") == 1, traced.stderr
    header, events, end = read_trace(out)
    check_stacks(events)
    assert [e["callee"]["function"] for e in events if e["event_type"] == "call"] == ["main", "step"]
    assert [g["count"] for g in end["gaps"] if g["kind"] == "child_process"] == [1]
    assert no_leftovers(out) == []


def test_terminated_multiprocessing_child_dies_like_plain_python(tmp_path):
    """Skeleton's SIGTERM handler must not be inherited by a forked child."""
    plain, traced, out = run_both(tmp_path, """
        import multiprocessing as mp, time
        def sleeper(ev):
            ev.set()
            time.sleep(60)
        if __name__ == "__main__":
            ctx = mp.get_context("fork")
            ev = ctx.Event()
            p = ctx.Process(target=sleeper, args=(ev,))
            p.start()
            ev.wait()
            p.terminate()
            p.join()
            print("exitcode", p.exitcode)
    """)
    assert plain.stdout == traced.stdout == "exitcode -15\n"
    assert plain.returncode == traced.returncode == 0
    assert "Traceback" not in traced.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_while_other_threads_are_traced(tmp_path, backend):
    """Forks while four threads call project code: no deadlock in the children, whole stacks."""
    plain, traced, out = run_both(tmp_path, """
        import os, threading
        stop = threading.Event()
        def leaf(i):
            return i + 1
        def spin(n):
            total = 0
            while not stop.is_set() and total < 20_000:  # bounded: the event count must not depend on speed much
                total = leaf(total)
            return total
        def fresh_code_in_child():
            return sum(leaf(i) for i in range(10))
        def main():
            ts = [threading.Thread(target=spin, args=(i,)) for i in range(4)]
            for t in ts:
                t.start()
            codes = []
            for i in range(20):
                pid = os.fork()
                if pid == 0:
                    os._exit(10 + fresh_code_in_child() % 7)
                codes.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            stop.set()
            for t in ts:
                t.join()
            print(sorted(set(codes)))
        main()
    """, backend=backend, extra=("--max-events", "0"))
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "[16]\n"
    header, events, end = read_trace(out)
    calls = check_stacks(events)
    assert len(calls) == 5
    assert [g["count"] for g in end["gaps"] if g["kind"] == "child_process"] == [20]
    assert not [g for g in end["gaps"] if g["kind"] in ("unmatched", "tracer_error")], end["gaps"]


def test_trace_api_in_a_forked_child(tmp_path):
    """trace(): the child's copy of the block gets a child_process result and writes nothing."""
    script = tmp_path / "api.py"
    script.write_text(f"""
import os
from skeleton_replay import trace

def work():
    return 7

with trace(out_dir={str(tmp_path / "out")!r}, project_root={str(tmp_path)!r}) as run:
    work()
    pid = os.fork()
    work()
if pid == 0:
    r = run["result"]
    print("child", r.child_process, r.trace_path, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
r = run["result"]
print("parent", r.child_process, r.event_count, r.trace_path.name)
""")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.splitlines()) == ["child True None", "parent False 4 trace.jsonl"]
    header, events, end = read_trace(tmp_path / "out")
    check_stacks(events)
    assert [g["count"] for g in end["gaps"] if g["kind"] == "child_process"] == [1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_while_threads_log(tmp_path, backend):
    """logging takes its module lock in a before-fork hook: Skeleton must not hold a lock of its
    own across the fork that a logging thread could be waiting for (a lock-order deadlock)."""
    plain, traced, out = run_both(tmp_path, """
        import logging, os, threading
        logging.basicConfig(level=logging.INFO, format="%(message)s", filename=os.devnull)
        stop = threading.Event()
        def note(i, n):
            logging.getLogger(f"t{i}.{n % 50}").info("tick %d", n)
            return n + 1
        def chatter(i):
            n = 0
            while not stop.is_set() and n < 5000:
                n = note(i, n)
        def main():
            ts = [threading.Thread(target=chatter, args=(i,)) for i in range(3)]
            for t in ts:
                t.start()
            codes = set()
            for k in range(15):
                pid = os.fork()
                if pid == 0:  # (logging in the child could hang even without Skeleton: a copied,
                    os._exit(0)  # locked stream buffer)
                codes.add(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            stop.set()
            for t in ts:
                t.join()
            print(codes)
        main()
    """, backend=backend, timeout=120)
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "{0}\n"
    header, events, end = read_trace(out)
    check_stacks(events)
    assert [g["count"] for g in end["gaps"] if g["kind"] == "child_process"] == [15]
