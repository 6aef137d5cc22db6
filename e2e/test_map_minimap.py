"""The minimap in the map's bottom-right corner never hides a box of the first fit that could be kept clear
of it: when the fitted layout fits in height above the minimap (or in width left of it), no box lies under
the minimap. Layouts bigger than the screen both ways still pan (something always lies under the corner).
On a map under 700 px (its legend a strip below it) the minimap starts closed, its toggle in that strip:
nothing lies over the map's corner (test_map_minimap_narrow.py)."""
from __future__ import annotations

from conftest import ARTIFACTS

MINIMAP_OPEN_MIN = 700  # report-ui/src/components/map/Legend.tsx: a narrower map opens with its minimap closed
TOP, SIDE, GAP = 56, 16, 8  # the fit's margins (breadcrumbs on top, sides) and the gap it keeps around the minimap

# the boxes drawn under the minimap, and the fitted layout's size on screen against the room beside the minimap
UNDER_JS = """() => {
  const pane = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
  const mmEl = document.querySelector('[data-testid=view-map] .react-flow__minimap');
  if (!mmEl) {  // closed on a narrow map: where its toggle is
    const t = document.querySelector('[data-testid=minimap-toggle]')?.getBoundingClientRect();
    return {closed: true, compact: document.querySelector('[data-testid=map-legend]').dataset.compact,
            toggleTop: t ? t.top : null, paneBottom: pane.bottom, mapWidth: document.querySelector('[data-testid=view-map]').clientWidth};
  }
  const mm = mmEl.getBoundingClientRect();
  const under = [];
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const el of document.querySelectorAll('.react-flow__node')) {
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    x0 = Math.min(x0, r.left); y0 = Math.min(y0, r.top); x1 = Math.max(x1, r.right); y1 = Math.max(y1, r.bottom);
    if (r.right > mm.left && r.left < mm.right && r.bottom > mm.top && r.top < mm.bottom) under.push(el.dataset.id);
  }
  return {under, width: x1 - x0, height: y1 - y0, paneWidth: pane.width, above: mm.top - pane.top, left: mm.left - pane.left};
}"""


def check_clear(page, what: str) -> dict:
    m = page.evaluate(UNDER_JS)
    if m.get("closed"):  # a narrow map: the minimap is a toggle in the legend's strip, below the map
        assert m["compact"] == "true" and m["mapWidth"] < MINIMAP_OPEN_MIN, f"{what}: closed on a wide map ({m})"
        assert m["toggleTop"] is not None, f"{what}: the minimap is closed and has no toggle ({m})"
        assert m["toggleTop"] >= m["paneBottom"] - 1, f"{what}: the minimap's toggle lies over the map ({m})"
        return m
    fits_above = m["height"] <= m["above"] - TOP - GAP - 2  # (2 px for rounding)
    fits_left = m["width"] <= m["left"] - SIDE - GAP - 2
    if fits_above or fits_left:
        assert not m["under"], f"{what}: boxes under the minimap: {m['under'][:6]} ({m})"
    return m


def test_first_fit_keeps_boxes_clear_of_the_minimap(report_case, open_report):
    _snap, path = report_case
    page = open_report(path).page
    page.wait_for_timeout(300)
    check_clear(page, f"{path.name} first view")
    # a smaller window: the fit button fits again
    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_timeout(200)
    page.locator("[data-testid=map-fit]").click()
    page.wait_for_timeout(300)
    check_clear(page, f"{path.name} at 1024x768")


def test_focus_wider_than_the_map_keeps_boxes_clear_of_the_minimap(rich_report, open_report):
    """The focus view of rich.table (callers left, callees right) is wider than the map: it opens at the
    floor zoom, on whole columns from the callers, with its boxes above the minimap, none under it."""
    snap, path = rich_report
    assert any(n["id"] == "mod:rich.table" for n in snap["nodes"])
    page = open_report(path, hash="#node=mod:rich.table").page
    page.wait_for_selector("[data-testid=inspector-node][data-node-id='mod:rich.table']")
    page.wait_for_timeout(400)
    assert page.get_attribute("[data-testid=view-map]", "data-mode") == "focus"
    m = check_clear(page, "rich.table focus")
    assert m["width"] > m["paneWidth"], "the focus view should be wider than the map (this test is about panning layouts)"
    assert m["height"] <= m["above"] - TOP - GAP - 2, "its height fits above the minimap"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "minimap-rich-table.png"))
