"""Browser tests of report.html, opened from file:// in headless Chromium (Playwright, sync API).

The reports are built with skeleton_replay.render.html.write_report from the sample snapshots in
report-ui/samples/. To test reports made another way (e.g. by `skeleton run` on examples/), override
the `report_case` fixture: it yields (snapshot dict, report path).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import SKELETON_CMD

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted(p for p in (ROOT / "report-ui" / "samples").glob("*.json") if not p.name.startswith(("big", "example-")))  # examples: the run: cases
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]

if os.environ.get("SKELETON_TEST_INSTALLED") != "1":  # under scripts/test.sh the installed wheel is what runs
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers.py


def chromium_path() -> str | None:
    return os.environ.get("SKELETON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    exe = chromium_path()
    if not exe:
        msg = "NO CHROMIUM FOUND: set SKELETON_CHROMIUM or install Debian's chromium; skipping the browser tests"
        print(f"\n{'!' * 80}\n{msg}\n{'!' * 80}", file=sys.stderr)
        pytest.skip(msg)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def write(snapshot: dict, path: Path) -> Path:
    from skeleton_replay.render.html import write_report

    return write_report(snapshot, path)


EXAMPLES = ["shop", "async_pipeline"]  # real reports: `skeleton run` on examples/<name>/app.py


@pytest.fixture(scope="session", params=[f"sample:{p.name}" for p in SAMPLES] + [f"run:{e}" for e in EXAMPLES] + ["pytest:shop"],
                ids=[f"sample-{p.stem}" for p in SAMPLES] + [f"run-{e}" for e in EXAMPLES] + ["pytest-shop"])
def report_case(request, tmp_path_factory):
    """(snapshot, report path): the UI samples, real reports that `skeleton run` wrote for examples/,
    and the report of `skeleton pytest` on examples/shop/tests (with its tests as scenarios)."""
    kind, name = request.param.split(":", 1)
    if kind == "sample":
        snap = json.loads((ROOT / "report-ui" / "samples" / name).read_text("utf-8"))
        path = write(snap, tmp_path_factory.mktemp("reports") / f"{Path(name).stem}.html")
        return snap, path
    if kind == "pytest":
        out = tmp_path_factory.mktemp(f"pytest-{name}")
        proc = subprocess.run([*SKELETON_CMD, "pytest", "--no-open", "--out-dir", str(out), "--",
                               f"examples/{name}/tests", "-q", "-p", "no:cacheprovider"], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, "CI": "1"}, timeout=300)
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: a test fails on purpose
        return json.loads((out / "snapshot.json").read_text("utf-8")), out / "report.html"
    out = tmp_path_factory.mktemp(f"run-{name}")
    proc = subprocess.run([*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out),
                           str(ROOT / "examples" / name / "app.py")], capture_output=True, text=True,
                          env={**os.environ, "CI": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "snapshot.json").read_text("utf-8")), out / "report.html"


@pytest.fixture
def snapshot(report_case):
    return report_case[0]


@pytest.fixture
def report_path(report_case):
    return report_case[1]


class Opened:
    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.external: list[str] = []


@pytest.fixture
def open_report(browser):
    """open_report(path, hash='', color_scheme='light') -> Opened; fails on console errors or network use."""
    opened: list[Opened] = []

    def _open(path: Path, hash: str = "", color_scheme: str = "light", wait_map: bool = True) -> Opened:
        ctx = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme=color_scheme)
        page = ctx.new_page()
        o = Opened(page)

        def route(r):
            url = r.request.url
            if url.startswith(("file:", "data:", "blob:")):
                r.continue_()
            else:
                o.external.append(url)
                r.abort()

        page.route("**/*", route)
        page.on("console", lambda m: o.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: o.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else o.external.append(r.url))
        page.goto(Path(path).resolve().as_uri() + hash)
        if wait_map:
            page.wait_for_selector("[data-testid=view-map][data-layout=ready] .react-flow__node", state="attached", timeout=30_000)
        page.wait_for_function("() => document.querySelector('[data-testid=replay-play]') && !document.querySelector('[data-testid=replay-play]').disabled", timeout=30_000)
        opened.append(o)
        return o

    yield _open
    for o in opened:
        o.page.context.close()
    for o in opened:
        assert o.errors == [], f"console errors: {o.errors}"
        assert o.external == [], f"network requests: {o.external}"


@pytest.fixture(scope="session")
def rich_report(tmp_path_factory):
    """rich's own code traced while it renders a table, markdown and a tree (thousands of nodes): the snapshot and
    report.html (one run for every test that looks at it)."""
    rich = pytest.importorskip("rich")
    out = tmp_path_factory.mktemp("real-rich")
    proc = subprocess.run([*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out), "--project-root",
                           str(Path(rich.__file__).parent), str(ROOT / "e2e" / "real_programs" / "rich_render.py")],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "snapshot.json").read_text("utf-8")), out / "report.html"
