"""A program that runs into its recursion limit and catches the RecursionError: at the limit Skeleton's own work
(a summary, a Python callback) has no stack left, yet every call that ran must have its call and its exit
recorded, in the right pairs. Plain functions' records carry no frame id: a lost exit makes the decoder pair a
later exit with the wrong frame of the same recursion (an `unmatched` gap), a lost call shows as fewer calls
than the program made. The program counts its own calls, so the check does not depend on how many frames
Skeleton's own code takes below it."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS

from ._checks import check_stacks, read_trace, run_both

# Plain functions, a method (its receiver read at the call), a generator (yield from, one frame per level);
# probes from several depths (the limit is met at another depth of Skeleton's frames each time); a thread.
PROGRAM = """
import json
import sys
import threading

calls = {"down": 0, "probe": 0, "deeper": 0, "walk": 0}
blocks = {"MainThread": [], "worker": []}


def down(n):
    calls["down"] += 1
    return down(n + 1)


class Node:
    def deeper(self, n):
        calls["deeper"] += 1
        return self.deeper(n + 1)


def walk(n):
    calls["walk"] += 1
    yield n
    yield from walk(n + 1)


def probe(d, kind):
    calls["probe"] += 1
    if d:
        return probe(d - 1, kind)
    before = calls[kind]
    try:
        if kind == "down":
            down(0)
        elif kind == "deeper":
            Node().deeper(0)
        else:
            for _ in walk(0):
                pass
    except RecursionError:
        blocks[threading.current_thread().name].append(calls[kind] - before)
        return 1
    return 0


def main():
    sys.setrecursionlimit(200)
    total = 0
    for kind in ("down", "deeper", "walk"):
        total += sum(probe(d, kind) for d in range(0, 40, 3))
    found = []
    worker = threading.Thread(target=lambda: found.append(sum(probe(d, "down") for d in range(0, 40, 7))),
                              name="worker")
    worker.start()
    worker.join()
    print(total, found)
    with open("counts.json", "w") as f:
        json.dump({"calls": calls, "blocks": blocks}, f)


main()
"""

RECURSIVE = ("down", "deeper", "walk")


def _blocks(events: list[dict[str, Any]], names: dict[int, str]) -> dict[str, list[int]]:
    """Per thread name: the recursive calls recorded between one probe's start of recursion and its return."""
    out: dict[str, list[int]] = {}
    open_block: dict[int, int] = {}
    for e in events:
        t = e["thread"]
        f = e["callee"]["function"]
        if e["event_type"] == "call" and f in RECURSIVE:
            open_block[t] = open_block.get(t, 0) + 1
        elif e["event_type"] == "return" and f == "probe" and open_block.get(t):
            out.setdefault(names[t], []).append(open_block.pop(t))
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_call_at_the_recursion_limit_has_its_call_and_exit(tmp_path: Path, backend: str) -> None:
    plain, traced, out = run_both(tmp_path, PROGRAM, backend=backend, extra=("--max-events", "0"))
    assert plain.returncode == traced.returncode == 0, traced.stderr
    assert traced.stdout == plain.stdout == "42 [6]\n"
    header, events, end = read_trace(out)
    if "pure Python" in header.get("backend_reason", ""):
        # A Python callback cannot start where the program has no frame left (and on 3.11 CPython removes a
        # Python profile function that raises): only the C hooks lend Skeleton's work frames at the limit.
        pytest.skip("the pure-Python callbacks cannot run at the recursion limit (docs/architecture.md)")
    assert not [g for g in end["gaps"] if g["kind"] in ("unmatched", "tracer_error", "other")], end["gaps"]
    check_stacks(events)
    program = json.loads((tmp_path / "counts.json").read_text())
    made: dict[str, int] = program["calls"]
    calls: dict[str, int] = {}
    exits: dict[str, int] = {}
    for e in events:
        f = e["callee"]["function"]
        if e["event_type"] == "call":
            calls[f] = calls.get(f, 0) + 1
        elif e["event_type"] == "return":
            exits[f] = exits.get(f, 0) + 1
    assert {f: calls.get(f, 0) for f in made} == made  # every call that ran, recorded
    assert {f: exits.get(f, 0) for f in made} == made  # and its exit
    names = {t["id"]: t["name"] for t in end["threads"]}
    assert _blocks(events, names) == program["blocks"]  # each probe's own recursion, call by call
    # The deepest frame of each recursion leaves with the RecursionError, as every frame above it (setprofile
    # sees that a frame leaves by an exception, not which one)
    raised = [e for e in events if e["event_type"] == "return" and e["callee"]["function"] in ("down", "deeper")]
    kind = "RecursionError" if header["backend"] == "sysmon" else "?"
    assert raised and all((e.get("exception") or {}).get("type") == kind for e in raised)


def test_guard_calls_its_callback_with_frames_lent_at_the_limit() -> None:
    """_speedups.Guard (sys.monitoring's PY_UNWIND and PY_THROW callbacks with the C hooks): the callback's
    arguments and result pass through; at the limit the callback runs, and the program's limit is as it was."""
    from skeleton_replay.capture import speedups

    fast = speedups.load()
    if fast is None:
        pytest.skip("the C fast paths are not compiled or not wanted (SKELETON_PURE_PYTHON)")
    seen: list[tuple[Any, ...]] = []

    def callback(*args: Any) -> str:
        seen.append(args)
        return "ok"

    guard = fast.Guard(callback)
    assert guard(1, "two") == "ok" and seen == [(1, "two")]
    with pytest.raises(TypeError):
        fast.Guard(42)
    with pytest.raises(TypeError):
        fast.Guard(callback, fn=callback)
    limit = sys.getrecursionlimit()
    reached: list[int] = []

    def dive(n: int) -> None:
        try:
            dive(n + 1)
        except RecursionError:
            if not reached:  # the deepest frame: a plain call fails here, the guarded one runs (no Python in between)
                reached.append(n)
                try:
                    callback("plain")
                except RecursionError:
                    reached.append(-1)
                guard("guarded")

    sys.setrecursionlimit(150)
    try:
        dive(0)
    finally:
        sys.setrecursionlimit(limit)
    assert len(reached) == 2 and reached[1] == -1 and seen[-1] == ("guarded",)
    assert sys.getrecursionlimit() == limit
