"""What the I/O probes (environment, console, SQL: capture/boundaries.py) cost a traced program, in-program.

Three programs, each timing its own work (perf_counter around the loop, so start-up and post-processing are
left out), run traced with the probes on and off (SKELETON_IO_PROBES=0; the audit hook stays on in both):

  sites   20,000 distinct call sites, each run once: the CALL event's one-time cost per call site (3.12+)
  calls   the bench's call_heavy workload: the probes must cost nothing per call once its sites are DISABLEd
  io      20,000 prints (to /dev/null), os.environ reads and sqlite3 executes: the cost per watched call

    python bench/io_probes_cost.py [--python PY] [--repeat 5]

Prints the median in-program seconds per (program, probes) and the ratio on/off.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

SITES = """
import time
src = "\\n".join(f"def f{i}(x):\\n    return abs(x) + len([x]) + int({i})" for i in range(20000))
ns = {}
exec(compile(src, "sites_gen.py", "exec"), ns)
funcs = [ns[f"f{i}"] for i in range(20000)]

def main():
    t = time.perf_counter()
    for f in funcs:
        f(1)
    return time.perf_counter() - t

print("SECONDS", main())
"""

IO = """
import os, sqlite3, sys, time

def work(n):
    out = open(os.devnull, "w")
    old, sys.stdout = sys.stdout, out
    c = sqlite3.connect(":memory:")
    c.execute("CREATE TABLE t (x)")
    t = time.perf_counter()
    for i in range(n):
        print("line", i)
        os.environ.get("HOME")
        c.execute("INSERT INTO t VALUES (?)", (i,))
    t = time.perf_counter() - t
    sys.stdout = old
    return t

print("SECONDS", work(20000))
"""


def _run(python: str, script: Path, probes: bool, args: list[str]) -> float:
    env = {**os.environ, "SKELETON_IO_PROBES": "1" if probes else "0", "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run(
            [python, "-m", "skeleton_replay", "run", "--no-open", "--no-html", "--out-dir", out, str(script), *args],
            capture_output=True, text=True, env=env, cwd=script.parent, check=True,
        )
    for line in p.stdout.splitlines():
        if line.startswith("SECONDS "):
            return float(line.split()[1])
        if line.startswith("{") and '"elapsed' in line:
            return float(json.loads(line)["elapsed_s"])
    raise SystemExit(f"no timing printed by {script.name}: {p.stdout[-300:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", default=sys.executable)  # (made absolute: the programs run in a temporary folder)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    a.python = os.path.abspath(a.python) if os.sep in a.python else a.python
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pyproject.toml").write_text("[project]\nname = 'probe-bench'\n")
        programs: dict[str, tuple[Path, list[str]]] = {
            "sites": (folder / "sites.py", []),
            "io": (folder / "io_calls.py", []),
        }
        programs["sites"][0].write_text(textwrap.dedent(SITES))
        programs["io"][0].write_text(textwrap.dedent(IO))
        calls = folder / "calls.py"
        calls.write_text(
            "import runpy, sys, time\n"
            f"sys.argv = [{str(HERE / 'workloads' / 'call_heavy.py')!r}, '--scale', '0.2']\n"
            f"sys.path.insert(0, {str(HERE / 'workloads')!r})\n"
            "t = time.perf_counter()\n"
            f"runpy.run_path({str(HERE / 'workloads' / 'call_heavy.py')!r}, run_name='__main__')\n"
            "print('SECONDS', time.perf_counter() - t)\n"
        )
        programs["calls"] = (calls, [])
        print(f"{'program':8} {'probes off':>11} {'probes on':>11} {'on/off':>7}")
        for name, (script, args) in programs.items():
            off = statistics.median(_run(a.python, script, False, args) for _ in range(a.repeat))
            on = statistics.median(_run(a.python, script, True, args) for _ in range(a.repeat))
            print(f"{name:8} {off:11.4f} {on:11.4f} {on / off:7.3f}")


if __name__ == "__main__":
    main()
