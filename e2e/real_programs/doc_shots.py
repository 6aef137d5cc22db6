"""Screenshots for docs/report.md from reports of the real programs in this folder.

    python e2e/real_programs/doc_shots.py   (needs Chromium, jinja2 and docutils)

Writes docs/img/report-{overview,focus,focus-module,matrix,instances,boundaries}.png: the view area (map or matrix) of a
1180x740 window, kept under 150 KB.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SHOTS = [  # (name, library, driver, hash)
    ("overview", "docutils", "docutils_rst.py", ""),
    ("focus", "jinja2", "jinja_templates.py", "#node=meth:jinja2.compiler.CodeGenerator%231.visit"),
    ("focus-module", "docutils", "docutils_rst.py", "#node=mod:docutils.parsers.rst.states"),
    ("matrix", "docutils", "docutils_rst.py", "#view=matrix"),
    ("instances", "", "particles.py", ""),  # no library: the program is the project
    ("boundaries", "", str(ROOT / "examples" / "shop" / "app.py"), ""),
]


def report(lib: str, driver: str, out: Path) -> Path:
    if not (out / "report.html").exists():
        root = ["--project-root", str(Path(__import__(lib).__file__).parent)] if lib else []
        subprocess.run([sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--out-dir", str(out), *root,
                        str(HERE / driver)], check=True, env={**os.environ, "CI": "1"}, stdout=subprocess.DEVNULL)
    return out / "report.html"


def main() -> None:
    from playwright.sync_api import sync_playwright

    exe = os.environ.get("SKELETON_CHROMIUM") or shutil.which("chromium")
    if not exe:
        sys.exit("doc_shots: needs chromium (or SKELETON_CHROMIUM)")
    img = ROOT / "docs" / "img"
    img.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=ARGS)
        for name, lib, driver, hash_ in SHOTS:
            path = report(lib, driver, Path(tmp) / (lib or Path(driver).stem))
            page = browser.new_page(viewport={"width": 1180, "height": 740})
            page.goto(path.resolve().as_uri() + hash_)
            page.wait_for_selector("[data-testid=replay-play]:not([disabled])", timeout=60_000)
            page.wait_for_timeout(800)
            dest = img / f"report-{name}.png"
            page.locator("main.view-area").screenshot(path=str(dest), animations="disabled")
            page.close()
            print(f"{dest.relative_to(ROOT)}: {dest.stat().st_size // 1024} KB")
        browser.close()


if __name__ == "__main__":
    main()
