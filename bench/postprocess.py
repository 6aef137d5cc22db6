#!/usr/bin/env python3
"""Events per second of Skeleton's post-processing (snapshot building, rendering).

    python bench/postprocess.py                       # ~2M calls of call_heavy, current python
    python bench/postprocess.py --python python3.12 --calls 500000
    python bench/postprocess.py --trace-dir DIR       # reuse an existing out dir (trace.jsonl)
    python bench/postprocess.py --from-spill [--instructions]   # post-processing only (postprocess_spill.py)

1. Generates a trace: ``skeleton run --no-open --no-html --max-events 0`` of
   bench/workloads/call_heavy.py at a scale giving ``--calls`` calls (2M).
2. Times ``skeleton_replay.model.build.build_snapshot_from_trace(trace_path)``
   in a fresh process of the same interpreter (skipped, with a message, when
   that API cannot be imported).
3. Times ``skeleton report OUT_DIR`` (re-renders every artifact from
   trace.jsonl; ``--no-html`` to leave out report.html), with CPU and peak RSS
   from bench/_measure.py.

Prints events/s for each.  Standard library only.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

CALLS_AT_SCALE_1 = 1_998_000      # call_heavy's approx_calls at --scale 1
API_MODULE = "skeleton_replay.model.build"
API_FUNC = "build_snapshot_from_trace"

API_SNIPPET = r"""
import json, sys, time
try:
    from %(mod)s import %(func)s
except Exception as exc:
    print(json.dumps({"skipped": "%%s: %%s" %% (type(exc).__name__, exc)}))
    sys.exit(0)
t0 = time.perf_counter()
result = %(func)s(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t0, "result_type": type(result).__name__}))
""" % {"mod": API_MODULE, "func": API_FUNC}


def measured(cmd, work, env, timeout):
    os.makedirs(work, exist_ok=True)
    out, err = os.path.join(work, "stdout.txt"), os.path.join(work, "stderr.txt")
    r = subprocess.run([sys.executable, bench.MEASURE, "--cwd", bench.WORKLOADS_DIR, "--stdout", out,
                        "--stderr", err, "--timeout", str(timeout), "--"] + cmd,
                       capture_output=True, text=True, env=env)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    res["stdout"], res["stderr"] = out, err
    if res.get("returncode") != 0:
        bench.log("  !! rc=%s: %s\n%s" % (res.get("returncode"), " ".join(cmd), bench.tail(err)))
    return res


def rate(events, seconds):
    return "-" if not events or not seconds else "{:,.0f} events/s".format(events / seconds)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--from-spill" in argv:  # post-processing alone, from a kept spill: bench/postprocess_spill.py
        import postprocess_spill
        return postprocess_spill.main([a for a in argv if a != "--from-spill"])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--calls", type=int, default=2_000_000, help="calls to trace (default 2M)")
    p.add_argument("--trace-dir", help="existing Skeleton out dir with trace.jsonl (skip generation)")
    p.add_argument("--no-html", action="store_true", help="skeleton report --no-html")
    p.add_argument("--tracer-cmd", default=bench.DEFAULT_TRACER_CMD)
    p.add_argument("--no-venv", action="store_true")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--keep", action="store_true", help="keep the generated out dir")
    p.add_argument("--json", metavar="PATH", help="write results as JSON")
    args = p.parse_args(argv)

    interp = bench.resolve_interp(args.python, not args.no_venv)
    bench.check_tracer(interp, args.tracer_cmd)
    if not interp.tracer_ok:
        bench.log("Skeleton's CLI is not available for %s: %s" % (interp.exe, interp.tracer_error))
        return 2
    env = bench.child_env()
    base = tempfile.mkdtemp(prefix="skeleton-postprocess-")
    results = {"python": interp.version, "exe": interp.exe}
    try:
        if args.trace_dir:
            out_dir = os.path.abspath(args.trace_dir)
        else:
            out_dir = os.path.join(base, "out")
            scale = round(args.calls / CALLS_AT_SCALE_1, 4)
            cmd = bench.build_tracer_cmd(args.tracer_cmd, interp, out_dir,
                                         ["--no-html", "--max-events", "0"])
            cmd += bench.workload_cmd(interp, "call_heavy", scale)[1:]
            bench.log("== generating a trace: call_heavy --scale %g (~%s calls) on Python %s"
                      % (scale, "{:,}".format(args.calls), interp.version))
            gen = measured(cmd, os.path.join(base, "gen"), env, args.timeout)
            metrics = (bench.skeleton_metrics(gen["stdout"]) or {}).get("metrics", {})
            results["generate"] = {"wall_s": gen["wall_s"], "maxrss_mib": gen["maxrss_mib"],
                                   "metrics": metrics}
            bench.log("   %.1f s wall, metrics %s" % (gen["wall_s"], json.dumps(metrics)))
        trace = os.path.join(out_dir, "trace.jsonl")
        if not os.path.isfile(trace):
            bench.log("no trace.jsonl in %s" % out_dir)
            return 1
        lines = bench.count_lines(trace)
        events = (results.get("generate", {}).get("metrics", {}).get("events")
                  or max(0, lines - 2))   # header and end records
        results.update({"trace": trace, "trace_bytes": os.path.getsize(trace), "trace_lines": lines,
                        "events": events})
        bench.log("   trace.jsonl: %s lines, %.0f MiB, %s events"
                  % ("{:,}".format(lines), os.path.getsize(trace) / 2**20, "{:,}".format(events)))

        # (2) the in-process API, in a fresh interpreter
        bench.log("== %s.%s(trace)" % (API_MODULE, API_FUNC))
        api = measured([interp.exe, "-c", API_SNIPPET, trace], os.path.join(base, "api"), env,
                       args.timeout)
        try:
            with open(api["stdout"], encoding="utf-8") as fh:
                api_out = json.loads(fh.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            api_out = {"skipped": "failed: " + bench.tail(api["stderr"], 5)}
        if "skipped" in api_out:
            print("SKIPPED %s.%s: %s" % (API_MODULE, API_FUNC, api_out["skipped"]))
        results["api"] = dict(api_out, wall_s=api["wall_s"], maxrss_mib=api["maxrss_mib"])

        # (3) skeleton report OUT_DIR
        cmd = [interp.exe, "-m", "skeleton_replay", "report", out_dir] + (["--no-html"] if args.no_html else [])
        bench.log("== %s" % " ".join(cmd))
        rep = measured(cmd, os.path.join(base, "report"), env, args.timeout)
        results["report"] = {k: rep[k] for k in ("wall_s", "cpu_s", "maxrss_mib", "returncode")}
    finally:
        if args.keep:
            bench.log("kept %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)

    print("\nPost-processing on Python %s: %s events (%.0f MiB trace.jsonl)"
          % (interp.version, "{:,}".format(events), results["trace_bytes"] / 2**20))
    a = results["api"]
    if "seconds" in a:
        print("  %-32s %8.2f s  %s  (peak RSS %.0f MiB)" % (API_FUNC, a["seconds"], rate(events, a["seconds"]),
                                                         a["maxrss_mib"]))
    else:
        print("  %-32s skipped (%s)" % (API_FUNC, a.get("skipped")))
    r = results["report"]
    print("  %-32s %8.2f s  %s  (CPU %.2f s, peak RSS %.0f MiB, rc %s)" % (
        "skeleton report" + (" --no-html" if args.no_html else ""), r["wall_s"],
        rate(events, r["wall_s"]), r["cpu_s"], r["maxrss_mib"], r["returncode"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 0 if r["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
