"""A 10M-call run with the default event cap: bounded memory, and the report still opens.

Runs bench/workloads/call_heavy.py at a scale that makes over 10 million traced calls, once
untraced and once under `skeleton run` with default settings (200,000 recorded events, the rest
counted), each in a fresh bench/_measure.py process (peak RSS of the largest process of the tree).
Then opens report.html from file:// in headless Chromium (bench/report_speed.py) when Playwright
and Chromium are available.

    python bench/ten_million.py [--scale 5] [--no-browser]

Targets: traced peak RSS <= untraced + 100 MiB; the end record counts >= 10M calls; report.html
below 20 MiB and laid out in the browser.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKLOAD = HERE / "workloads" / "call_heavy.py"


def measured(cmd: list[str], stderr: Path) -> dict:
    env = {**os.environ, "CI": "1", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, str(HERE / "_measure.py"), "--stderr", str(stderr), "--", *cmd],
                       capture_output=True, text=True, env=env, check=True)
    return json.loads(p.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=8.0,
                    help="call_heavy scale (1 is about 1.26M traced calls; dunders such as __init__ are not traced)")
    ap.add_argument("--no-browser", action="store_true", help="do not open the report in Chromium")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        plain = measured([sys.executable, str(WORKLOAD), "--scale", str(a.scale)], Path(tmp) / "plain.err")
        traced = measured([sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", str(out),
                           str(WORKLOAD), "--scale", str(a.scale)], Path(tmp) / "traced.err")
        if traced["returncode"] != 0:
            print((Path(tmp) / "traced.err").read_text())
            return 1
        end = json.loads((out / "trace.jsonl").read_bytes().rsplit(b"\n", 2)[-2])
        counted = sum(c["calls"] for c in end.get("counted", []))
        calls = end["calls"]  # every traced call, recorded or counted
        extra = traced["maxrss_mib"] - plain["maxrss_mib"]
        size = (out / "report.html").stat().st_size / 2**20
        print(f"python {sys.version.split()[0]}, call_heavy --scale {a.scale}: {calls:,} calls "
              f"({end['events']:,} events recorded, {end['dropped_events']:,} dropped, {counted:,} calls counted)")
        print(f"untraced: {plain['wall_s']:.1f} s, peak RSS {plain['maxrss_mib']:.0f} MiB")
        print(f"skeleton run: {traced['wall_s']:.1f} s, peak RSS {traced['maxrss_mib']:.0f} MiB (+{extra:.0f} MiB); "
              f"report.html {size:.1f} MiB")
        ok = extra <= 100 and calls >= 10_000_000 * a.scale / 8 and size < 20
        if not a.no_browser:
            try:
                sys.path.insert(0, str(HERE))
                from report_speed import measure
                r = measure(out / "report.html")
                print(f"report: map laid out {r['map_s']:.2f} s, replay ready {r['ready_s']:.2f} s, "
                      f"longest task while scrubbing {r['longest_task_ms']:.0f} ms")
            except (ImportError, SystemExit) as exc:
                print(f"report not opened ({exc or 'no Playwright'})")
        print(f"targets: RSS +{extra:.0f} <= 100 MiB, >= 10M calls counted, report < 20 MiB: {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
