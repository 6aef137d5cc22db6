"""How fast report.html opens, focuses and scrubs in headless Chromium, for a big real run.

Traces bench/workloads/call_heavy.py (about 2M calls at --scale 1.6) with default settings, or with
--real docutils|jinja2 a real library (e2e/real_programs/; docutils: about 4,800 nodes), then opens
report.html from file:// and measures: file size, time until the map is laid out, focus changes
(a click on a box until the new view is painted), and the longest main-thread task while playing
and scrubbing (PerformanceObserver 'longtask').

    python bench/report_speed.py [--scale 1.6] [--max-events N] [--report PATH] [--real docutils] [--instances 5000]
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


REAL = {"docutils": "docutils_rst.py", "jinja2": "jinja_templates.py", "sqlalchemy": "sqlalchemy_orm.py",
        "rich": "rich_render.py", "astroid": "astroid_infer.py"}

# --instances N: one class with N instances (each stepped twice and asked its energy once), for the instance groups
INSTANCES = """
class Particle:
    def __init__(self, k):
        self.x = float(k)

    def step(self, dt):
        self.x += dt
        return self.x

    def energy(self):
        return 0.5 * self.x


class Field:
    def __init__(self, n):
        self.particles = [Particle(k) for k in range(n)]

    def advance(self):
        return sum(p.step(0.1) for p in self.particles)

    def total_energy(self):
        return sum(p.energy() for p in self.particles)


f = Field(N)
f.advance()
f.advance()
print(f.total_energy())
"""


def make_instances_report(n: int, out: Path) -> tuple[Path, float]:
    out.mkdir(parents=True, exist_ok=True)
    script = out.parent / "particles.py"
    script.write_text(INSTANCES.replace("Field(N)", f"Field({n})"), "utf-8")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", str(out), str(script)],
                   check=True,
                   env={**os.environ, "CI": "1", "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    return out / "report.html", time.perf_counter() - t


def make_real_report(lib: str, out: Path) -> tuple[Path, float]:
    mod = __import__(lib)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", str(out), "--project-root",
                    str(Path(mod.__file__).parent), str(ROOT / "e2e" / "real_programs" / REAL[lib])], check=True,
                   env={**os.environ, "CI": "1", "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL)
    return out / "report.html", time.perf_counter() - t


# Click a box and wait until the map shows it selected in its focus view, two frames later (painted).
FOCUS_JS = """async (id) => {
  const el = document.querySelector(`[data-testid="node-${CSS.escape(id)}"]`);
  if (!el) return null;
  const t0 = performance.now();
  el.click();
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  for (let k = 0; k < 600; k++) {
    await frame();
    const m = document.querySelector('[data-testid=view-map]');
    const n = document.querySelector(`[data-testid="node-${CSS.escape(id)}"]`);
    if (m && m.dataset.mode !== 'overview' && n && n.classList.contains('selected')) { await frame(); return performance.now() - t0; }
  }
  return null;
}"""


def label_figures(page) -> dict:
    """Boxes on screen and the size their labels are drawn at (e2e/helpers.py: label_sizes)."""
    sys.path.insert(0, str(ROOT / "e2e"))
    from helpers import label_sizes, readable_share

    sizes = label_sizes(page)
    px = [b["px"] for b in sizes["boxes"]] or [0.0]
    return {"boxes": len(sizes["boxes"]), "zoom": sizes["zoom"], "min_px": min(px), "max_px": max(px),
            "readable": readable_share(sizes)}


def focus_changes(page, n: int = 6) -> list[float]:
    """Focus on a box of the overview, then hop from neighbour to neighbour."""
    out: list[float] = []
    for _ in range(n):
        ids = page.eval_on_selector_all(
            "[data-testid^='node-']:not(.selected)", "els => els.map(e => e.dataset.testid.slice(5))")
        ids = [i for i in ids if not i.startswith("scenario:")]
        if not ids:
            break
        ms = page.evaluate(FOCUS_JS, ids[len(ids) // 2])
        if ms is not None:
            out.append(ms)
        page.wait_for_timeout(150)
    return out


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
        load_longest = max(page.evaluate("window.__long") or [0])
        big = page.get_attribute("[data-testid=view-map]", "data-big") == "true"
        page.wait_for_timeout(300)
        first = label_figures(page)
        focus_ms = focus_changes(page) if big else []
        page.evaluate("window.__long = []")
        # play at the highest speed for a while (the focus view stays on)
        page.select_option("[data-testid=replay-speed]", "64")
        page.keyboard.press("Home")
        page.locator("[data-testid=replay-play]").click()
        page.wait_for_timeout(3000)
        page.locator("[data-testid=replay-play]").click()
        for _ in range(5):
            page.locator("[data-testid=replay-next-new]").click()
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
            "scrubbed": bool(box), "focus_ms": focus_ms,
            "load_longest_ms": load_longest, "first_view": first}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.6)
    ap.add_argument("--max-events", type=int, default=None)
    ap.add_argument("--report", type=Path, help="measure this report.html instead of making one")
    ap.add_argument("--real", choices=sorted(REAL), help="trace this real library's driver instead of call_heavy")
    ap.add_argument("--instances", type=int, help="trace N instances of one class instead of call_heavy")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if a.report:
            report, run_s = a.report, 0.0
        elif a.instances:
            report, run_s = make_instances_report(a.instances, Path(tmp) / "out")
        elif a.real:
            report, run_s = make_real_report(a.real, Path(tmp) / "out")
        else:
            report, run_s = make_report(a.scale, a.max_events, Path(tmp) / "out")
        r = measure(report)
    print(f"report.html {r['size_mb']:.1f} MiB (skeleton run {run_s:.1f} s); map laid out {r['map_s']:.2f} s, "
          f"replay ready {r['ready_s']:.2f} s (longest task while opening {r['load_longest_ms']:.0f} ms); "
          f"longest main-thread task while playing and scrubbing {r['longest_task_ms']:.0f} ms"
          + ("" if r["scrubbed"] else " (no scrubber found)"))
    fv = r["first_view"]
    print(f"first view: {fv['boxes']} boxes on screen at zoom {fv['zoom']:.2f}, "
          f"labels {fv['min_px']:.1f}-{fv['max_px']:.1f} px "
          f"(font size x zoom), {fv['readable']:.0%} at 10 px or more")
    if r["focus_ms"]:
        f = sorted(r["focus_ms"])
        print(f"focus changes: median {f[len(f) // 2]:.0f} ms, slowest {f[-1]:.0f} ms over {len(f)} clicks "
              f"(target <= 300 ms: {'PASS' if f[-1] <= 300 else 'FAIL'})")
    print(f"targets: size < 20 MiB {'PASS' if r['size_mb'] < 20 else 'FAIL'}; map < 2 s {'PASS' if r['map_s'] < 2 else 'FAIL'}; "
          f"longest task while playing and scrubbing < 200 ms {'PASS' if r['longest_task_ms'] < 200 else 'FAIL'}")


if __name__ == "__main__":
    main()
