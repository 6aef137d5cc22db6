"""On a map too narrow for its minimap (a pytest run's Tests sidebar at 1024x768, 1280x800) the minimap never
hides boxes of the first view: it starts closed, and its toggle ("minimap", at the right end of the legend's
strip below the map) opens it over the map's bottom-right corner, where it pans the map; the fit then keeps
boxes clear of it as on a wide map. A map wide enough for it (1440x900, legend still a strip) opens with it
shown and the toggle can hide it; a wide map keeps its minimap open, with no toggle."""
from __future__ import annotations

import pytest

from conftest import ARTIFACTS
from test_map_legend_narrow import open_at, pytest_report  # noqa: F401  (the `skeleton pytest` report fixture)
from test_map_minimap import check_clear

# what covers the map's bottom-right corner (the minimap, or the toggle when it is there) and the boxes drawn
# (clipped to the pane) that it covers
COVER_JS = """() => {
  const pane = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
  const rect = (r) => (r && r.width
    ? {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height} : null);
  const mm = rect(document.querySelector('[data-testid=view-map] .react-flow__minimap')?.getBoundingClientRect());
  const toggle = rect(document.querySelector('[data-testid=minimap-toggle]')?.getBoundingClientRect());
  const covers = [mm, toggle].filter(Boolean);
  const under = [];
  let shown = 0;
  for (const el of document.querySelectorAll('.react-flow__node')) {
    const r = el.getBoundingClientRect();
    const x0 = Math.max(r.left, pane.left), x1 = Math.min(r.right, pane.right), y0 = Math.max(r.top, pane.top), y1 = Math.min(r.bottom, pane.bottom);
    if (x1 <= x0 || y1 <= y0) continue;  // not drawn
    shown++;
    if (covers.some((c) => x0 < c.right && x1 > c.left && y0 < c.bottom && y1 > c.top)) under.push(el.dataset.id);
  }
  const vp = document.querySelector('[data-testid=view-map] .react-flow__viewport').style.transform;
  return {pane: rect(pane), minimap: mm, toggle, under, shown, viewport: vp,
          minimapNodes: document.querySelectorAll('[data-testid=view-map] .react-flow__minimap-node').length};
}"""


