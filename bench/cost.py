#!/usr/bin/env python3
"""What a run costs, summed over every process it starts: instructions, CPU time, wall; per recorded event.

    python bench/cost.py --python .venv-3.12/bin/python                       # call_heavy, mixed, text_heavy
    python bench/cost.py --python python3.12 --workload text_heavy --repeat 5 --no-callgrind
    python bench/cost.py --python python3.12 --json out.json --markdown
    python bench/cost.py --python .venv-3.12/bin/python --ten-million --repeat 1   # call_heavy, ~10 M calls

For each workload, in one run and side by side: the untraced program, `skeleton run` (default settings, all
artifacts), with `--before REF` the same with some files as they were at REF (a before/after table), and, when
the interpreter has `viztracer`, VizTracer restricted to the workload files.

* instructions  `valgrind --tool=callgrind --trace-children=yes --log-file=DIR/cg.%p`: each process writes its
                own log (a helper whose stderr is closed included) and its `Collected : N` line is summed;
                the largest log per role is shown too (main process, trace.jsonl writer helper, others).
* CPU s         user+sys of the command and every process it waited for (`os.wait4` rusage), median of
                `--repeat` rounds in rotating order (U T V, T V U, ...); wall s beside it.
* in-prog       traced / untraced seconds the workload reports for its own main work (wall, and the
                process's CPU seconds over the same stretch: steadier when other work shares the machine).
* in-prog instr with --in-prog-ir: instructions of the timed stretch alone, exact (text_heavy runs it inside
                operator.call, a C function callgrind can toggle collection on; needs libpython's symbols).
* peak MiB      the largest resident size in the command's process tree (wait4 ru_maxrss); with --ten-million
                (call_heavy at scale 8, ~10 M calls, no callgrind unless --cg-scale) the target is
                traced <= untraced + 100 MiB.
* per event     (traced - untraced) / events recorded: instructions per event and µs CPU per event,
                i.e. everything Skeleton adds (start-up, tracing, post-processing, five artifacts) spread
                over what it recorded.
Standard library only.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import identical
import run as bench

# ~1 M calls for the call-heavy workloads, ~5,000 project calls for text_heavy
DEFAULT_SCALES = {"call_heavy": 0.5, "mixed": 0.75, "text_heavy": 1.0, "stdlib_heavy": 1.0}
VARIANTS = ("untraced", "before", "skeleton", "viztracer")
IN_PROG_IR = ("text_heavy",)  # workloads whose timed stretch runs inside operator.call (--in-prog-ir)
# What --before REF puts back (identical.py's post-processing files and the summaries' redaction)
BEFORE_FILES = ("skeleton_replay/capture/summarise.py", "skeleton_replay/capture/redact.py")
_COLLECTED = re.compile(rb"==(\d+)== Collected : (\d+)")
_COMMAND = re.compile(rb"==\d+== Command: (.*)")


def _cmd(variant: str, interp: Any, name: str, scale: float, run_dir: str, args: argparse.Namespace) -> list[str]:
    script = bench.workload_cmd(interp, name, scale)
    if variant == "untraced":
        return script
    if variant in ("skeleton", "before"):
        flags = ["--max-events", str(args.max_events)] if args.max_events is not None else []
        return [interp.exe, "-m", "skeleton_replay", "run", "--no-open", "--json", *flags,
                "--out-dir", os.path.join(run_dir, "out"), "--", *script[1:]]
    return [interp.exe, "-m", "viztracer", "--quiet", "--include_files", bench.WORKLOADS_DIR,
            "-o", os.path.join(run_dir, "result.json"), "--", *script[1:]]


def _role(command: bytes) -> str:
    if b"write_trace" in command:
        return "writer"
    if b"skeleton_replay" in command or b"viztracer" in command:
        return "main"
    if b".py" in command and b"--scale" in command:
        return "main"
    return "other"


def _env(variant: str, args: argparse.Namespace) -> dict[str, str]:
    env = bench.child_env()
    if variant == "before":
        env["PYTHONPATH"] = args.before_tree
    return env


def run_once(cmd: list[str], run_dir: str, env: dict[str, str]) -> dict[str, Any]:
    """Wall, user+sys CPU of the whole process tree, and the workload's own seconds."""
    os.makedirs(run_dir, exist_ok=True)
    timing = os.path.join(run_dir, "timing.json")
    env = dict(env, SKELETON_BENCH_TIMING=timing)
    with open(os.path.join(run_dir, "stdout"), "wb") as out, open(os.path.join(run_dir, "stderr"), "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=bench.WORKLOADS_DIR, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    res: dict[str, Any] = {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "rc": proc.returncode,
                           "maxrss_mib": usage.ru_maxrss / 1024}
    try:
        with open(timing, encoding="utf-8") as fh:
            timed = json.load(fh)
        res["prog_s"], res["prog_cpu_s"] = timed["seconds"], timed.get("cpu_seconds")
    except (OSError, ValueError, KeyError):
        res["prog_s"] = res["prog_cpu_s"] = None
    metrics = bench.skeleton_metrics(os.path.join(run_dir, "stdout"))
    if metrics:
        res["events"] = metrics["metrics"].get("events")
        res["calls"] = metrics["metrics"].get("calls")
    if proc.returncode != 0:
        bench.log(f"  !! rc={proc.returncode} for {' '.join(cmd)}\n{bench.tail(os.path.join(run_dir, 'stderr'))}")
    return res


