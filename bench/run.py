#!/usr/bin/env python3
"""Benchmark Skeleton's tracer against untraced runs (and VizTracer, if installed).

Standard library only.  Examples (from the repository root)::

    export PYENV_VERSION=3.11:3.12:3.13
    bench/setup.sh 3.11 3.12                      # optional: venvs with viztracer
    python bench/run.py --python python3.11 --python python3.12 --repeat 3
    python bench/run.py --workload call_heavy --no-viztracer --json results.json
    python bench/run.py --memory                  # peak RSS for a ~5M-event run
    # test the harness without Skeleton (a stub "tracer"):
    python bench/run.py --tracer-cmd "{python} -X importtime" --repeat 1

For every workload and interpreter it runs paired, alternating measurements
(untraced, traced, VizTracer; the order rotates each repetition), each in a
fresh ``bench/_measure.py`` wrapper process, and reports medians:

* in-program ratio: traced / untraced seconds as reported by the workload
  itself (its main work only, via SKELETON_BENCH_TIMING);
* end-to-end wall ratio of the whole command (``skeleton run`` writing every
  artifact), end-to-end CPU ratio (user+sys over all child processes);
* VizTracer's end-to-end ratio and Skeleton / VizTracer;
* peak RSS delta (max RSS of the traced process tree minus untraced) and the
  number of recorded events (lines of trace.jsonl).

See bench/README.md for what each number means and the targets.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS_DIR = os.path.join(HERE, "workloads")
MEASURE = os.path.join(HERE, "_measure.py")
WORKLOADS = ("call_heavy", "stdlib_heavy", "mixed", "text_heavy")

DEFAULT_TRACER_CMD = "{python} -m skeleton_replay run --no-open --json {flags} --out-dir {out}"

# In-program ratio targets: (sys.monitoring backend on 3.12+, setprofile backend / 3.11)
TARGETS = {
    "sysmon": {"call_heavy": 8.0, "stdlib_heavy": 1.15, "mixed": 8.0, "text_heavy": 1.15},
    "setprofile": {"call_heavy": 12.0, "stdlib_heavy": 2.5, "mixed": 12.0, "text_heavy": 2.5},
}
MEMORY_TARGET_MIB = 100.0
MEMORY_TARGET_EVENTS = 5_000_000

# Where the number of recorded events comes from, in order of preference:
# the metrics line of `skeleton run --json` (last stdout line), snapshot.json
# ["stats"]["events"], the number of lines of trace.jsonl.


# --------------------------------------------------------------------------- helpers
def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return None
    return a / b


def child_env(extra=None):
    env = dict(os.environ)
    env.setdefault("PYENV_VERSION", "3.11:3.12:3.13")
    # The project root on sys.path, for every variant alike, so that
    # ``-m skeleton_replay`` works even without an editable install.
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("SKELETON_BENCH_TIMING", None)
    # Users' interpreters keep .pyc files: without them every run compiles Skeleton's ~100 modules again
    # (about as many instructions as the rest of `skeleton run`'s start-up), which is not what they pay.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # One string-hash seed for every run (unless the caller set one): dict and set layouts, the order of set
    # iteration and the collisions a lookup walks all follow it. With a random seed per run, sqlparse's suite
    # under `skeleton pytest` varied by up to 0.3 G instructions (~1 %) between identical runs, more than the
    # changes being compared; PYTHONHASHSEED=0 made the same comparison repeatable to a few M.
    env.setdefault("PYTHONHASHSEED", "0")
    if extra:
        env.update(extra)
    return env


def count_lines(path):
    n = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            n += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        n += 1
    return n


def skeleton_metrics(stdout_path):
    """The metrics of `skeleton run --json` (its last stdout line), or None."""
    try:
        with open(stdout_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        data = json.loads(lines[-1])
    except (OSError, ValueError, IndexError):
        return None
    return data if isinstance(data, dict) and "metrics" in data else None


def inspect_out_dir(out_dir, metrics=None):
    """Artifact sizes and the number of events (None if no trace was written)."""
    info = {"artifacts": {}, "events": None, "events_source": None}
    if metrics and isinstance(metrics.get("metrics"), dict):
        m = metrics["metrics"]
        info["skeleton_metrics"] = m
        if isinstance(m.get("events"), int):
            info["events"], info["events_source"] = m["events"], "skeleton --json"
        for key in ("tracing_s", "postprocess_s", "calls", "dropped_events", "worker_cpu_s", "worker_max_rss_kib"):
            info[key] = m.get(key)
    if not os.path.isdir(out_dir):
        return info
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name)
        if os.path.isfile(path):
            info["artifacts"][name] = os.path.getsize(path)
    if info["events"] is not None:
        return info
    snap = os.path.join(out_dir, "snapshot.json")
    if os.path.isfile(snap) and os.path.getsize(snap) < 300 * 1024 * 1024:
        try:
            with open(snap, encoding="utf-8") as fh:
                stats = json.load(fh).get("stats") or {}
            if isinstance(stats.get("events"), int):
                info["events"], info["events_source"] = stats["events"], "snapshot.json stats"
        except (OSError, ValueError, AttributeError):
            pass
    trace = os.path.join(out_dir, "trace.jsonl")
    if info["events"] is None and os.path.isfile(trace):
        info["events"], info["events_source"] = count_lines(trace), "trace.jsonl lines"
    return info


def tail(path, n=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-n:])
    except OSError:
        return ""


# --------------------------------------------------------------------------- interpreters
class Interp:
    def __init__(self, spec, exe, version, venv):
        self.spec = spec          # what the user asked for, e.g. python3.12
        self.exe = exe            # what we run (venv python if present)
        self.version = version    # "3.12"
        self.venv = venv
        self.has_viztracer = False
        self.tracer_ok = None
        self.tracer_error = ""

    @property
    def label(self):
        return self.version


def probe_python(exe):
    try:
        out = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable)"],
            capture_output=True, text=True, env=child_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if out.returncode != 0:
        return None, out.stderr.strip()
    version, executable = out.stdout.split()[:2]
    return (version, executable), ""


def resolve_interp(spec, use_venv):
    probed, err = probe_python(spec)
    if probed is None:
        raise SystemExit("cannot run interpreter %r: %s\n(hint: export PYENV_VERSION=3.11:3.12:3.13)"
                         % (spec, err))
    version, executable = probed
    exe, venv = executable, None
    venv_py = os.path.join(HERE, ".venv-%s" % version, "bin", "python")
    if use_venv and os.path.exists(venv_py):
        exe, venv = venv_py, os.path.dirname(os.path.dirname(venv_py))
    interp = Interp(spec, exe, version, venv)
    r = subprocess.run([exe, "-c", "import viztracer"], capture_output=True, env=child_env())
    interp.has_viztracer = r.returncode == 0
    return interp


def check_tracer(interp, template):
    """For the default command: does ``-m skeleton_replay run --help`` work?"""
    if "skeleton_replay" not in template and "skeleton " not in template + " ":
        interp.tracer_ok = True
        return
    argv = [interp.exe, "-m", "skeleton_replay", "run", "--help"]
    if "skeleton_replay" not in template:
        argv = ["skeleton", "run", "--help"]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, env=child_env(), timeout=120)
        interp.tracer_ok = r.returncode == 0
        interp.tracer_error = (r.stderr or r.stdout).strip().splitlines()[-1:] if r.returncode else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        interp.tracer_ok, interp.tracer_error = False, [str(exc)]


# --------------------------------------------------------------------------- commands
def tracer_flags(args):
    flags = []
    if args.no_html:
        flags.append("--no-html")
    if args.max_events is not None:
        flags += ["--max-events", str(args.max_events)]
    if args.backend:
        flags += ["--backend", args.backend]
    return flags


def build_tracer_cmd(template, interp, out_dir, flags):
    cmd = []
    for token in shlex.split(template):
        if token == "{flags}":
            cmd.extend(flags)
        else:
            cmd.append(token.format(python=interp.exe, out=out_dir, flags=" ".join(flags)))
    return cmd


def workload_cmd(interp, name, scale):
    return [interp.exe, os.path.join(WORKLOADS_DIR, name + ".py"), "--scale", repr(scale)]


def command_for(variant, interp, name, scale, run_dir, args):
    script = workload_cmd(interp, name, scale)
    if variant == "untraced":
        return script
    if variant == "traced":
        return build_tracer_cmd(args.tracer_cmd, interp, os.path.join(run_dir, "out"),
                                tracer_flags(args)) + script[1:]
    if variant == "viztracer":
        cmd = [interp.exe, "-m", "viztracer", "--quiet", "--include_files", WORKLOADS_DIR]
        if args.viztracer_entries:
            cmd += ["--tracer_entries", str(args.viztracer_entries)]
        return cmd + ["-o", os.path.join(run_dir, "result.json"), "--"] + script[1:]
    raise ValueError(variant)


def measure(variant, interp, name, scale, base_dir, tag, args):
    """Run one command in a fresh _measure.py wrapper; return a result dict."""
    run_dir = os.path.join(base_dir, "%s-%s-%s-%s" % (name, interp.version, variant, tag))
    os.makedirs(run_dir, exist_ok=True)
    timing = os.path.join(run_dir, "timing.json")
    stdout, stderr = os.path.join(run_dir, "stdout.txt"), os.path.join(run_dir, "stderr.txt")
    cmd = command_for(variant, interp, name, scale, run_dir, args)
    wrapper = [sys.executable, MEASURE, "--cwd", args.cwd or WORKLOADS_DIR, "--stdout", stdout,
               "--stderr", stderr, "--timeout", str(args.timeout), "--"] + cmd
    r = subprocess.run(wrapper, capture_output=True, text=True,
                       env=child_env({"SKELETON_BENCH_TIMING": timing}))
    res = {"variant": variant, "tag": tag, "scale": scale, "cmd": cmd}
    try:
        res.update(json.loads(r.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        res.update({"returncode": -1, "error": "wrapper failed: " + r.stderr[-500:]})
    try:
        with open(timing, encoding="utf-8") as fh:
            prog = json.load(fh)
        res["program_s"] = prog.get("seconds")
        res["approx_calls"] = prog.get("approx_calls")
    except (OSError, ValueError):
        res["program_s"] = None
    if variant == "traced":
        res.update(inspect_out_dir(os.path.join(run_dir, "out"), skeleton_metrics(stdout)))
        # skeleton run's post-processing worker is not a child of the command (it cannot be reaped
        # by the traced program): it reports its own CPU and peak RSS, added here so e2e CPU and
        # RSS still count every process Skeleton starts.
        if isinstance(res.get("worker_cpu_s"), (int, float)) and isinstance(res.get("cpu_s"), (int, float)):
            res["cpu_s"] += res["worker_cpu_s"]
        if isinstance(res.get("worker_max_rss_kib"), int) and isinstance(res.get("maxrss_mib"), (int, float)):
            res["maxrss_mib"] = max(res["maxrss_mib"], res["worker_max_rss_kib"] / 1024)
    elif variant == "viztracer":
        vz = os.path.join(run_dir, "result.json")
        res["artifacts"] = {"result.json": os.path.getsize(vz)} if os.path.exists(vz) else {}
    if res.get("returncode") != 0 or res.get("program_s") is None:
        res["failed"] = True
        res["stderr_tail"] = tail(stderr)
        log("  !! %s %s %s failed (rc=%s): %s\n%s" % (name, interp.version, variant,
                                                     res.get("returncode"), " ".join(cmd),
                                                     res["stderr_tail"]))
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return res


# --------------------------------------------------------------------------- summary
def target_kind(interp, args):
    if args.backend == "setprofile":
        return "setprofile"
    major, minor = (int(x) for x in interp.version.split("."))
    return "sysmon" if (major, minor) >= (3, 12) else "setprofile"


def paired(runs, num, den, key):
    """Median over repetitions of num[key] / den[key] (same repetition index)."""
    by_tag = {}
    for r in runs:
        if not r.get("failed"):
            by_tag.setdefault(r["tag"], {})[r["variant"]] = r
    values = []
    for group in by_tag.values():
        if num in group and den in group:
            values.append(ratio(group[num].get(key), group[den].get(key)))
    return median(values)


def summarize(name, interp, runs, args):
    def med(variant, key):
        return median([r.get(key) for r in runs if r["variant"] == variant and not r.get("failed")])

    kind = target_kind(interp, args)
    s = {
        "workload": name,
        "python": interp.version,
        "target_kind": kind,
        "untraced_s": med("untraced", "program_s"),
        "traced_s": med("traced", "program_s"),
        "viztracer_s": med("viztracer", "program_s"),
        "inprog_ratio": paired(runs, "traced", "untraced", "program_s"),
        "e2e_wall_untraced_s": med("untraced", "wall_s"),
        "e2e_wall_traced_s": med("traced", "wall_s"),
        "e2e_wall_ratio": paired(runs, "traced", "untraced", "wall_s"),
        "e2e_cpu_ratio": paired(runs, "traced", "untraced", "cpu_s"),
        "viztracer_inprog_ratio": paired(runs, "viztracer", "untraced", "program_s"),
        "viztracer_e2e_ratio": paired(runs, "viztracer", "untraced", "wall_s"),
        "skeleton_over_viztracer": paired(runs, "traced", "viztracer", "wall_s"),
        "maxrss_untraced_mib": med("untraced", "maxrss_mib"),
        "maxrss_traced_mib": med("traced", "maxrss_mib"),
        "events": med("traced", "events"),
        "tracing_s": med("traced", "tracing_s"),
        "postprocess_s": med("traced", "postprocess_s"),
        "approx_calls": med("untraced", "approx_calls"),
        "failures": sum(1 for r in runs if r.get("failed")),
    }
    s["rss_delta_mib"] = (None if s["maxrss_traced_mib"] is None or s["maxrss_untraced_mib"] is None
                          else s["maxrss_traced_mib"] - s["maxrss_untraced_mib"])
    artifacts = {}
    for r in runs:
        if r["variant"] == "traced" and not r.get("failed"):
            artifacts = r.get("artifacts") or {}
    s["artifact_bytes"] = artifacts

    target = TARGETS[kind].get(name)
    checks = {}
    if target is not None and s["inprog_ratio"] is not None:
        checks["inprog"] = s["inprog_ratio"] <= target
    if s["skeleton_over_viztracer"] is not None:
        checks["e2e_vs_viztracer"] = s["skeleton_over_viztracer"] <= 1.0
    s["target_inprog"] = target
    s["checks"] = checks
    if s["failures"]:
        s["verdict"] = "ERROR"
    elif not checks:
        s["verdict"] = "n/a"
    elif all(checks.values()):
        s["verdict"] = "PASS"
    else:
        s["verdict"] = "FAIL(" + ",".join(k for k, v in checks.items() if not v) + ")"
    return s


def fmt(value, spec="%.2f", suffix=""):
    return "-" if value is None else (spec % value) + suffix


def fmt_events(n):
    if n is None:
        return "-"
    if n >= 1e6:
        return "%.2fM" % (n / 1e6)
    if n >= 1e3:
        return "%.1fk" % (n / 1e3)
    return "%d" % n


def print_table(summaries, out=sys.stdout):
    cols = [
        ("workload", lambda s: s["workload"]),
        ("python", lambda s: s["python"]),
        ("untraced s", lambda s: fmt(s["untraced_s"], "%.3f")),
        ("traced s", lambda s: fmt(s["traced_s"], "%.3f")),
        ("in-prog", lambda s: fmt(s["inprog_ratio"], "%.2f", "x")),
        ("target", lambda s: fmt(s["target_inprog"], "%g", "x")),
        ("e2e wall", lambda s: fmt(s["e2e_wall_ratio"], "%.2f", "x")),
        ("e2e CPU", lambda s: fmt(s["e2e_cpu_ratio"], "%.2f", "x")),
        ("viz e2e", lambda s: fmt(s["viztracer_e2e_ratio"], "%.2f", "x")),
        ("Skel/Viz", lambda s: fmt(s["skeleton_over_viztracer"], "%.2f")),
        ("RSS +MiB", lambda s: fmt(s["rss_delta_mib"], "%.1f")),
        ("events", lambda s: fmt_events(s["events"])),
        ("post s", lambda s: fmt(s["postprocess_s"], "%.1f")),
        ("verdict", lambda s: s["verdict"]),
    ]
    rows = [[c[0] for c in cols]] + [[c[1](s) for c in cols] for s in summaries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(cols))]
    for i, row in enumerate(rows):
        print("  ".join(cell.rjust(w) if j >= 2 and j != len(cols) - 1 else cell.ljust(w)
                        for j, (cell, w) in enumerate(zip(row, widths))).rstrip(), file=out)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=out)


def print_legend(out=sys.stdout):
    print("""
