"""A generator whose call was only counted (started while a module was imported, past the import budget)
and that is resumed while recording is on: its recorded resumes, yields and exit have `call_id: null` ("its
call was not recorded", docs/trace-format.md), never their own order (a self-loop) or an earlier resume's.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import tracecheck
from conftest import BACKENDS, skeleton
from test_capped_exact import PURE, _edges

# The import spends its budget (the default 200,000 // 40 and any smaller one) on tick(), then the first
# calls of the module -> numbers edge take the edge reserve; G's first next() is then only counted.
GENS = textwrap.dedent('''
    def tick(i):
        return i


    def numbers(limit):
        n = 0
        while n < limit:
            yield n
            n += 1


    for i in range(6000):
        tick(i)
    for _ in range(4):
        sum(numbers(2))
    G = numbers(100)
    FIRST = next(G)
''')

MAIN = textwrap.dedent('''
    import gens


    def main():
        total = 0
        for _ in range(5):
            total += next(gens.G)
        print(total)


    main()
''')

RESUMES = 5  # main()'s next(gens.G)


def _write(tmp_path: Path) -> Path:
    (tmp_path / "gens.py").write_text(GENS)
    script = tmp_path / "app.py"
    script.write_text(MAIN)
    return script


def _run(tmp_path: Path, script: Path, backend: str, pure: bool, cap: int | None, tag: str,
         env: dict[str, str] | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    out = tmp_path / f"out-{tag}"
    cap_args = [] if cap is None else ["--max-events", str(cap)]
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, *cap_args, "--out-dir", str(out),
                 "--project-root", str(script.parent), str(script),
                 env={"SKELETON_PURE_PYTHON": "1" if pure else "0", **(env or {})}, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == "15"  # 1 + 2 + 3 + 4 + 5: the program ran as without Skeleton
    lines = tracecheck.check_trace(out / "trace.jsonl")  # the format, with its call_id rules
    return json.loads((out / "snapshot.json").read_text()), lines[1:-1]


def _of_numbers(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["callee"]["qualified_name"] == "numbers"]


@pytest.mark.parametrize("pure", PURE)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cap", [None, 40], ids=["default", "cap40"])
def test_resume_of_a_counted_generator_call_has_a_null_call_id(
    tmp_path: Path, backend: str, pure: bool, cap: int | None
) -> None:
    script = _write(tmp_path)
    full, full_events = _run(tmp_path, script, backend, pure, 0, "full")
    snap, events = _run(tmp_path, script, backend, pure, cap, "budgeted")

    # uncapped: every event of G points to G's recorded call
    resumes = [e for e in _of_numbers(full_events) if e["event_type"] == "resume"]
    assert len(resumes) == RESUMES + 4 * 2, resumes  # sum(numbers(2)) resumes each generator twice
    assert all(e["call_id"] is not None and full_events[e["call_id"]]["event_type"] == "call" for e in resumes)

    # budgeted: G's call was counted; its recorded events say so with call_id null
    unrecorded = [e for e in _of_numbers(events) if e["call_id"] is None]
    assert [e["event_type"] for e in unrecorded] == ["resume", "yield"] * RESUMES, unrecorded
    assert all(e["call_id"] is not None or e["event_type"] != "call" for e in events)
    for e in events:  # no event points to itself or to anything but a call
        if e["call_id"] is not None and e["event_type"] != "call":
            assert events[e["call_id"]]["event_type"] == "call", e
    assert [e["caller"]["qualified_name"] for e in unrecorded if e["event_type"] == "resume"] == ["main"] * RESUMES

    # counted exactly as the uncapped run records
    assert snap["stats"]["dropped_events"] > 0
    fe, ce = _edges(full), _edges(snap)
    assert {k: (fe.get(k, 0), ce.get(k, 0)) for k in fe | ce if fe.get(k, 0) != ce.get(k, 0)} == {}
    assert snap["stats"]["calls"] == full["stats"]["calls"]
    assert snap["stats"]["events"] == full["stats"]["events"]


def test_post_worker_writes_the_same_null_call_ids(tmp_path: Path) -> None:
    """The post-processing helper (SKELETON_POSTWORKER=1) decodes through the same Decoder."""
    script = _write(tmp_path)
    backend = BACKENDS[-1]
    _, inline = _run(tmp_path, script, backend, False, 40, "inline", {"SKELETON_POSTWORKER": "0"})
    _, worker = _run(tmp_path, script, backend, False, 40, "worker", {"SKELETON_POSTWORKER": "1"})
    key = [(e["event_type"], e["call_id"]) for e in _of_numbers(inline)]
    assert key == [(e["event_type"], e["call_id"]) for e in _of_numbers(worker)]
    assert sum(1 for _, c in key if c is None) == 2 * RESUMES