def run_callgrind(cmd: list[str], run_dir: str, env: dict[str, str], valgrind: str,
                  extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """Instructions of every process of cmd, from one valgrind log per process."""
    os.makedirs(run_dir, exist_ok=True)
    vg = [valgrind, "--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=/dev/null",
          "--log-file=" + os.path.join(run_dir, "cg.%p"), *extra]
    t0 = time.perf_counter()
    with open(os.path.join(run_dir, "stdout"), "wb") as out:
        rc = subprocess.run(vg + cmd, cwd=bench.WORKLOADS_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL).returncode
    total, by_role, procs = 0, {}, 0
    for path in glob.glob(os.path.join(run_dir, "cg.*")):
        with open(path, "rb") as fh:
            text = fh.read()
        m = _COLLECTED.search(text)
        if m is None:  # a process that exec'd: its image's count is in the log of the same pid's next image
            continue
        n = int(m.group(2))
        c = _COMMAND.search(text)
        role = _role(c.group(1) if c else b"")
        procs += 1
        total += n
        by_role[role] = by_role.get(role, 0) + n
    if rc != 0:
        bench.log(f"  !! callgrind rc={rc} for {' '.join(cmd)}")
    return {"ir": total, "by_role": by_role, "processes": procs, "rc": rc, "vg_wall_s": time.perf_counter() - t0}


def _med(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def measure_workload(interp: Any, name: str, scale: float, args: argparse.Namespace, base: str) -> dict[str, Any]:
    variants = [v for v in VARIANTS if (v != "viztracer" or (interp.has_viztracer and not args.no_viztracer))
                and (v != "before" or args.before)]
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for _i in range(args.warmup):
        for v in variants:
            run_once(_cmd(v, interp, name, min(scale, 0.02), os.path.join(base, "warm"), args),
                     os.path.join(base, f"warm-{v}"), _env(v, args))
    for r in range(args.repeat):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            d = os.path.join(base, f"{name}-{v}-{r}")
            runs[v].append(run_once(_cmd(v, interp, name, scale, d, args), d, _env(v, args)))
            if not args.keep:
                shutil.rmtree(os.path.join(d, "out"), ignore_errors=True)
                with_result = os.path.join(d, "result.json")
                if os.path.exists(with_result):
                    os.unlink(with_result)
    out: dict[str, Any] = {"workload": name, "python": interp.version, "scale": scale}
    for v in variants:
        out[v] = {k: _med(runs[v], k) for k in ("wall_s", "cpu_s", "prog_s", "prog_cpu_s", "events", "calls")}
        out[v]["maxrss_mib"] = max((r["maxrss_mib"] for r in runs[v]), default=None)
    if not args.no_callgrind:
        for v in variants:
            d = os.path.join(base, f"{name}-{v}-cg")
            bench.log(f"== callgrind {interp.version} {name} {v}")
            out[v].update(run_callgrind(_cmd(v, interp, name, args.cg_scale or scale, d, args), d, _env(v, args),
                                        args.valgrind))
            out[v]["cg_scale"] = args.cg_scale or scale
            if v in ("skeleton", "before"):
                m = bench.skeleton_metrics(os.path.join(d, "stdout"))
                out[v]["cg_events"] = m["metrics"]["events"] if m else None
            shutil.rmtree(os.path.join(d, "out"), ignore_errors=True)
    if args.in_prog_ir and name in IN_PROG_IR:
        for v in variants:
            if v == "viztracer":
                continue
            d = os.path.join(base, f"{name}-{v}-cg-prog")
            bench.log(f"== callgrind in-program {interp.version} {name} {v}")
            r = run_callgrind(_cmd(v, interp, name, args.cg_scale or scale, d, args), d, _env(v, args), args.valgrind,
                              ("--toggle-collect=_operator_call",))
            out[v]["prog_ir"] = r["ir"]
            shutil.rmtree(os.path.join(d, "out"), ignore_errors=True)
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def _f(x: float | None, spec: str) -> str:
    return "-" if x is None else spec % x


def rows(result: dict[str, Any]) -> list[list[str]]:
    u, s = result["untraced"], result["skeleton"]
    events = s.get("events")
    lines = []
    for label in VARIANTS:
        d = result.get(label)
        if d is None:
            continue
        ir, uir = d.get("ir"), u.get("ir")
        per_ev_ir = per_ev_cpu = None
        if label in ("skeleton", "before"):
            events = d.get("events")
            cg_events = d.get("cg_events") or events
            if ir is not None and cg_events:
                per_ev_ir = (ir - uir) / cg_events
            if events and d.get("cpu_s") is not None:
                per_ev_cpu = (d["cpu_s"] - u["cpu_s"]) * 1e6 / events
        writer = (d.get("by_role") or {}).get("writer")
        lines.append([result["workload"], result["python"], label,
                      _f(ir / 1e9 if ir else None, "%.2f G"), _f(_ratio(ir, uir), "%.1fx"),
                      _f(writer / 1e9 if writer else None, "%.2f G"),
                      _f(d.get("cpu_s"), "%.2f"), _f(_ratio(d.get("cpu_s"), u.get("cpu_s")), "%.2fx"),
                      _f(d.get("wall_s"), "%.2f"), _f(_ratio(d.get("wall_s"), u.get("wall_s")), "%.2fx"),
                      _f(_ratio(d.get("prog_s"), u.get("prog_s")), "%.2fx"),
                      _f(_ratio(d.get("prog_cpu_s"), u.get("prog_cpu_s")), "%.2fx"),
                      _f(_ratio(d.get("prog_ir"), u.get("prog_ir")), "%.3fx"),
                      f"{events:,}" if label in ("skeleton", "before") and events else "-",
                      _f(per_ev_ir, "%.0f"), _f(per_ev_cpu, "%.2f"), _f(d.get("maxrss_mib"), "%.0f")])
    return lines


HEAD = ["workload", "python", "variant", "instructions", "x untr.", "of which writer", "CPU s", "x untr.",
        "wall s", "x untr.", "in-prog", "in-prog CPU", "in-prog instr", "events", "instr/event", "µs CPU/event",
        "peak MiB"]


def print_table(results: list[dict[str, Any]], markdown: bool) -> None:
    table = [r for res in results for r in rows(res)]
    if markdown:
        print("| " + " | ".join(HEAD) + " |")
        print("|" + "---|" * len(HEAD))
        for r in table:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(str(x)) for x in col) for col in zip(HEAD, *table, strict=False)]
    for r in [HEAD, *table]:
        print("  ".join(str(x).rjust(w) for x, w in zip(r, widths, strict=False)))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", action="append", help="interpreter (repeatable; bench/.venv-X.Y used if present)")
    p.add_argument("--workload", action="append", choices=sorted(DEFAULT_SCALES))
    p.add_argument("--scale", type=float, help="one scale for every workload (default: ~1 M calls each)")
    p.add_argument("--cg-scale", type=float, help="scale of the callgrind runs (default: --scale)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--max-events", type=int, help="passed to skeleton run (default: Skeleton's default)")
    p.add_argument("--before", metavar="REF", help="also run Skeleton with the post-processing and redaction "
                   "files as they were at REF (git), side by side: the 'before' rows")
    p.add_argument("--before-file", action="append",
                   help=f"the files --before puts back (default: {', '.join(identical.LANE_FILES + BEFORE_FILES)})")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--ten-million", action="store_true", help="call_heavy at scale 8 (~10 M traced calls): CPU, "
                   "wall, peak memory (target: untraced + 100 MiB); callgrind only with --cg-scale")
    p.add_argument("--in-prog-ir", action="store_true", help="also count the instructions of the timed stretch "
                   f"alone (callgrind --toggle-collect=_operator_call; workloads {', '.join(IN_PROG_IR)})")
    p.add_argument("--no-viztracer", action="store_true")
    p.add_argument("--no-venv", action="store_true")
    p.add_argument("--valgrind", default=shutil.which("valgrind") or "valgrind")
    p.add_argument("--json", help="write the results here")
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the run folders")
    args = p.parse_args(argv)
    if args.ten_million:
        args.workload, args.scale = args.workload or ["call_heavy"], args.scale or 8.0
        args.no_callgrind = args.no_callgrind or args.cg_scale is None
    results = []
    base = tempfile.mkdtemp(prefix="skeleton-cost-")
    if args.before:
        files = args.before_file or list(identical.LANE_FILES + BEFORE_FILES)
        args.before_tree = identical.baseline_tree(args.before, files, os.path.join(base, "before-tree"))
    try:
        for spec in args.python or [sys.executable]:
            interp = bench.resolve_interp(spec, not args.no_venv)
            for name in args.workload or ["call_heavy", "mixed", "text_heavy"]:
                scale = args.scale or DEFAULT_SCALES[name]
                bench.log(f"== {interp.version} {name} scale {scale:g}")
                results.append(measure_workload(interp, name, scale, args, os.path.join(base, interp.version)))
    finally:
        if args.keep:
            bench.log(f"run folders kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)
    print_table(results, args.markdown)
    if args.ten_million:
        for res in results:
            u, t = res["untraced"].get("maxrss_mib"), res["skeleton"].get("maxrss_mib")
            calls = res["skeleton"].get("calls")
            if u is not None and t is not None:
                verdict = "PASS" if t - u <= 100 else "FAIL"
                print(f"{res['workload']} {res['python']}: {calls or 0:,} calls, peak {u:.0f} -> {t:.0f} MiB "
                      f"(+{t - u:.0f}; target +100): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