in-prog   traced/untraced seconds of the workload's main work (median of paired ratios)
target    in-prog target: 3.12+ (sys.monitoring) call_heavy 8x, stdlib_heavy 1.15x, mixed 8x;
          3.11 / --backend setprofile 12x, 2.5x, 12x
e2e wall  whole command wall time ratio (tracer start-up, tracing, writing all artifacts)
e2e CPU   user+sys CPU over all child processes, traced/untraced
viz e2e   VizTracer (--include_files bench/workloads, JSON output) e2e wall ratio
Skel/Viz  Skeleton e2e wall / VizTracer e2e wall (target <= 1)
RSS +MiB  peak RSS of traced process tree minus untraced (see --memory for the 5M-event target)
events    events recorded (skeleton run --json metrics, else snapshot.json stats, else trace.jsonl lines)
post s    Skeleton's own post-processing seconds (metrics.postprocess_s), part of e2e wall""", file=out)


# --------------------------------------------------------------------------- modes
def run_suite(interps, args, base_dir):
    summaries, raw = [], []
    variants = ["untraced", "traced"]
    for interp in interps:
        for name in args.workload:
            vs = variants + (["viztracer"] if interp.has_viztracer and not args.no_viztracer else [])
            log("== %s on Python %s (%s): %s x%d" % (name, interp.version, interp.exe,
                                                     "/".join(vs), args.repeat))
            for w in range(args.warmup):   # compile .pyc, warm caches; not recorded
                for v in vs:
                    measure(v, interp, name, min(args.scale, 0.05), base_dir, "warm%d" % w, args)
            runs = []
            for rep in range(args.repeat):
                order = vs[rep % len(vs):] + vs[:rep % len(vs)]
                for v in order:
                    res = measure(v, interp, name, args.scale, base_dir, "r%d" % rep, args)
                    runs.append(res)
                    log("   rep %d %-9s prog %s s  wall %s s  cpu %s s  rss %s MiB%s" % (
                        rep, v, fmt(res.get("program_s"), "%.3f"), fmt(res.get("wall_s"), "%.2f"),
                        fmt(res.get("cpu_s"), "%.2f"), fmt(res.get("maxrss_mib"), "%.0f"),
                        "  events %s" % fmt_events(res.get("events")) if v == "traced" else ""))
            s = summarize(name, interp, runs, args)
            summaries.append(s)
            raw.append({"workload": name, "python": interp.version, "runs": runs})
    return summaries, raw


