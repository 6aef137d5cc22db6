"""The program's own exceptions reach it unchanged: a signal handler that raises while Skeleton's code runs.

A signal handler runs on top of whatever frame is executing, which under Skeleton is often the
tracer's (summarising an argument, flushing records). Its exception belongs to the program: Skeleton
must re-raise it, never record it as a tracer error and carry on (the program would then loop forever).
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import BACKENDS, skeleton  # noqa: E402
from ._checks import check_stacks, read_trace  # noqa: E402

# (backend, pure Python callbacks?)
VARIANTS = [(b, pure) for b in BACKENDS for pure in (False, True)]

# A timer interrupts a loop of project calls (with a few-KB argument, so summaries take time) 40 times;
# each Tick must reach the program's `except`. A Tick that never arrives ends the loop after 2 s: "lost".
TICKS = """
    import signal
    import time


    class Tick(Exception):
        pass


    fired = 0


    def handler(signum, frame):
        global fired
        fired += 1
        raise Tick(fired)


    class Box:
        def __init__(self, text):
            self.text = text

        def work(self, n):
            return (len(self.text) + n) % 1000


    def work(text, n):
        return Box(text).work(n)


    def spin(text, i, deadline):
        while time.monotonic() < deadline:
            i = work(text, i)
        return i


    def main():
        signal.signal(signal.SIGALRM, handler)
        text = "x" * 4000
        i = caught = lost = 0
        while caught < 40 and not lost:
            try:  # (the loop is in a function: CPython 3.13.0 can miss this try for an exception at a `while` test)
                # (in the try: on a loaded machine the Tick can come as setitimer returns, before any later line)
                signal.setitimer(signal.ITIMER_REAL, 0.003)
                i = spin(text, i, time.monotonic() + 2)
                lost += 1
            except Tick:
                caught += 1
        print("fired", fired, "caught", caught, "lost", lost)


    main()
"""

TIMEOUT = """
    import signal


    def on_alarm(signum, frame):
        raise TimeoutError("took too long")


    def work(text, n):
        return (len(text) + n) % 1000


    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    text, i = "y" * 4000, 0
    while True:
        i = work(text, i)
"""


def _run(tmp_path: Path, source: str, backend: str, pure: bool):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    plain = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    traced = skeleton("run", "--no-open", "--no-html", "--out-dir", "out", "--backend", backend, str(script),
                      cwd=tmp_path, timeout=90, env={"SKELETON_PURE_PYTHON": "1" if pure else "0"})
    return plain, traced, tmp_path / "out"


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_every_signal_handler_exception_reaches_the_program(tmp_path, backend, pure):
    plain, traced, out = _run(tmp_path, TICKS, backend, pure)
    assert plain.stdout == "fired 40 caught 40 lost 0\n", plain
    assert traced.stdout == plain.stdout, traced.stderr[-2000:]
    assert traced.returncode == plain.returncode == 0
    _, events, end = read_trace(out)
    kinds = {g["kind"] for g in end["gaps"]}
    if not pure:  # the pure-Python callbacks keep a few instruction-wide windows (docs/safety.md)
        assert "tracer_error" not in kinds, end["gaps"]
    if backend == "setprofile" and pure:
        # CPython unsets a Python profile function that raises: said in a gap, the rest of that thread is not traced
        if "interrupted" in kinds:  # (a run where no Tick came while the profiler ran keeps it)
            assert any("CPython removed it" in g["message"] for g in end["gaps"]), end["gaps"]
    else:
        # the tracer's state stayed consistent around each re-raised exception. The C paths can make 200,000 events
        # (the default --max-events) in the 40 ticks: the calls open at the cap then have no return, by design
        try:
            calls = check_stacks(events, capped="cap" in kinds)
        except AssertionError as e:  # what the tracer said about the run, to diagnose it
            raise AssertionError(f"{e}; {len(events)} events; gaps {end['gaps']}") from e
        assert sum(calls.values()) > 40


@pytest.mark.parametrize("backend,pure", VARIANTS)
def test_uncaught_timeout_ends_the_program_as_under_python(tmp_path, backend, pure):
    plain, traced, out = _run(tmp_path, TIMEOUT, backend, pure)
    assert plain.returncode == 1 and plain.stderr.strip().endswith("TimeoutError: took too long")
    assert traced.returncode == plain.returncode, traced.stderr[-2000:]
    assert "TimeoutError: took too long" in traced.stderr
    end = json.loads((out / "trace.jsonl").read_text().splitlines()[-1])
    assert end["status"] == "exception" and end["error"]["type"] == "TimeoutError"


def test_a_timeout_raised_while_a_chunk_is_written_reaches_the_program(tmp_path):
    """TimeoutError is an OSError: raised by the program's alarm handler half-way through a spill write, it is
    not a disk error (which stops the spill quietly): it goes on, and the torn chunk is cut off for the retry."""
    from skeleton_replay.capture.records import SpillWriter, read_spill

    spill = SpillWriter(tmp_path / "spill")
    spill.write([(0, 1, 1, 10, None, 0)])
    real = spill._f

    class AlarmMidWrite:  # the alarm goes off after the first bytes of the chunk are in the file
        def write(self, view):
            real.write(view[:3])
            raise TimeoutError("took too long")

        def __getattr__(self, name):
            return getattr(real, name)

    spill._f = AlarmMidWrite()
    with pytest.raises(TimeoutError, match="took too long"):
        spill.write([(1, 1, 1, 11, None, 0)])
    spill._f = real
    assert spill.error is None and spill.records_lost == 0
    spill.write([(1, 1, 1, 11, None, 0)])  # the flush writes the chunk again
    spill.close()
    assert list(read_spill(tmp_path / "spill")) == [[(0, 1, 1, 10, None, 0)], [(1, 1, 1, 11, None, 0)]]
