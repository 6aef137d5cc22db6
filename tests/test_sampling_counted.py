"""snapshot stats.sampling.counted: the calls only counted past the recording budgets, in scenarios and outside
them (the report's Recording panel states them next to what each phase recorded)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import orjson
import pytest
from conftest import BACKENDS, skeleton

SUITE = textwrap.dedent("""
    def leaf(i):
        return i + 1

    def work(n):
        return sum(leaf(i) for i in range(n))

    work(300)  # import time: counted past the imports' budget

    def test_small():
        assert work(5) == 15

    def test_big():
        assert work(400) == 80200
""")


@pytest.mark.parametrize("backend", BACKENDS)
def test_snapshot_says_how_many_calls_were_only_counted(tmp_path: Path, backend: str) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    out = tmp_path / "out"
    proc = skeleton("pytest", "--no-open", "--no-html", "--backend", backend, "--max-events", "400",
                    "--out-dir", str(out), "--", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                    "test_suite.py", cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    end = orjson.loads((out / "trace.jsonl").read_bytes().splitlines()[-1])
    counted = snap["stats"]["sampling"]["counted"]
    in_tests = sum(c["calls"] for c in end["counted"] if c.get("scenario") is not None)
    outside = sum(c["calls"] for c in end["counted"] if c.get("scenario") is None)
    assert in_tests > 0 and outside > 0  # the big test and the import both went past their budgets
    assert counted == {"calls": in_tests + outside, "in_scenarios": in_tests}
    # every call is either recorded (a call event) or counted
    calls_recorded = sum(1 for line in (out / "trace.jsonl").read_bytes().splitlines()
                         if b'"event_type":"call"' in line)
    assert snap["stats"]["calls"] == calls_recorded + counted["calls"]