def run_memory(interps, args, base_dir):
    """call_heavy at a scale giving ~5M events: traced peak RSS <= untraced + 100 MiB."""
    results = []
    name = "call_heavy"
    for interp in interps:
        scale = args.memory_scale
        calib = None
        if scale is None:
            calib_scale = 0.25
            log("== memory: calibrating events per scale on Python %s (scale %g)"
                % (interp.version, calib_scale))
            calib = measure("traced", interp, name, calib_scale, base_dir, "calib", args)
            per_unit = calib.get("events") or calib.get("approx_calls")
            if not per_unit:
                log("  !! no event count from the calibration run; using approx_calls of scale 1")
                per_unit = 2_000_000 * calib_scale
            scale = round(MEMORY_TARGET_EVENTS / (per_unit / calib_scale), 3)
        log("== memory: %s scale %g on Python %s" % (name, scale, interp.version))
        runs = []
        for rep in range(args.repeat):
            for v in (["untraced", "traced"] if rep % 2 == 0 else ["traced", "untraced"]):
                res = measure(v, interp, name, scale, base_dir, "mem%d" % rep, args)
                runs.append(res)
                log("   rep %d %-9s wall %s s  rss %s MiB%s" % (
                    rep, v, fmt(res.get("wall_s"), "%.2f"), fmt(res.get("maxrss_mib"), "%.0f"),
                    "  events %s" % fmt_events(res.get("events")) if v == "traced" else ""))
        ok = [r for r in runs if not r.get("failed")]
        u = median([r["maxrss_mib"] for r in ok if r["variant"] == "untraced"])
        t = median([r["maxrss_mib"] for r in ok if r["variant"] == "traced"])
        ev = median([r.get("events") for r in ok if r["variant"] == "traced"])
        delta = None if u is None or t is None else t - u
        verdict = "ERROR" if len(ok) != len(runs) else (
            "PASS" if delta is not None and delta <= MEMORY_TARGET_MIB else "FAIL")
        results.append({
            "workload": name, "python": interp.version, "scale": scale,
            "maxrss_untraced_mib": u, "maxrss_traced_mib": t, "rss_delta_mib": delta,
            "events": ev, "wall_untraced_s": median([r["wall_s"] for r in ok if r["variant"] == "untraced"]),
            "wall_traced_s": median([r["wall_s"] for r in ok if r["variant"] == "traced"]),
            "verdict": verdict, "runs": runs, "calibration": calib,
        })
    return results


