#!/usr/bin/env python3
"""Instruction-count ratios (exact, noise-free) under valgrind's callgrind.

    python bench/callgrind.py                               # call_heavy, current python
    python bench/callgrind.py --workload stdlib_heavy --python python3.12
    python bench/callgrind.py --scales 0.005,0.015          # also a marginal ratio
    python bench/callgrind.py --tracer-cmd "{python} -X importtime"   # harness test

Runs the workload untraced and traced (``skeleton run --no-open``) under
``valgrind --tool=callgrind --trace-children=yes`` and sums the ``summary:``
(or ``totals:``) lines of every callgrind.out file produced (one per process).

* total ratio    traced Ir / untraced Ir of the whole command (includes
                 interpreter start-up, Skeleton's start-up and post-processing)
* marginal ratio with two scales s1 < s2: (T(s2) - T(s1)) / (U(s2) - U(s1)),
                 i.e. the cost per unit of extra work with fixed costs removed
                 (per-event post-processing is still included).

Valgrind slows Python ~50x: keep scales small.  Standard library only.
"""
import argparse
import glob
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: interpreter resolution, commands)


def summary_ir(out_dir):
    total, files = 0, 0
    for path in glob.glob(os.path.join(out_dir, "callgrind.out.*")):
        files += 1
        with open(path, encoding="utf-8", errors="replace") as fh:
            value = None
            for line in fh:
                if line.startswith("summary:") or (value is None and line.startswith("totals:")):
                    value = int(line.split()[1])
            total += value or 0
    return total, files


def callgrind(cmd, work_dir, env, valgrind, timeout):
    os.makedirs(work_dir, exist_ok=True)
    vg = [valgrind, "--tool=callgrind", "--trace-children=yes",
          "--callgrind-out-file=" + os.path.join(work_dir, "callgrind.out.%p")]
    t0 = time.perf_counter()
    with open(os.path.join(work_dir, "log.txt"), "wb") as log:
        rc = subprocess.run(vg + cmd, cwd=bench.WORKLOADS_DIR, env=env, stdout=log,
                            stderr=subprocess.STDOUT, timeout=timeout).returncode
    wall = time.perf_counter() - t0
    ir, files = summary_ir(work_dir)
    if rc != 0:
        bench.log("  !! rc=%d for %s\n%s" % (rc, " ".join(cmd), bench.tail(os.path.join(work_dir, "log.txt"))))
    return {"ir": ir, "files": files, "rc": rc, "wall_s": wall}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, help="interpreter (bench venv used if present)")
    p.add_argument("--workload", action="append", choices=bench.WORKLOADS,
                   help="repeatable; default call_heavy")
    p.add_argument("--scales", default="0.005,0.015",
                   help="comma-separated scales; two values also give a marginal ratio")
    p.add_argument("--html", action="store_true", help="let skeleton write report.html (default --no-html)")
    p.add_argument("--max-events", type=int)
    p.add_argument("--backend")
    p.add_argument("--tracer-cmd", default=bench.DEFAULT_TRACER_CMD)
    p.add_argument("--no-venv", action="store_true")
    p.add_argument("--valgrind", default=shutil.which("valgrind") or "valgrind")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--keep", action="store_true", help="keep the callgrind.out files")
    args = p.parse_args(argv)
    args.no_html = not args.html
    workloads = args.workload or ["call_heavy"]
    scales = [float(x) for x in args.scales.split(",") if x.strip()]

    interp = bench.resolve_interp(args.python, not args.no_venv)
    bench.check_tracer(interp, args.tracer_cmd)
    if not interp.tracer_ok:
        bench.log("tracer not available for %s: %s" % (interp.exe, interp.tracer_error))
        return 2
    if args.tracer_cmd != bench.DEFAULT_TRACER_CMD:
        print("NOTE: custom tracer command %r: NOT Skeleton results" % args.tracer_cmd)
    base = tempfile.mkdtemp(prefix="skeleton-callgrind-")
    env = bench.child_env()
    rows = []
    try:
        for name in workloads:
            res = {}
            for scale in scales:
                for variant in ("untraced", "traced"):
                    run_dir = os.path.join(base, "%s-%s-%g" % (name, variant, scale))
                    cmd = bench.command_for(variant, interp, name, scale, run_dir, args)
                    bench.log("== callgrind %s %s scale %g: %s" % (name, variant, scale, shlex.join(cmd)))
                    res[(variant, scale)] = r = callgrind(cmd, run_dir, env, args.valgrind, args.timeout)
                    bench.log("   %d Ir in %d process(es), %.1f s" % (r["ir"], r["files"], r["wall_s"]))
            for scale in scales:
                u, t = res[("untraced", scale)]["ir"], res[("traced", scale)]["ir"]
                rows.append((name, interp.version, "%g" % scale, u, t, bench.ratio(t, u)))
            if len(scales) >= 2:
                s1, s2 = scales[0], scales[-1]
                du = res[("untraced", s2)]["ir"] - res[("untraced", s1)]["ir"]
                dt = res[("traced", s2)]["ir"] - res[("traced", s1)]["ir"]
                rows.append((name, interp.version, "%g->%g" % (s1, s2), du, dt, bench.ratio(dt, du)))
    finally:
        if args.keep:
            bench.log("callgrind files kept in %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)

    print("\n%-12s %-6s %-11s %16s %16s %8s" % ("workload", "python", "scale", "untraced Ir",
                                              "traced Ir", "ratio"))
    print("-" * 74)
    for name, ver, scale, u, t, r in rows:
        print("%-12s %-6s %-11s %16s %16s %8s" % (name, ver, scale, "{:,}".format(u), "{:,}".format(t),
                                                 bench.fmt(r, "%.2f", "x")))
    print("(a 'a->b' row is the marginal ratio: start-up and fixed post-processing removed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
