"""How fast report.html opens and scrubs in headless Chromium, for a big real run.

Traces bench/workloads/call_heavy.py (about 2M calls at --scale 1.6) with default settings,
then opens report.html from file:// and measures: file size, time until the map is laid out,
and the longest main-thread task while scrubbing (PerformanceObserver 'longtask').

    python bench/report_speed.py [--scale 1.6] [--max-events N] [--report PATH]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def make_report(scale: float, max_events: int | None, out: Path) -> tuple[Path, float]:
    cmd = [sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", str(out)]
    if max_events is not None:
        cmd += ["--max-events", str(max_events)]
    cmd += [str(HERE / "workloads" / "call_heavy.py"), "--scale", str(scale)]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env={**os.environ, "CI": "1", "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    return out / "report.html", time.perf_counter() - t


def measure(report: Path) -> dict:
    from playwright.sync_api import sync_playwright

    exe = os.environ.get("SKELETON_CHROMIUM") or shutil.which("chromium")
    if not exe:
        sys.exit("report_speed: no chromium (install Debian's chromium or set SKELETON_CHROMIUM)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.add_init_script("""
            window.__long = [];
            new PerformanceObserver(l => l.getEntries().forEach(e => window.__long.push(e.duration)))
              .observe({type: 'longtask', buffered: true});
        """)
        t0 = time.perf_counter()
        page.goto(report.resolve().as_uri())
        page.wait_for_selector("[data-testid=view-map][data-layout=ready] .react-flow__node", state="attached", timeout=120_000)
        map_s = time.perf_counter() - t0
        page.wait_for_function("() => !document.querySelector('[data-testid=replay-play]').disabled", timeout=120_000)
        ready_s = time.perf_counter() - t0
        page.evaluate("window.__long = []")
        scrub = page.locator("[data-testid=scrubber]")
        box = scrub.bounding_box()
        if box:
            page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            for i in range(60):
                page.mouse.move(box["x"] + 2 + (box["width"] - 4) * i / 59, box["y"] + box["height"] / 2)
                page.wait_for_timeout(16)
            page.mouse.up()
        for key in ("End", "Home", "ArrowRight", "ArrowRight", "ArrowLeft"):
            page.keyboard.press(key)
        page.wait_for_timeout(500)
        longest = max(page.evaluate("window.__long") or [0])
        browser.close()
    return {"size_mb": report.stat().st_size / 2**20, "map_s": map_s, "ready_s": ready_s, "longest_task_ms": longest,
            "scrubbed": bool(box)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.6)
    ap.add_argument("--max-events", type=int, default=None)
    ap.add_argument("--report", type=Path, help="measure this report.html instead of making one")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if a.report:
            report, run_s = a.report, 0.0
        else:
            report, run_s = make_report(a.scale, a.max_events, Path(tmp) / "out")
        r = measure(report)
    print(f"report.html {r['size_mb']:.1f} MiB (skeleton run {run_s:.1f} s); map laid out {r['map_s']:.2f} s, "
          f"replay ready {r['ready_s']:.2f} s; longest main-thread task while scrubbing {r['longest_task_ms']:.0f} ms"
          + ("" if r["scrubbed"] else " (no scrubber found)"))
    print(f"targets: size < 20 MiB {'PASS' if r['size_mb'] < 20 else 'FAIL'}; map < 3 s {'PASS' if r['map_s'] < 3 else 'FAIL'}; "
          f"longest task < 200 ms {'PASS' if r['longest_task_ms'] < 200 else 'FAIL'}")


if __name__ == "__main__":
    main()
