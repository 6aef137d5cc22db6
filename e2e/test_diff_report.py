"""`skeleton diff A B --format html` in Chromium: the map of run B with run A's evidence marked, the Changes
panel focusing the map, readable labels, offline (open_report fails on console errors and network requests).

A is examples/shop; B is a copy where `Customer.create` no longer calls `Customer.normalize_email` (a removed
actor) and `OrderService.place_order` formats the total with `shop.util.format_money` (an added edge).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import SKELETON_CMD, label_sizes, on_screen

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop"
EDITS = [
    ("shop/domain/customer.py", "email=cls.normalize_email(email))", "email=email.strip().lower())"),
    ("shop/services/orders.py", "                          total_cents=order.total().cents)",
     "                          total=__import__('shop.util').util.format_money(order.total().cents))"),
]
REMOVED = "clsm:shop.domain.customer.Customer.normalize_email"


def _skeleton(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*SKELETON_CMD, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "CI": "1"}, timeout=300)


def _run(folder: Path, out: Path) -> Path:
    p = _skeleton("run", "--no-open", "--no-html", "--project-root", str(folder), "--out-dir", str(out),
                  str(folder / "app.py"))
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def diff_report(tmp_path_factory):
    """(merged snapshot, report path)"""
    tmp = tmp_path_factory.mktemp("diff")
    before, after = tmp / "before", tmp / "after"
    for dest in (before, after):
        shutil.copytree(SHOP, dest, ignore=shutil.ignore_patterns("__pycache__", ".skeleton"))
    for path, old, new in EDITS:
        text = (after / path).read_text()
        assert old in text
        (after / path).write_text(text.replace(old, new, 1))
    a, b = _run(before, tmp / "a"), _run(after, tmp / "b")
    out = tmp / "diff.html"
    p = _skeleton("diff", str(a), str(b), "--format", "html", "-o", str(out))
    assert p.returncode == 0, p.stderr
    html = out.read_text("utf-8")
    snap = json.loads(re.search(r'id="skeleton-snapshot">(.*?)</script>', html, re.S).group(1))
    return snap, out


def _edge_marks(page, status: str) -> list[dict]:
    """Drawn edges carrying a diff mark: their test id, label, and whether they lie inside the visible map."""
    return page.evaluate("""(status) => {
      const m = document.querySelector('[data-testid=view-map] .react-flow').getBoundingClientRect();
      return [...document.querySelectorAll(`[data-testid^="edge-"][data-diff="${status}"]`)].map((el) => {
        const r = el.querySelector('.ce-path').getBoundingClientRect();
        const label = el.querySelector('[data-testid=edge-diff-label]');
        const stroke = getComputedStyle(el.querySelector('.ce-path'));
        return {id: el.dataset.testid.slice(5), label: label ? label.textContent : null,
                dashed: stroke.strokeDasharray !== 'none', color: stroke.stroke,
                inside: r.width + r.height > 0 && r.right > m.left && r.left < m.right
                        && r.bottom > m.top && r.top < m.bottom};
      });
    }""", status)


def test_diff_report_marks_the_added_edge_and_the_removed_actor(open_report, diff_report):
    snap, path = diff_report
    assert {m["id"]: m["status"] for m in snap["diff"]["nodes"]} == {REMOVED: "removed"}
    o = open_report(path)
    page = o.page
    # first view: the Changes panel, the diff legend, and the added dependency drawn in green
    panel = page.locator("[data-testid=diff-panel]")
    assert panel.is_visible()
    assert "Removed actors" in panel.inner_text() and "Added edges" in panel.inner_text()
    assert page.locator("[data-testid=legend-diff-added]").is_visible()
    assert page.locator("[data-testid=legend-diff-removed]").is_visible()
    page.wait_for_selector('[data-testid^="edge-"][data-diff="added"]', timeout=10_000)
    added = [e for e in _edge_marks(page, "added") if e["inside"]]
    assert added, _edge_marks(page, "added")
    assert all(e["label"] == "+2" for e in added), added  # place_order -> format_money: 2 calls, only in B
    # every box label readable at the first view, the diff badges too
    sizes = label_sizes(page)
    assert sizes["boxes"] and min(b["px"] for b in sizes["boxes"]) >= 10, sizes
    badge_px = page.evaluate("""() => {
      const zoom = new DOMMatrixReadOnly(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
      return [...document.querySelectorAll('[data-testid=diff-badge], [data-testid=diff-inside]')]
        .map((el) => parseFloat(getComputedStyle(el).fontSize) * zoom);
    }""")
    assert badge_px and min(badge_px) >= 10, badge_px

    # the removed actor: one click in the Changes panel brings it on screen, marked removed (red, dashed)
    page.locator('[data-testid=diff-change][data-section=actors_removed]').click()
    node = page.locator(f'[data-testid="node-{REMOVED}"]')
    node.wait_for(state="visible", timeout=10_000)
    page.wait_for_function("(id) => { const el = document.querySelector(`[data-testid=\"node-${CSS.escape(id)}\"]`);"
                           " return el && el.classList.contains('revealed'); }", arg=REMOVED, timeout=10_000)
    page.wait_for_timeout(500)  # the map pans to it
    assert node.get_attribute("data-diff") == "removed"
    assert on_screen(page, REMOVED)
    assert node.locator("[data-testid=diff-badge]").inner_text() == "\u22122"  # minus 2: 2 calls in A, none in B
    assert page.evaluate("(id) => getComputedStyle(document.querySelector(`[data-testid=\"node-${CSS.escape(id)}\"]`))"
                         ".outlineStyle", REMOVED) == "dashed"
    removed_edges = [e for e in _edge_marks(page, "removed") if e["inside"]]
    assert removed_edges and all(e["dashed"] for e in removed_edges), removed_edges
    assert "selected" in page.locator("[data-testid=diff-change][data-section=actors_removed]").get_attribute("class")
    note = page.locator("[data-testid=inspector-diff]")  # the inspector says it too
    assert note.get_attribute("data-diff") == "removed" and "run A: 2 calls" in note.inner_text()

    # the added edge at method level: focused from its row, drawn and selected
    row = page.locator('[data-testid=diff-change][data-section=edges_added]')
    edge_id = row.get_attribute("data-edge")
    assert edge_id.endswith("->fn:shop.util:format_money")
    row.click()
    page.wait_for_timeout(500)
    # drawn from place_order (its callee may be folded into its module at this level of detail), green, selected
    source = edge_id.split("->")[0]
    marked = [e for e in _edge_marks(page, "added") if e["inside"] and e["id"].startswith(source + "->")]
    assert marked and all(e["label"] == "+2" and not e["dashed"] for e in marked), _edge_marks(page, "added")
    assert all("selected" in page.locator(f'[data-testid="edge-{e["id"]}"]').get_attribute("class") for e in marked)
    assert on_screen(page, source)


def test_diff_report_text_is_program_text_never_markup(open_report, diff_report, tmp_path):
    """Names in the Changes panel are text: a name holding markup shows as written, runs nothing."""
    snap, _ = diff_report
    forged = json.loads(json.dumps(snap))
    bad = '<img src=x onerror="document.title=\'pwned\'">'
    forged["diff"]["changes"][0]["parts"][1] = bad
    forged["diff"]["a"]["path"] = bad
    from skeleton_replay.render.html import write_report

    path = write_report(forged, tmp_path / "forged.html")
    o = open_report(path)
    panel = o.page.locator("[data-testid=diff-panel]")
    assert bad in panel.inner_text()
    assert o.page.title() != "pwned" and o.page.locator("[data-testid=diff-panel] img").count() == 0
