#!/usr/bin/env python3
"""Events per second of post-processing alone, from a kept spill (issue 16's measure).

    python bench/postprocess_spill.py --python .venv-3.12/bin/python            # call_heavy 0.1, min of 5
    python bench/postprocess_spill.py --python .venv-3.12/bin/python --instructions
    python bench/postprocess.py --from-spill [same options]                      # the same

1. Records once: ``skeleton run --no-open --no-html --max-events 0`` of a workload with
   SKELETON_KEEP_SPILL=1, so the raw records (.trace.spill and its sidecars) stay in the out dir.
2. In a fresh process of that interpreter, importing skeleton_replay from THIS tree (PYTHONPATH
   first, checked), rebuilds trace.jsonl + snapshot.json + workflow.md from that spill
   (pipeline.from_killed_run, SKELETON_SERIAL=1: one process, no trace-writer helper) --repeat
   times into fresh folders, and prints the minimum time and events/s.
3. With --instructions: the same rebuild once under valgrind's callgrind, minus a run that does
   everything but the rebuild (imports, copies), divided by the events: instructions/event.

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import callgrind  # noqa: E402  (bench/callgrind.py: every process under callgrind, their instructions summed)

ROOT = os.path.dirname(HERE)
WORKLOADS = os.path.join(HERE, "workloads")
KEEP = (".trace.spill", ".trace-header.json", ".trace-end.json")

CHILD = r"""
import json, os, shutil, sys, time
root, recorded, work, repeat, dry = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "1"
os.environ["SKELETON_SERIAL"] = "1"
os.environ["SKELETON_KEEP_SPILL"] = "1"
from pathlib import Path
import skeleton_replay
from skeleton_replay import native
from skeleton_replay.pipeline import from_killed_run
from skeleton_replay.process import own_process
own_process()  # as `skeleton report` (a skeleton command) rebuilds a run
here = os.path.dirname(os.path.dirname(os.path.abspath(skeleton_replay.__file__)))
if os.path.realpath(here) != os.path.realpath(root):
    sys.exit("skeleton_replay imported from %s, not from %s" % (here, root))
times = []
for i in range(repeat):
    dest = os.path.join(work, "rebuild-%d" % i)
    os.makedirs(dest)
    for name in %(keep)r:
        shutil.copy(os.path.join(recorded, name), os.path.join(dest, name))
    if dry:
        continue
    t0 = time.perf_counter()
    from_killed_run(Path(dest), False)
    times.append(time.perf_counter() - t0)
    if i:
        shutil.rmtree(dest)
print(json.dumps({"times": times, "dest": os.path.join(work, "rebuild-0")}))
""".replace("%(keep)r", repr(KEEP))


def child_env(pure: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("SKELETON_SERIAL", None)
    env.setdefault("PYTHONHASHSEED", "0")  # repeatable instruction counts (bench/run.py child_env)
    if pure:
        env["SKELETON_PURE_PYTHON"] = "1"
    return env


def record(python: str, workload: str, scale: float, out: str, env: dict[str, str]) -> None:
    cmd = [
        python,
        "-m",
        "skeleton_replay",
        "run",
        "--no-open",
        "--no-html",
        "--max-events",
        "0",
        "--out-dir",
        out,
        "--",
        workload + ".py",
        "--scale",
        repr(scale),
    ]
    subprocess.run(cmd, cwd=WORKLOADS, env=dict(env, SKELETON_KEEP_SPILL="1"), check=True, stdout=subprocess.DEVNULL)
    missing = [n for n in KEEP if not os.path.exists(os.path.join(out, n))]
    if missing:
        sys.exit("the run kept no %s in %s" % (", ".join(missing), out))


def events_of(trace: str) -> int:
    """The end record's event count. The end record can be longer than any fixed tail (a pytest suite's counted
    calls: 35 MB for sqlparse's): read back from the end until its line starts."""
    with open(trace, "rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        tail, step = b"", 1 << 24
        while True:
            start = max(0, end - len(tail) - step)
            fh.seek(start)
            tail = fh.read(end - len(tail) - start) + tail
            body = tail.rstrip(b"\n")
            if b"\n" in body or start == 0:
                return int(json.loads(body.rsplit(b"\n", 1)[-1])["events"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--workload", default="call_heavy")
    p.add_argument("--scale", type=float, default=0.1)
    p.add_argument("--repeat", type=int, default=5, help="rebuilds timed; the minimum counts (default 5)")
    p.add_argument("--instructions", action="store_true", help="also callgrind instructions/event")
    p.add_argument("--pure", action="store_true", help="SKELETON_PURE_PYTHON=1 (rebuild only)")
    p.add_argument("--recorded", help="an out dir already holding a kept spill (skip recording)")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    python = os.path.abspath(args.python) if os.sep in args.python else args.python
    base = tempfile.mkdtemp(prefix="skeleton-pp-spill-")
    try:
        recorded = args.recorded or os.path.join(base, "recorded")
        if not args.recorded:
            record(python, args.workload, args.scale, recorded, child_env(False))
        env = child_env(args.pure)
        work = os.path.join(base, "timed")
        os.makedirs(work)
        r = subprocess.run(
            [python, "-c", CHILD, ROOT, recorded, work, str(args.repeat), "0"], env=env, capture_output=True, text=True
        )
        if r.returncode:
            sys.stderr.write(r.stderr)
            return 1
        res = json.loads(r.stdout.strip().splitlines()[-1])
        events = events_of(os.path.join(res["dest"], "trace.jsonl"))
        best = min(res["times"])
        version = subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
        ).stdout.strip()
        spill = os.path.getsize(os.path.join(recorded, KEEP[0]))
        print(
            "Python %s%s: %s %g, %s events, spill %.1f MiB"
            % (version, " (pure)" if args.pure else "", args.workload, args.scale, "{:,}".format(events), spill / 2**20)
        )
        print(
            "  post-processing  min %.3f s of %d (%s)  %.3f M events/s"
            % (best, len(res["times"]), ", ".join("%.3f" % t for t in res["times"]), events / best / 1e6)
        )
        if args.instructions:
            irs = {}
            for dry in ("1", "0"):
                w = os.path.join(base, "cg-" + dry)
                os.makedirs(w)
                cg = callgrind.callgrind(
                    [python, "-c", CHILD, ROOT, recorded, w, "1", dry],
                    os.path.join(w, "cg"),
                    env,
                    shutil.which("valgrind") or "valgrind",
                    3600,
                )
                if cg["rc"] != 0:
                    return 1
                irs[dry] = cg["ir"]
            ir = irs["0"] - irs["1"]
            print("  callgrind        %s instructions, %.0f instructions/event" % ("{:,}".format(ir), ir / events))
    finally:
        if args.keep:
            print("kept", base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
