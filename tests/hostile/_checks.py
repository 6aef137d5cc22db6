"""Helpers for hostile tests: run a program plain and traced, and check a trace's structure."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
import tracecheck  # noqa: E402
from conftest import skeleton  # noqa: E402


def run_both(tmp_path: Path, source: str, *args: str, backend: str | None = None, out: str = "out",
             extra: tuple[str, ...] = (), name: str = "prog.py", timeout: float = 300):
    """(plain python result, skeleton result, out dir) for one script."""
    script = tmp_path / name
    script.write_text(textwrap.dedent(source))
    plain = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, capture_output=True, text=True,
                           timeout=timeout)
    opts = ["run", "--no-open", "--no-html", "--out-dir", out, *(["--backend", backend] if backend else []), *extra,
            str(script), *args]
    traced = skeleton(*opts, cwd=tmp_path, timeout=timeout)
    return plain, traced, tmp_path / out


def read_trace(out: Path) -> tuple[dict, list[dict], dict]:
    lines = tracecheck.check_trace(out / "trace.jsonl")  # header first, end last, trace.schema.json
    return lines[0], lines[1:-1], lines[-1]


def check_stacks(events: list[dict], capped: bool = False) -> dict[int, int]:
    """Every thread's events form a well-nested stack: each call or resume is closed by its own
    return (or exception exit) or yield, depths are the stack height and never negative, order is
    gap-free. Generators may suspend in one place and resume in another, on the same thread.
    `capped`: the trace stopped at --max-events (a `cap` gap), so the calls open then have no return.
    Returns the number of calls per thread."""
    assert [e["order"] for e in events] == list(range(len(events))), "order has gaps"
    stacks: dict[int, list[int]] = {}
    calls: dict[int, int] = {}
    seen_calls: set[int] = set()
    for e in events:
        t = e["thread"]
        stack = stacks.setdefault(t, [])
        kind = e["event_type"]
        assert e["depth"] >= 0, e
        if kind in ("call", "resume"):
            if kind == "call":
                assert e["call_id"] == e["order"] and e["call_id"] not in seen_calls
                seen_calls.add(e["call_id"])
                calls[t] = calls.get(t, 0) + 1
            else:
                assert e["call_id"] in seen_calls, f"resume of an unknown call: {e}"
            assert e["depth"] == len(stack), (e, stack)
            stack.append(e["call_id"])
        elif kind in ("return", "yield"):
            assert stack and stack[-1] == e["call_id"], f"{kind} of {e['call_id']} but stack top is {stack[-1:]}"
            stack.pop()
            assert e["depth"] == len(stack), (e, stack)
        else:
            raise AssertionError(f"unknown event type {kind}")
    for t, stack in stacks.items():
        assert capped or not stack, f"thread {t}: calls without a return: {stack}"
    return calls


def no_leftovers(out: Path) -> list[str]:
    """Files other than the artifacts left in the output folder (spill, sidecars, temp files)."""
    allowed = {"trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json"}
    return sorted(p.name for p in out.iterdir() if p.name not in allowed)
