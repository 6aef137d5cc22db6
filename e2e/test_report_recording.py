"""The report tells what was recorded: the header's events figure (recorded of counted), the Recording panel
(per phase, with the budgets of capture/budget.py), one gaps banner that never overlaps, the check's status
("rules: passed" / "rules: N violations") and I/O rule violations in the dependency matrix."""
from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import ARTIFACTS, CHROMIUM_ARGS, ROOT  # noqa: F401  (CHROMIUM_ARGS: the browser fixture's flags)
from helpers import SKELETON_CMD, run_checked

SHOP = ROOT / "examples" / "shop"
READY = "[data-testid=view-map][data-layout=ready] .react-flow__node"


def _skeleton(*args: str, out, cwd=ROOT) -> dict:
    cmd = [*SKELETON_CMD, *args[:1], "--no-open", "--out-dir", str(out), *args[1:]]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env={**os.environ, "CI": "1"}, timeout=300)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # 1: a shop test fails on purpose
    return json.loads((out / "snapshot.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def capped_shop(tmp_path_factory):
    """The shop demo under `--max-events 120`: most of its calls are only counted."""
    out = tmp_path_factory.mktemp("capped-shop")
    return _skeleton("run", "--max-events", "120", str(SHOP / "app.py"), out=out), out / "report.html"


@pytest.fixture(scope="module")
def capped_suite(tmp_path_factory):
    """`skeleton pytest` on the shop's tests under `--max-events 300`: each test gets a share."""
    out = tmp_path_factory.mktemp("capped-suite")
    snap = _skeleton("pytest", "--max-events", "300", "--", "examples/shop/tests", "-q", "-p", "no:cacheprovider",
                     "-p", "no:randomly", out=out)
    return snap, out / "report.html"


def _open(browser, path, width=1440, height=900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_selector(READY, state="attached", timeout=30_000)
    return page, errors


BOX = ("(sel) => { const r = document.querySelector(sel).getBoundingClientRect();"
       " return [r.left, r.top, r.right, r.bottom]; }")


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@pytest.mark.parametrize("size", [(1440, 900), (1024, 700)], ids=["1440x900", "1024x700"])
def test_header_says_recorded_of_counted_in_one_banner_line(capped_shop, browser, size):
    snap, path = capped_shop
    stats = snap["stats"]
    assert stats["recorded_events"] < stats["events"]  # the run went past its budgets
    page, errors = _open(browser, path, *size)
    try:
        figure = page.inner_text("[data-testid=recording-toggle]")
        assert figure == f"{stats['recorded_events']:,} recorded of {stats['events']:,}"
        assert page.locator("[data-testid=run-stats] .stat", has_text="dropped").count() == 0  # no sum of both kinds
        # one banner, one line, the cap and sampling gaps folded into one sentence
        banner = page.locator("[data-testid=run-warnings]")
        assert banner.count() == 1
        text = page.inner_text("[data-testid=gap-sentence]")
        assert text.startswith(f"⚠ Partly recorded: {stats['recorded_events']:,} of {stats['events']:,} events")
        line = page.evaluate("(s) => { const e = document.querySelector(s), cs = getComputedStyle(e);"
                             " return [e.getBoundingClientRect().height, parseFloat(cs.fontSize),"
                             " parseFloat(cs.lineHeight)]; }", "[data-testid=gap-sentence]")
        assert line[0] <= line[2] + 1 and line[1] >= 10  # a single line of readable text
        boxes = {s: page.evaluate(BOX, s) for s in ("[data-testid=run-warnings]", "[data-testid=run-stats]",
                                                     ".header-main", ".toolbar")}
        names = list(boxes)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                assert not _overlap(boxes[a], boxes[b]), (a, b, boxes)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"recording-banner-{size[0]}x{size[1]}.png"))
        # details: the Recording panel, per phase, with every gap's message
        page.click("[data-testid=gap-details]")
        panel = page.locator("[data-testid=recording-panel]")
        panel.wait_for()
        s = stats["sampling"]
        rows = {r.get_attribute("data-phase"): int(r.get_attribute("data-recorded"))
                for r in panel.locator("[data-testid=recording-phases] tr[data-phase]").all()}
        assert rows == {"imports": s["imports"]["recorded"], "work": s["work"]["recorded"],
                        "edges": s["edges"]["recorded"], "counted": 0}
        # the phases' counts are events the tracer appended; the trace keeps at most --max-events of them
        past = sum(rows.values()) - stats["recorded_events"]
        assert past >= 0
        assert (f"took {past:,} events past it" in page.inner_text("[data-testid=recording-cap]")) == (past > 0)
        gaps = panel.locator("[data-testid=recording-gaps] li").all_inner_texts()
        assert [g.split(" ", 1)[1] for g in gaps] == [g["message"] for g in stats["gaps"]]
        cap = page.inner_text("[data-testid=recording-cap]")
        assert f"{s['max_events']:,} events" in cap and "reached" in cap
        counted = s["counted"]["calls"]
        assert f"{stats['events'] - stats['recorded_events']:,} events, {counted:,} calls" in panel.inner_text()
        page.screenshot(path=str(ARTIFACTS / f"recording-panel-{size[0]}x{size[1]}.png"))
        page.keyboard.press("Escape")
        assert panel.count() == 0
    finally:
        page.context.close()
    assert errors == []


def test_recording_panel_counts_the_tests_with_recorded_steps(capped_suite, browser):
    snap, path = capped_suite
    tests = snap["scenarios"]
    with_steps = sum(1 for t in tests if t["first_event"] is not None)
    page, errors = _open(browser, path)
    try:
        page.click("[data-testid=recording-toggle]")
        row = page.locator("[data-testid=recording-phases] tr[data-phase=tests]")
        assert int(row.get_attribute("data-recorded")) == snap["stats"]["sampling"]["scenarios"]["recorded"]
        assert f"Tests ({len(tests)})" in row.inner_text()
        assert f"{with_steps} of {len(tests)} with recorded steps" in row.inner_text()
    finally:
        page.context.close()
    assert errors == []


def test_a_complete_run_has_no_banner_and_says_all_recorded(browser, tmp_path):
    snap = _skeleton("run", str(SHOP / "app.py"), out=tmp_path / "out")
    assert snap["stats"]["recorded_events"] == snap["stats"]["events"] and not snap["stats"]["gaps"]
    page, errors = _open(browser, tmp_path / "out" / "report.html")
    try:
        assert page.inner_text("[data-testid=recording-toggle]") == f"{snap['stats']['events']:,}, all recorded"
        assert page.locator("[data-testid=run-warnings]").count() == 0
        assert page.locator("[data-testid=rules-status]").count() == 0  # not checked: no rules status
    finally:
        page.context.close()
    assert errors == []


# -- the check's status and I/O violations in the matrix ------------------------------------------------------
@pytest.fixture(scope="module")
def checked_shop(tmp_path_factory):
    out = tmp_path_factory.mktemp("checked-shop")
    proc, snap = run_checked(SHOP / "app.py", SHOP / "skeleton-rules.toml", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return snap, out / "report.html"


def test_header_shows_the_checks_status(checked_shop, browser, tmp_path):
    snap, path = checked_shop
    page, errors = _open(browser, path)
    try:
        status = page.locator("[data-testid=rules-status]")
        assert status.get_attribute("data-state") == "violated"
        assert page.inner_text("[data-testid=violations-toggle]") == f"⚠ rules: {len(snap['violations'])} violations"
        page.click("[data-testid=violations-toggle]")
        assert page.locator("[data-testid=violations-list] li").count() == len(snap["violations"])
    finally:
        page.context.close()
    # a rule file the shop keeps: "rules: passed"
    rules = tmp_path / "rules.toml"
    rules.write_text('[[forbidden]]\nname = "the domain never calls the app"\ncallers = ["shop.domain"]\n'
                     'callees = ["examples.shop.app"]\n')
    proc, passed = run_checked(SHOP / "app.py", rules, tmp_path / "out")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert passed["violations"] == []
    page, errors2 = _open(browser, tmp_path / "out" / "report.html")
    try:
        status = page.locator("[data-testid=rules-status]")
        assert status.get_attribute("data-state") == "passed"
        assert status.inner_text() == "✓ rules: passed"
        assert page.locator("[data-testid=violations-toggle]").count() == 0
    finally:
        page.context.close()
    assert errors == errors2 == []


def test_io_violation_has_its_cell_in_the_matrix(checked_shop, browser):
    snap, path = checked_shop
    io = next(v for v in snap["violations"] if v["kind"] == "io")
    kind = io["target"].split(":")[1]  # io:<kind>:<target>
    actor = next(n for n in snap["nodes"] if n["id"] == io["source"])
    page, errors = _open(browser, path)
    try:
        page.click("[data-testid=tab-matrix]")
        matrix = page.locator("[data-testid=view-matrix]")
        kinds = matrix.get_attribute("data-io-kinds").split()
        assert kind in kinds and page.locator(f"[data-testid=matrix-io-{kind}]").count() == 1
        n = int(matrix.get_attribute("data-rows"))
        # the actor's module row (the matrix's unit of the actor: its nearest module)
        nodes = {x["id"]: x for x in snap["nodes"]}
        mod = actor
        while mod["kind"] != "module":
            mod = nodes[mod["parent"]]
        row = int(page.get_attribute(f"[data-testid='matrix-row-{mod['id']}']", "data-index"))
        box = page.locator("[data-testid=matrix-io-canvas]").bounding_box()  # pinned right of the modules
        assert box["x"] >= page.locator("[data-testid=matrix-canvas]").bounding_box()["x"] + n * 16 - 1
        x = box["x"] + 8 + kinds.index(kind) * 64 + 32
        y = box["y"] + row * 16 + 8
        page.mouse.move(x, y)
        hover = page.inner_text("[data-testid=matrix-hover]")
        assert f"→ I/O {kind}:" in hover and "1 rule violation" in hover
        # drawn red like a call violation: the frame's pixels
        red = page.evaluate("""([x, y]) => { const c = document.querySelector('[data-testid=matrix-io-canvas]');
          const r = c.getBoundingClientRect(), d = window.devicePixelRatio || 1;
          const px = Math.round((x - r.left) * d), py = Math.round((y - r.top - 7) * d);
          const p = c.getContext('2d').getImageData(px, py, 1, 1).data;
          return [p[0], p[1], p[2]]; }""", [x, y])
        assert red[0] > 180 and red[1] < 90 and red[2] < 90, red
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "matrix-io-violation.png"))
        page.mouse.click(x, y)
        page.wait_for_selector(f"[data-testid=inspector-edge][data-edge-id='{io['source']}->{io['target']}']")
        assert io["rule"] in page.inner_text("[data-testid=inspector-violations]")
    finally:
        page.context.close()
    assert errors == []
