"""Post-processing on the other core while the program runs (skeleton_replay/postworker.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson

from conftest import skeleton
from skeleton_replay.events.types import TraceEnd
from skeleton_replay.pipeline import from_spill

APP = textwrap.dedent("""
    import os, sys, time

    class Counter:
        def __init__(self):
            self.n = 0
        def bump(self, k):
            self.n += k
            return self.n

    def work(c, n):
        for i in range(n):
            c.bump(i % 3)
        return c.n

    def main():
        c = Counter()
        total = work(c, 30_000)
        if "--kill-worker" in sys.argv:  # the worker dies mid-run: the main process must do it all
            for pid in os.listdir("/proc"):
                if pid.isdigit():
                    try:
                        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                    except OSError:
                        continue
                    if b"skeleton_replay.postworker" in cmd:
                        os.kill(int(pid), 9)
        if "--wait" in sys.argv:  # reaps any child: must neither reap nor wait for the worker
            if os.fork() == 0:
                os._exit(7)
            _, status = os.wait()
            try:
                os.wait()
                print("another child!")
            except ChildProcessError:
                pass
        total += work(c, 30_000)
        print("total", total)

    main()
""")


def _run(tmp_path: Path, name: str, *args: str, env: dict | None = None) -> tuple[Path, subprocess.CompletedProcess]:
    script = tmp_path / "app.py"
    script.write_text(APP)
    out = tmp_path / name
    p = skeleton("run", "--no-open", "--max-events", "20000", "--out-dir", str(out), "--project-root", str(tmp_path),
                 str(script), *args, env={"SKELETON_POSTWORKER": "1", **(env or {})}, timeout=180)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "total 90000"
    return out, p


def _assert_budgets_used(events: int, end: dict) -> None:
    """--max-events 20000 (docs/trace-format.md "Sampling"): 1/20 is kept for the first calls of edges met past
    the budgets, so the loop records about 19,000 events plus those first calls; never more than 20,000."""
    s = end["sampling"]
    assert events == s["imports"]["recorded"] + s["work"]["recorded"] + s.get("scenarios", {}).get("recorded", 0)
    assert s["edges"]["reserve"] == 1000 and 0 < s["edges"]["recorded"] <= 1000
    assert 20000 - 1000 <= events <= 20000
    assert end["dropped_events"] > 0


def test_the_worker_writes_what_the_main_process_would(tmp_path):
    out, p = _run(tmp_path, "w", env={"SKELETON_KEEP_SPILL": "1"})
    metrics = orjson.loads((out / "session.json").read_bytes())["metrics"]
    assert metrics["calls"] == 60003
    _assert_budgets_used(metrics["events"], orjson.loads((out / "trace.jsonl").read_bytes().splitlines()[-1]))
    assert metrics["worker_cpu_s"] > 0  # the worker did run (it reports its own cost)
    assert not list(out.glob(".post-worker*")) and not (out / "trace.jsonl.partial").exists()
    # The same spill, post-processed here: byte-identical artifacts.
    header = orjson.loads((out / ".trace-header.json").read_bytes())
    end_line = orjson.loads((out / "trace.jsonl").read_bytes().splitlines()[-1])
    end = {k: end_line[k] for k in TraceEnd.RUN_FIELDS if k in end_line}
    end["gaps"] = [g for g in end_line["gaps"] if g["kind"] != "cap"]  # the cap gap is added when writing
    again = tmp_path / "again"
    again.mkdir()
    from_spill(out / ".trace.spill", again, header, end, 20000, True)
    for name in ("trace.jsonl", "snapshot.json", "workflow.md", "report.html"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_a_program_that_reaps_any_child_neither_reaps_nor_waits_for_the_worker(tmp_path):
    out, p = _run(tmp_path, "w", "--wait")
    assert "another child!" not in p.stdout
    assert (out / "report.html").exists()


def test_off_unless_asked_for(tmp_path):
    out, p = _run(tmp_path, "o", env={"SKELETON_POSTWORKER": "0"})
    assert "worker_cpu_s" not in orjson.loads((out / "session.json").read_bytes())["metrics"]


def test_a_dead_worker_leaves_the_work_to_the_main_process(tmp_path):
    out, p = _run(tmp_path, "k", "--kill-worker")
    assert "worker_cpu_s" not in orjson.loads((out / "session.json").read_bytes())["metrics"]
    serial, _ = _run(tmp_path, "s", env={"SKELETON_SERIAL": "1"})
    snap, ref = (orjson.loads((d / "snapshot.json").read_bytes()) for d in (out, serial))
    assert snap["stats"]["calls"] == ref["stats"]["calls"] == 60003
    assert [(e["id"], e["count"]) for e in snap["edges"]] == [(e["id"], e["count"]) for e in ref["edges"]]
    lines = (out / "trace.jsonl").read_bytes().splitlines()
    end, ref_end = (orjson.loads((d / "trace.jsonl").read_bytes().splitlines()[-1]) for d in (out, serial))
    _assert_budgets_used(len(lines) - 2, end)  # header + events + end record
    assert end["sampling"] == ref_end["sampling"]
    assert not list(out.glob(".post-worker*"))


def test_a_worker_the_main_process_gives_up_on_is_gone_before_it_does_the_work(tmp_path):
    """Two writers of trace.jsonl.partial would rename each other's half-written file into place."""
    from skeleton_replay.postworker import Worker

    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        worker = Worker(stand_in.pid, tmp_path / "gone", "0123456789abcdef")  # END cannot be written there
        assert worker.finish({"exit_code": 0}) is None
        assert stand_in.poll() == -9  # killed, and already dead when finish() returned
    finally:
        stand_in.kill()
        stand_in.wait()