def close_with_toggle(page, toggle) -> None:
    """A click on the strip's toggle hides the open minimap, and the toggle says so."""
    toggle.click()
    page.wait_for_timeout(200)
    assert page.locator("[data-testid=view-map] .react-flow__minimap").count() == 0
    assert toggle.get_attribute("aria-expanded") == "false"


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800)], ids=["1024x768", "1280x800"])
def test_minimap_never_hides_the_boxes_of_a_narrow_map(browser, pytest_report, size):  # noqa: F811
    _snap, path = pytest_report
    ctx, page, errors = open_at(browser, path, *size)
    try:
        assert page.locator("[data-testid=scenario-picker]").is_visible(), "the Tests sidebar narrows the map"
        assert page.get_attribute("[data-testid=map-legend]", "data-compact") == "true"
        m = page.evaluate(COVER_JS)
        assert m["shown"] > 0
        # the first view: no box under the minimap, nor under its toggle
        assert not m["under"], f"boxes hidden at {size}: {m['under']} (minimap {m['minimap']}, toggle {m['toggle']})"
        assert m["minimap"] is None, f"the minimap starts open on a narrow map: {m['minimap']}"
        toggle = page.locator("[data-testid=minimap-toggle]")
        assert toggle.is_visible()
        assert "minimap" in (toggle.get_attribute("aria-label") or "")
        assert toggle.get_attribute("aria-expanded") == "false"
        t = m["toggle"]
        assert t["top"] >= m["pane"]["bottom"] - 1, f"the toggle lies over the map: {t} / {m['pane']}"
        assert t["right"] <= size[0] + 1 and t["bottom"] <= size[1] and t["height"] >= 14 and t["width"] >= 20
        if size == (1024, 768):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "minimap-pytest-1024x768.png"))

        # the user opens it: the whole map in the bottom-right corner of the pane, just above its toggle
        toggle.click()
        page.wait_for_selector("[data-testid=view-map] .react-flow__minimap")
        page.wait_for_timeout(200)
        m2 = page.evaluate(COVER_JS)
        mm, pane = m2["minimap"], m2["pane"]
        assert mm and mm["width"] >= 150 and mm["height"] >= 75, mm
        assert pane["left"] <= mm["left"] and mm["right"] <= pane["right"] + 1, (mm, pane)
        assert pane["top"] <= mm["top"] and mm["bottom"] <= pane["bottom"] + 1, (mm, pane)
        assert mm["right"] > pane["right"] - 40 and mm["bottom"] > pane["bottom"] - 40, f"not in the corner: {mm}"
        assert m2["minimapNodes"] > 0, "the minimap draws the map"
        assert toggle.get_attribute("aria-expanded") == "true"
        # it pans the map (a drag inside it moves the view)
        before = m2["viewport"]
        page.mouse.move(mm["left"] + mm["width"] / 2, mm["top"] + mm["height"] / 2)
        page.mouse.down()
        page.mouse.move(mm["left"] + mm["width"] / 2 - 30, mm["top"] + mm["height"] / 2 - 15, steps=5)
        page.mouse.up()
        page.wait_for_timeout(100)
        assert page.evaluate(COVER_JS)["viewport"] != before, "dragging in the minimap does not pan the map"
        # the fit now keeps the boxes clear of the open minimap, as on a wide map (when the layout fits beside it)
        page.locator("[data-testid=map-fit]").click()
        page.wait_for_timeout(300)
        check_clear(page, f"pytest report at {size}, minimap open, fit view")
        if size == (1024, 768):
            page.screenshot(path=str(ARTIFACTS / "minimap-pytest-1024x768-open.png"))

        close_with_toggle(page, toggle)  # and closes it again
        assert errors == []
    finally:
        ctx.close()


def test_wide_map_keeps_its_minimap(browser, pytest_report):  # noqa: F811
    """At 1920x1080 the map is wide: the minimap is open over its corner, with no toggle; a window narrowed to
    1024x768 closes it (the toggle appears in the legend's strip), widened again reopens it."""
    _snap, path = pytest_report
    ctx, page, errors = open_at(browser, path, 1920, 1080)
    try:
        m = page.evaluate(COVER_JS)
        assert m["minimap"] and m["minimap"]["width"] == 200 and m["minimap"]["height"] == 100, m["minimap"]
        assert m["toggle"] is None
        check_clear(page, "pytest report at 1920x1080")
        page.set_viewport_size({"width": 1024, "height": 768})
        page.wait_for_timeout(300)
        m = page.evaluate(COVER_JS)
        assert m["minimap"] is None and m["toggle"] is not None, m
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.wait_for_timeout(300)
        m = page.evaluate(COVER_JS)
        assert m["minimap"] is not None and m["toggle"] is None, m
        assert errors == []
    finally:
        ctx.close()


def test_a_strip_map_wide_enough_opens_with_its_minimap(browser, pytest_report):  # noqa: F811
    """At 1440x900 the pytest report's map (~780 px) has its legend in a strip but room for the minimap: it is
    shown, the first fit keeps boxes clear of it, and the strip's toggle hides it."""
    _snap, path = pytest_report
    ctx, page, errors = open_at(browser, path, 1440, 900)
    try:
        assert page.get_attribute("[data-testid=map-legend]", "data-compact") == "true"
        m = page.evaluate(COVER_JS)
        assert m["minimap"] is not None and m["minimap"]["width"] == 200, m
        check_clear(page, "pytest report at 1440x900")
        toggle = page.locator("[data-testid=minimap-toggle]")
        assert toggle.get_attribute("aria-expanded") == "true"
        close_with_toggle(page, toggle)
        assert errors == []
    finally:
        ctx.close()
