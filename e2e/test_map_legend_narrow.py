"""The map legend never covers the map's boxes: on a narrow map (a pytest run's Tests sidebar at 1024x768,
1280x800) it is a one-line strip below the map with a toggle showing every entry, instead of a box wrapping
over the map; on a wide map it stays over the bottom-left corner, below the fitted boxes."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ARTIFACTS, ROOT
from helpers import SKELETON_CMD

# the legend's rectangle, the map pane's, and the boxes (clipped to the pane: what is drawn) that meet the legend
LEGEND_JS = """() => {
  const pane = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
  const lg = document.querySelector('[data-testid=map-legend]');
  const l = lg.getBoundingClientRect();
  const hits = [];
  let shown = 0;
  for (const el of document.querySelectorAll('.react-flow__node')) {
    const r = el.getBoundingClientRect();
    const x0 = Math.max(r.left, pane.left), x1 = Math.min(r.right, pane.right), y0 = Math.max(r.top, pane.top), y1 = Math.min(r.bottom, pane.bottom);
    if (x1 <= x0 || y1 <= y0) continue;  // not drawn
    shown++;
    if (x0 < l.right && x1 > l.left && y0 < l.bottom && y1 > l.top) hits.push(el.dataset.id);
  }
  const items = [...lg.querySelectorAll('.lg')].map((e) => { const r = e.getBoundingClientRect(); return {text: e.textContent, top: r.top, bottom: r.bottom, left: r.left, right: r.right}; });
  const rect = (r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom, height: r.height, width: r.width});
  return {legend: rect(l), pane: rect(pane), compact: lg.dataset.compact, hits, shown, items};
}"""


@pytest.fixture(scope="module")
def pytest_report(tmp_path_factory):
    """`skeleton pytest` on examples/shop/tests: a report with the Tests sidebar and the harness legend entry."""
    out = tmp_path_factory.mktemp("pytest-legend")
    proc = subprocess.run([*SKELETON_CMD, "pytest", "--no-open", "--out-dir", str(out), "--",
                           "examples/shop/tests", "-q", "-p", "no:cacheprovider"], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "CI": "1"}, timeout=300)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: a test fails on purpose
    return json.loads((out / "snapshot.json").read_text("utf-8")), out / "report.html"


def open_at(browser, path: Path, width: int, height: int, scheme: str = "light"):
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(Path(path).resolve().as_uri())
    page.wait_for_selector("[data-testid=view-map][data-layout=ready] .react-flow__node", state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    return ctx, page, errors


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800)], ids=["1024x768", "1280x800"])
def test_legend_never_covers_the_map_of_a_pytest_run(browser, pytest_report, size):
    _snap, path = pytest_report
    ctx, page, errors = open_at(browser, path, *size)
    try:
        assert page.locator("[data-testid=scenario-picker]").is_visible(), "the Tests sidebar narrows the map"
        m = page.evaluate(LEGEND_JS)
        assert m["shown"] > 0
        assert not m["hits"], f"the legend covers boxes at {size}: {m['hits']} ({m['legend']})"
        # one line, inside the window, under the map rather than over it
        assert m["legend"]["height"] <= 34, f"the legend wraps: {m['legend']}"
        assert m["legend"]["top"] >= m["pane"]["bottom"] - 1, f"the legend lies over the map: {m['legend']} / {m['pane']}"
        assert m["legend"]["bottom"] <= size[1] and m["legend"]["right"] <= size[0] + 1
        # the entries on the line are whole and readable (the rest is behind the toggle)
        line = [i for i in m["items"] if i["bottom"] <= m["legend"]["bottom"] and i["top"] >= m["legend"]["top"]]
        assert len(line) >= 2, f"no entry on the legend's line: {m['items']}"
        assert all(i["right"] <= m["legend"]["right"] for i in line)
        # the fit button still fits the map, and the legend still covers nothing
        page.locator("[data-testid=map-fit]").click()
        page.wait_for_timeout(300)
        assert not page.evaluate(LEGEND_JS)["hits"]
        # the toggle shows every entry (the test harness among them), inside the legend
        page.locator("[data-testid=legend-toggle]").click()
        page.wait_for_timeout(200)
        m2 = page.evaluate(LEGEND_JS)
        harness = page.locator("[data-testid=legend-harness]").bounding_box()
        assert harness and m2["legend"]["top"] <= harness["y"] and harness["y"] + harness["height"] <= m2["legend"]["bottom"] + 1
        assert all(m2["legend"]["top"] <= i["top"] and i["bottom"] <= m2["legend"]["bottom"] + 1 for i in m2["items"]), m2
        assert m2["legend"]["top"] >= m2["pane"]["bottom"] - 1, "the open legend pushes the map up, never over it"
        assert page.get_attribute("[data-testid=legend-toggle]", "aria-expanded") == "true"
        if size == (1024, 768):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "legend-pytest-1024x768-open.png"))
            page.locator("[data-testid=legend-toggle]").click()
            page.wait_for_timeout(200)
            page.screenshot(path=str(ARTIFACTS / "legend-pytest-1024x768.png"))
        assert errors == []
    finally:
        ctx.close()


def test_legend_stays_over_a_wide_map(browser, pytest_report):
    """At 1920x1080 the map is wide: the legend is the box over its bottom-left corner, the fit keeps boxes above it."""
    _snap, path = pytest_report
    ctx, page, errors = open_at(browser, path, 1920, 1080)
    try:
        m = page.evaluate(LEGEND_JS)
        assert m["pane"]["top"] < m["legend"]["top"] < m["pane"]["bottom"]
        assert not m["hits"], f"the legend covers boxes: {m['hits']}"
        assert page.locator("[data-testid=legend-toggle]").count() == 0
        assert errors == []
    finally:
        ctx.close()
