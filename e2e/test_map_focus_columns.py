"""A focus view wider than the map opens on whole columns, callers first: the callers' column starts at the
map's left edge (its boxes and labels whole), then the node in focus, and the callees are a pan to the right
away. No column is cut at the left edge, and a callees' column is not cut in the middle at the right edge
(the fit zooms in a little, above the floor, until it starts past the edge). When the callers and the node in
focus do not fit together, the view starts at the node in focus, whole."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ARTIFACTS

FLOOR = 0.86  # the focus view's floor zoom (MapView.tsx FLOOR.focus)

# every top-level box of the focus view (the boxes inside the node in focus are left out), with its label,
# the node in focus, the pane and the zoom
BOXES_JS = """(center) => {
  const pane = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
  const zoom = new DOMMatrixReadOnly(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
  const rect = (r) => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
  const c = document.querySelector(`.react-flow__node[data-id="${CSS.escape(center)}"]`);
  const cr = c.getBoundingClientRect();
  const inside = (r) => r.left >= cr.left - 1 && r.right <= cr.right + 1 && r.top >= cr.top - 1 && r.bottom <= cr.bottom + 1;
  const boxes = [];
  for (const el of document.querySelectorAll('.react-flow__node')) {
    const r = el.getBoundingClientRect();
    if (!r.width || (el !== c && inside(r))) continue;
    const label = el.querySelector('[data-label]');
    boxes.push({id: el.dataset.id, ...rect(r), label: label ? rect(label.getBoundingClientRect()) : null,
                text: label ? label.textContent : ''});
  }
  return {pane: rect(pane), zoom, center: rect(cr), boxes};
}"""


def open_focus(open_report, path: Path, node: str) -> tuple[object, dict]:
    page = open_report(path, hash=f"#node={node}").page
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{node}']")
    page.wait_for_selector("[data-testid=view-map][data-mode=focus][data-layout=ready]")
    page.wait_for_timeout(400)
    return page, page.evaluate(BOXES_JS, node)


def crosses(b: dict, x: float) -> bool:
    """The box is cut by the vertical line at x (1 px of slack for borders and rounding)."""
    return b["left"] < x - 1 and b["right"] > x + 1


# Focus views of rich modules that are wider than the map at 1440x900 and whose callers and module fit
# together at the floor zoom. The old fit centred the module: their callers were cut at the left edge.
WIDE_FITTING = ["rich.console", "rich.table", "rich.text", "rich.cells", "rich.measure", "rich.syntax", "rich.tree"]


@pytest.mark.parametrize("module", WIDE_FITTING)
def test_wide_focus_opens_on_whole_columns_callers_first(rich_report, open_report, module):
    snap, path = rich_report
    node = f"mod:{module}"
    assert any(n["id"] == node for n in snap["nodes"])
    page, m = open_focus(open_report, path, node)
    pane, center, boxes = m["pane"], m["center"], m["boxes"]
    x0, x1 = min(b["left"] for b in boxes), max(b["right"] for b in boxes)
    assert x1 - x0 > pane["right"] - pane["left"], f"{module}: the focus view should be wider than the map ({m})"
    assert m["zoom"] >= FLOOR - 0.005, f"{module}: zoom {m['zoom']} under the floor"
    callers = [b for b in boxes if b["right"] <= center["left"] + 1]
    assert callers, f"{module}: no callers"
    # the callers' column: whole, its labels inside the map, starting at the map's left edge
    for b in callers:
        assert b["left"] >= pane["left"] - 1 and b["right"] <= pane["right"] + 1, f"{module}: caller {b['id']} cut or off screen: {b}"
        lab = b["label"]
        if lab:
            assert lab["left"] >= pane["left"] - 1 and lab["right"] <= pane["right"] + 1, f"{module}: label of {b['id']} cut: {b}"
    assert min(b["left"] for b in callers) - pane["left"] <= 40, f"{module}: the callers' column should start at the left edge"
    # the module in focus whole
    assert center["left"] >= pane["left"] - 1 and center["right"] <= pane["right"] + 1, f"{module}: the module is cut: {center}"
    # no column cut in the middle at either edge
    cut = [b["id"] for b in boxes if crosses(b, pane["left"]) or crosses(b, pane["right"])]
    assert not cut, f"{module}: boxes cut by the map's edges: {cut}"
    # and the callees are a pan to the right away
    assert x1 > pane["right"], f"{module}: nothing right of the map?"
    if module == "rich.console":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "focus-columns-rich-console.png"))


# Focus views whose callers and module do not fit together at the floor (the module alone does): the view
# starts at the module, whole; the callers are a pan to the left away, never cut at the left edge.
WIDE_CENTRE = ["rich.style", "rich.color"]


@pytest.mark.parametrize("module", WIDE_CENTRE)
def test_module_too_wide_for_its_callers_opens_whole(rich_report, open_report, module):
    _snap, path = rich_report
    page, m = open_focus(open_report, path, f"mod:{module}")
    pane, center, boxes = m["pane"], m["center"], m["boxes"]
    assert m["zoom"] >= FLOOR - 0.005
    assert center["left"] >= pane["left"] - 1 and center["right"] <= pane["right"] + 1, f"{module}: the module is cut: {center}"
    assert center["left"] - pane["left"] <= 40, f"{module}: the module should start the view: {center}"
    assert not [b["id"] for b in boxes if crosses(b, pane["left"])], f"{module}: a box is cut at the left edge"
    callers = [b for b in boxes if b["right"] <= center["left"] + 1]
    assert callers and all(b["right"] <= pane["left"] + 1 for b in callers), f"{module}: callers half on screen: {callers}"
    if module == "rich.style":
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "focus-columns-rich-style.png"))