def print_memory_table(results, out=sys.stdout):
    print("\nMemory (target: traced peak RSS <= untraced + %d MiB at ~%dM events)"
          % (MEMORY_TARGET_MIB, MEMORY_TARGET_EVENTS // 1_000_000), file=out)
    header = "%-10s %-6s %7s %9s %14s %12s %9s %10s %10s  %s" % (
        "workload", "python", "scale", "events", "untraced MiB", "traced MiB", "+MiB",
        "wall u s", "wall t s", "verdict")
    print(header, file=out)
    print("-" * len(header), file=out)
    for m in results:
        print("%-10s %-6s %7g %9s %14s %12s %9s %10s %10s  %s" % (
            m["workload"], m["python"], m["scale"], fmt_events(m["events"]),
            fmt(m["maxrss_untraced_mib"], "%.1f"), fmt(m["maxrss_traced_mib"], "%.1f"),
            fmt(m["rss_delta_mib"], "%.1f"), fmt(m["wall_untraced_s"], "%.2f"),
            fmt(m["wall_traced_s"], "%.2f"), m["verdict"]), file=out)


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="See bench/README.md.")
    p.add_argument("--python", action="append", dest="pythons", metavar="EXE",
                   help="interpreter to benchmark (repeatable; default: the current one). "
                        "bench/.venv-X.Y/bin/python is used instead when it exists.")
    p.add_argument("--workload", action="append", choices=WORKLOADS,
                   help="workload to run (repeatable; default: all)")
    p.add_argument("--repeat", type=int, default=3, help="paired repetitions (default 3)")
    p.add_argument("--warmup", type=int, default=1,
                   help="unrecorded warm-up rounds at a tiny scale (default 1)")
    p.add_argument("--scale", type=float, default=1.0, help="workload scale (default 1)")
    p.add_argument("--no-html", action="store_true", help="pass --no-html to skeleton run")
    p.add_argument("--max-events", type=int, help="pass --max-events N to skeleton run")
    p.add_argument("--backend", help="pass --backend B to skeleton run (e.g. setprofile)")
    p.add_argument("--no-viztracer", action="store_true", help="skip VizTracer runs")
    p.add_argument("--viztracer-entries", type=int,
                   help="VizTracer --tracer_entries (ring buffer size; VizTracer's default "
                        "1,000,000 keeps only the last 1M entries)")
    p.add_argument("--no-venv", action="store_true",
                   help="do not substitute bench/.venv-X.Y interpreters")
    p.add_argument("--tracer-cmd", default=DEFAULT_TRACER_CMD,
                   help="traced command template; {python}, {out}, {flags} are substituted and "
                        "'SCRIPT --scale S' appended (default: %(default)r). For testing the "
                        "harness e.g. \"{python} -X importtime\" (results are then NOT Skeleton's)")
    p.add_argument("--memory", action="store_true",
                   help="memory mode: call_heavy at a scale giving ~5M events, "
                        "traced vs untraced peak RSS (no VizTracer)")
    p.add_argument("--memory-scale", type=float,
                   help="scale for --memory (default: calibrated to ~5M events)")
    p.add_argument("--cwd", help="working directory for the commands (default bench/workloads)")
    p.add_argument("--timeout", type=float, default=900, help="per-command timeout in s")
    p.add_argument("--keep", action="store_true", help="keep run directories (outputs, logs)")
    p.add_argument("--tmp", help="directory for run outputs (default: a fresh temp dir)")
    p.add_argument("--json", metavar="PATH", help="write all results as JSON ('-' = stdout)")
    args = p.parse_args(argv)
    args.pythons = args.pythons or [sys.executable]
    args.workload = args.workload or list(WORKLOADS)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.memory and args.max_events is None:
        args.max_events = 0          # unlimited: the target is about a 5M-event run
    return args


def main(argv=None):
    args = parse_args(argv)
    custom = args.tracer_cmd != DEFAULT_TRACER_CMD
    interps = [resolve_interp(spec, not args.no_venv) for spec in args.pythons]
    for it in interps:
        check_tracer(it, args.tracer_cmd)
        log("Python %s: %s%s, viztracer %s, tracer %s" % (
            it.version, it.exe, " (bench venv)" if it.venv else "",
            "yes" if it.has_viztracer else "no", "ok" if it.tracer_ok else "NOT AVAILABLE"))
        if not it.tracer_ok:
            log("  %s\n  Skeleton's CLI does not run with this interpreter yet. Run bench/setup.sh "
                "(after pyproject.toml exists) or test the harness with --tracer-cmd." %
                " ".join(it.tracer_error or []))
    interps_ok = [it for it in interps if it.tracer_ok]
    if not interps_ok:
        return 2
    if custom:
        log("NOTE: custom --tracer-cmd %r: these are NOT Skeleton results." % args.tracer_cmd)

    base_dir = args.tmp or tempfile.mkdtemp(prefix="skeleton-bench-")
    os.makedirs(base_dir, exist_ok=True)
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "argv": sys.argv, "tracer_cmd": args.tracer_cmd, "tracer_cmd_is_custom": custom,
        "tracer_flags": tracer_flags(args), "scale": args.scale, "repeat": args.repeat,
        "interpreters": [{"spec": i.spec, "exe": i.exe, "version": i.version,
                          "viztracer": i.has_viztracer} for i in interps_ok],
    }
    report = {"meta": meta}
    try:
        if args.memory:
            report["memory"] = run_memory(interps_ok, args, base_dir)
            print()
            if custom:
                print("NOTE: custom tracer command %r: NOT Skeleton results" % args.tracer_cmd)
            print_memory_table(report["memory"])
        else:
            summaries, raw = run_suite(interps_ok, args, base_dir)
            report["summary"], report["raw"] = summaries, raw
            print()
            if custom:
                print("NOTE: custom tracer command %r: NOT Skeleton results" % args.tracer_cmd)
            print_table(summaries)
            print_legend()
    finally:
        if not args.keep and not args.tmp:
            shutil.rmtree(base_dir, ignore_errors=True)
        elif args.keep:
            log("run directories kept in %s" % base_dir)
    if args.json:
        text = json.dumps(report, indent=2, default=str)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            log("JSON written to %s" % args.json)
    failed = any(s.get("verdict") == "ERROR" for s in report.get("summary", [])) or any(
        m.get("verdict") == "ERROR" for m in report.get("memory", []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
