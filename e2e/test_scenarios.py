"""Tests of pytest runs in report.html: the test picker, evidence on the map, the replay kept to the
selected tests' steps, "exercised by", harness styling, deep links, and the selection bridge.

Expectations are computed from the snapshot itself (scenarios, nodes[].scenarios, edges[].scenarios).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import SKELETON_CMD
from conftest import ARTIFACTS, ROOT, write
from test_report import position, select_via_search

PYTEST_SAMPLE = ROOT / "report-ui" / "samples" / "example-pytest.json"
BAD = {"failed", "error", "xpassed", "interrupted"}


@pytest.fixture(scope="module", params=["run", "sample"], ids=["run-shop-tests", "sample"])
def pytest_case(request, tmp_path_factory):
    """(snapshot, report path): `skeleton pytest` on examples/shop/tests, and the synthetic sample."""
    if request.param == "sample":
        snap = json.loads(PYTEST_SAMPLE.read_text("utf-8"))
        return snap, write(snap, tmp_path_factory.mktemp("pytest-report") / "pytest-sample.html")
    out = tmp_path_factory.mktemp("run-pytest")
    proc = subprocess.run([*SKELETON_CMD, "pytest", "--no-open", "--out-dir", str(out), "--",
                           "examples/shop/tests", "-q", "-p", "no:cacheprovider"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "CI": "1"}, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # test_known_failure.py fails on purpose
    snap = json.loads((out / "snapshot.json").read_text("utf-8"))
    outcomes = sorted(s["outcome"] for s in snap["scenarios"])
    assert outcomes == sorted(["passed"] * 7 + ["failed", "skipped", "xfailed"]), outcomes
    return snap, out / "report.html"


def test_real_run_outcomes_match_pytest(pytest_case, open_report):
    """The shop's suite: 7 passed, 1 failed (on purpose), 1 skipped, 1 xfailed, as pytest reports them."""
    snap, path = pytest_case
    if path.name != "report.html":
        pytest.skip("only for the real run (the synthetic sample has other tests)")
    page = open_report(path).page
    expected = {"passed": 7, "failed": 1, "skipped": 1, "xfailed": 1}
    for outcome, n in expected.items():
        assert page.inner_text(f"[data-testid=outcome-count-{outcome}] strong") == str(n)
    failed = next(s for s in snap["scenarios"] if s["outcome"] == "failed")
    assert failed["name"] == "tests/test_known_failure.py::test_bulk_discount_on_nine_units"
    assert page.get_attribute(f"[data-testid='scenario-{failed['id']}']", "data-outcome") == "failed"
    assert "BULK15 should apply to 9 units" in page.get_attribute(f"[data-testid='scenario-message-{failed['id']}']", "title")
    skipped = next(s for s in snap["scenarios"] if s["outcome"] == "skipped")
    assert "no steps" in page.inner_text(f"[data-testid='scenario-{skipped['id']}']")
    # the tests' own modules are harness
    for mod in ("mod:conftest", "mod:test_checkout", "mod:test_known_failure"):
        assert page.get_attribute(f"[data-testid='node-{mod}']", "data-harness") == "true", mod


def unions(snapshot: dict) -> dict[str, set[int]]:
    """Scenario ids per node: its own, plus (containers) those of every node inside it."""
    own = {n["id"]: set(n.get("scenarios") or []) for n in snapshot["nodes"]}
    for b in snapshot.get("boundaries") or []:  # I/O boundaries: boxes lit by the tests that used them
        own[b["id"]] = {sid for u in b["uses"] for sid in u["scenarios"]}
    parent = {n["id"]: n["parent"] for n in snapshot["nodes"]}
    out = {nid: set(s) for nid, s in own.items()}
    for nid, ids in own.items():
        p, hops = parent.get(nid), 0
        while p is not None and p in out and hops < 64:
            out[p] |= ids
            p, hops = parent.get(p), hops + 1
    return out


def lit_ids(page) -> set[str]:
    return set(page.eval_on_selector_all("[data-testid^='node-'][data-lit='true']", "els => els.map(e => e.dataset.testid.slice(5))"))


def shown_node_ids(page) -> set[str]:
    return set(page.eval_on_selector_all("[data-testid^='node-']", "els => els.map(e => e.dataset.testid.slice(5))"))


def pick(page, sid: int, modifier: str | None = None) -> None:
    row = page.locator(f"[data-testid='scenario-{sid}']")
    if row.count() == 0:  # the list is virtualised: filter it down to this test
        page.fill("[data-testid=scenario-filter]", _names[sid])
    page.locator(f"[data-testid='scenario-{sid}']").click(modifiers=[modifier] if modifier else None)


_names: dict[int, str] = {}


@pytest.fixture(autouse=True)
def _remember_names(request):
    if "pytest_case" in request.fixturenames:
        snap = request.getfixturevalue("pytest_case")[0]
        _names.update({s["id"]: s["name"] for s in snap["scenarios"]})


def wait_pos(page, pos: int) -> None:
    page.wait_for_function(f"() => document.querySelector('[data-testid=replay-position]').dataset.pos == '{pos}'")


def test_picker_lists_tests_with_outcomes(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    scenarios = snap["scenarios"]
    assert page.inner_text("[data-testid=scenario-total]") == str(len(scenarios))
    counts: dict[str, int] = {}
    for s in scenarios:
        counts[s["outcome"] or "unknown"] = counts.get(s["outcome"] or "unknown", 0) + 1
    for outcome, n in counts.items():
        assert page.inner_text(f"[data-testid=outcome-count-{outcome}] strong") == str(n)
    rows = page.eval_on_selector_all("[data-testid^='scenario-'][role=option]",
                                     "els => els.map(e => [e.dataset.name, e.dataset.outcome])")
    assert rows, "no test rows"
    expected = {s["name"]: s["outcome"] or "unknown" for s in scenarios}
    for name, outcome in rows:
        assert expected[name] == outcome
    # outcome chips and the text filter narrow the list
    failed = [s for s in scenarios if s["outcome"] == "failed"]
    page.locator("[data-testid=outcome-count-failed]").click()
    names = page.eval_on_selector_all("[role=option]", "els => els.map(e => e.dataset.name)")
    assert names == [s["name"] for s in failed]
    for s in failed:
        msg = page.locator(f"[data-testid='scenario-message-{s['id']}']")
        assert msg.get_attribute("title") == s["message"]
    page.locator("[data-testid=outcome-count-failed]").click()
    word = scenarios[1]["name"].split("::")[-1].split("[")[0]
    page.fill("[data-testid=scenario-filter]", word)
    names = page.eval_on_selector_all("[role=option]", "els => els.map(e => e.dataset.name)")
    assert names == [s["name"] for s in scenarios if word in s["name"] or word in (s["message"] or "")]


def test_selecting_a_test_dims_the_rest_and_keeps_the_replay_in_its_steps(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    u = unions(snap)
    s = next(x for x in snap["scenarios"] if x["outcome"] == "passed" and x["first_event"] is not None and x["first_event"] > 0)
    pick(page, s["id"])
    first, last = s["first_event"], s["last_event"]
    wait_pos(page, last + 1)  # the replay jumps to the end of the test's steps
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == "1"
    assert s["name"].split("::")[-1] in page.inner_text("[data-testid=selected-tests]")
    assert page.get_attribute("[data-testid=scrubber]", "data-ranges") == f"{first}-{last}"
    assert page.inner_text("[data-testid=replay-selection-step]").strip("· ").startswith(f"{last - first + 1} / {last - first + 1}")
    on_map = shown_node_ids(page)
    lit = lit_ids(page)
    kinds = {n["id"]: n["kind"] for n in snap["nodes"]}
    expected = {nid for nid in on_map if s["id"] in u[nid] or kinds.get(nid) == "scenario"}
    assert lit == expected
    assert on_map - expected, "nothing dimmed"
    for nid in on_map - expected:
        assert "dimmed" in page.get_attribute(f"[data-testid='node-{nid}']", "class")
    # the replay cannot leave the test's steps
    page.locator("[data-testid=replay-forward]").click()
    wait_pos(page, last + 1)
    page.keyboard.press("Home")
    wait_pos(page, first + 1)
    page.locator("[data-testid=replay-back]").click()
    wait_pos(page, first + 1)
    page.locator("[data-testid=replay-forward]").click()
    wait_pos(page, first + 2)
    # a click on the scrubber far outside the test lands on its nearest step
    box = page.locator("[data-testid=scrubber]").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    wait_pos(page, last + 1)
    # the events view lists only its events
    page.locator("[data-testid=tab-events]").click()
    assert page.inner_text("[data-testid=events-count]").startswith(f"{last - first + 1} of")
    # clearing shows the whole run again
    page.locator("[data-testid=selected-tests-clear]").click()
    page.wait_for_function("() => !document.querySelector('[data-testid=scrubber]').dataset.ranges")
    page.keyboard.press("Home")
    wait_pos(page, 0)


def test_several_tests_step_across_the_gap(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    ran = [x for x in snap["scenarios"] if x["first_event"] is not None]
    a, b = ran[1], ran[3]  # not adjacent: ran[2] lies between them
    pick(page, a["id"])
    pick(page, b["id"], "Control")
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == "2"
    assert page.get_attribute("[data-testid=scrubber]", "data-ranges") == f"{a['first_event']}-{a['last_event']},{b['first_event']}-{b['last_event']}"
    page.keyboard.press("Home")
    wait_pos(page, a["first_event"] + 1)
    for _ in range(a["last_event"] - a["first_event"]):
        page.keyboard.press("ArrowRight")
    wait_pos(page, a["last_event"] + 1)
    page.keyboard.press("ArrowRight")  # skips the test in between
    wait_pos(page, b["first_event"] + 1)
    page.keyboard.press("ArrowLeft")
    wait_pos(page, a["last_event"] + 1)
    # shift-click selects the run from the anchor
    pick(page, ran[0]["id"])
    pick(page, ran[2]["id"], "Shift")
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == "3"
    page.locator("[data-testid=scenario-select-all]").click()
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == str(len(snap["scenarios"]))
    page.locator("[data-testid=scenario-select-failed]").click()
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == str(sum(1 for x in snap["scenarios"] if x["outcome"] in BAD))


def test_exercised_by_lists_the_tests_of_a_node(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    u = unions(snap)
    by_id = {s["id"]: s for s in snap["scenarios"]}
    node = max((n for n in snap["nodes"] if n["kind"] in ("method", "function") and n.get("role") != "harness"),
               key=lambda n: (len(n.get("scenarios") or []), n["id"]))
    select_via_search(page, node)
    box = page.locator("[data-testid=exercised-by]")
    box.wait_for()
    ids = sorted(u[node["id"]])
    assert box.get_attribute("data-count") == str(len(ids))
    listed = page.eval_on_selector_all("[data-testid^='exercised-']:not([data-testid=exercised-by]):not([data-testid=exercised-more])",
                                       "els => els.map(e => Number(e.dataset.testid.split('-')[1]))")
    assert listed == ids[:12]
    # a click selects that test
    target = by_id[ids[-1] if len(ids) <= 12 else ids[0]]
    page.locator(f"[data-testid='exercised-{target['id']}']").click()
    page.wait_for_function(f"() => location.hash.includes('scenario={target['id']}')")
    assert page.get_attribute(f"[data-testid='scenario-{target['id']}']", "aria-selected") == "true"
    # a module's list is the union over everything inside it
    mod = next(n for n in snap["nodes"] if n["id"] == "mod:" + node["module"])
    page.locator("[data-testid=picker-close]").click()
    select_via_search(page, mod)
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{mod['id']}']")
    assert page.get_attribute("[data-testid=exercised-by]", "data-count") == str(len(u[mod["id"]]))


def test_exercised_by_lists_the_tests_of_a_call_edge(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    edges = page.eval_on_selector_all("[data-testid^='edge-'][data-revealed='true']", "els => els.map(e => e.dataset.testid.slice(5))")
    assert edges
    # an edge between collapsed modules stands for several call edges: the list is their union
    by_id = {e["id"]: e for e in snap["edges"]}
    single = [e for e in edges if e in by_id]
    target = single[0] if single else edges[0]
    page.locator(f"[data-testid='edge-{target}'] .ce-path").dispatch_event("click")
    box = page.locator("[data-testid=inspector-edge]")
    box.wait_for()
    count = int(page.get_attribute("[data-testid=exercised-by]", "data-count"))
    if target in by_id:
        assert count == len(set(by_id[target].get("scenarios") or []))
        assert box.get_attribute("data-edge-id") == target
    else:
        assert count >= 1
    page.keyboard.press("Escape")
    assert page.locator("[data-testid=inspector-edge]").count() == 0


def test_arrow_keys_walk_the_test_list(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    ids = [s["id"] for s in snap["scenarios"]]
    pick(page, ids[0])
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"() => location.hash.includes('scenario={ids[1]}') || document.querySelector('[data-testid=scenario-{ids[1]}]').getAttribute('aria-selected') === 'true'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Shift+ArrowDown")
    page.wait_for_function("() => document.querySelector('[data-testid=selected-tests]').dataset.count === '2'")
    sel = page.eval_on_selector_all("[role=option][aria-selected=true]", "els => els.map(e => Number(e.dataset.sid))")
    assert sel == ids[2:4]
    # space on a test selects it and does not start the replay
    page.keyboard.press("ArrowUp")
    page.keyboard.press(" ")
    assert page.get_attribute("[data-testid=replay-play]", "aria-label").startswith("play")


def test_failed_test_message_and_exception_step(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    s = next(x for x in snap["scenarios"] if x["outcome"] == "failed")
    pick(page, s["id"])
    link = page.locator(f"[data-testid='scenario-exception-{s['id']}']")
    link.click()
    ev = int(page.get_attribute("[data-testid=inspector-event]", "data-event"))
    assert s["first_event"] <= ev <= s["last_event"]
    assert position(page) == ev + 1
    assert page.inner_text("[data-testid=inspector-event] .ev-kind").lower() == "exception"
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == "1"


def test_harness_nodes_are_styled_and_can_be_hidden(pytest_case, open_report):
    snap, path = pytest_case
    page = open_report(path).page
    harness = [n for n in snap["nodes"] if n.get("role") == "harness"]
    assert harness
    on_map = shown_node_ids(page)
    shown = [n for n in harness if n["id"] in on_map]
    assert shown
    for n in shown:
        el = page.locator(f"[data-testid='node-{n['id']}']")
        assert el.get_attribute("data-harness") == "true"
        assert el.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
        assert el.locator(".mn-test").count() == 1
    sut = next(n for n in snap["nodes"] if n["kind"] == "module" and n.get("role") != "harness" and n["id"] in on_map)
    assert page.locator(f"[data-testid='node-{sut['id']}']").get_attribute("data-harness") is None
    assert page.locator("[data-testid=legend-harness]").count() == 1
    page.locator("[data-testid=filters-toggle]").click()
    page.locator("[data-testid=filter-hide-harness]").check()
    for n in shown:
        assert "filtered" in page.get_attribute(f"[data-testid='node-{n['id']}']", "class")
    assert "filtered" not in page.get_attribute(f"[data-testid='node-{sut['id']}']", "class")


def test_deep_link_restores_the_selection(pytest_case, open_report):
    snap, path = pytest_case
    ran = [x for x in snap["scenarios"] if x["first_event"] is not None]
    a, b = ran[2], ran[4]
    o = open_report(path, hash=f"#scenario={b['id']},{a['id']}")
    page = o.page
    assert page.get_attribute("[data-testid=selected-tests]", "data-count") == "2"
    assert position(page) == b["last_event"] + 1
    for s in (a, b):
        assert page.get_attribute(f"[data-testid='scenario-{s['id']}']", "aria-selected") == "true"
    page.wait_for_function(f"() => location.hash.includes('scenario={a['id']},{b['id']}')")
    # with a position, and an unknown id ignored
    o2 = open_report(path, hash=f"#scenario={a['id']},9999&pos={a['first_event'] + 2}")
    assert o2.page.get_attribute("[data-testid=selected-tests]", "data-count") == "1"
    assert position(o2.page) == a["first_event"] + 2
    # the list scrolls to a linked test at its end
    last = snap["scenarios"][-1]
    page3 = open_report(path, hash=f"#scenario={last['id']}").page
    row = page3.locator(f"[data-testid='scenario-{last['id']}']")
    row.wait_for()
    lb, rb = page3.locator("[data-testid=scenario-list]").bounding_box(), row.bounding_box()
    assert lb["y"] - 1 <= rb["y"] and rb["y"] + rb["height"] <= lb["y"] + lb["height"] + 1


def test_script_runs_have_no_test_panel(report_case, open_report):
    snap, path = report_case
    if snap.get("scenarios"):
        pytest.skip("a pytest run")
    page = open_report(path).page
    assert page.locator("[data-testid=scenario-picker]").count() == 0
    assert page.locator("[data-testid=picker-toggle]").count() == 0
    assert page.locator("[data-testid=selected-tests]").count() == 0
    assert page.locator("[data-lit=false]").count() == 0
    assert page.locator("[data-testid=legend-harness]").count() == 0


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_tests(pytest_case, open_report, scheme):
    snap, path = pytest_case
    ARTIFACTS.mkdir(exist_ok=True)
    page = open_report(path, color_scheme=scheme).page
    page.wait_for_timeout(300)
    tag = "sample" if path.name.startswith("pytest-sample") else "run"
    page.screenshot(path=str(ARTIFACTS / f"pytest-{tag}-picker-{scheme}.png"))
    s = next(x for x in snap["scenarios"] if x["outcome"] == "failed")
    pick(page, s["id"])
    u = unions(snap)
    mods = [n for n in snap["nodes"] if n["kind"] == "module" and s["id"] in u[n["id"]] and n.get("role") != "harness"]
    raising = [n for n in snap["nodes"] if (n.get("raised") or 0) > 0 and s["id"] in u[n["id"]] and n.get("role") != "harness"]
    node = next((m for m in mods if raising and m["id"] == "mod:" + raising[0]["module"]), None) or max(mods, key=lambda m: len(u[m["id"]]))
    page.locator(f"[data-testid='node-{node['id']}']").click()
    page.wait_for_selector("[data-testid=view-map][data-layout=ready]")
    page.keyboard.press("f")
    page.wait_for_timeout(700)
    page.screenshot(path=str(ARTIFACTS / f"pytest-{tag}-selected-{scheme}.png"))


# --- the selection bridge -------------------------------------------------------------------------

EMBED = """<!doctype html><html><head><meta charset="utf-8"><title>embed</title></head><body>
<script>window.msgs = []; addEventListener('message', (e) => {
  if (e.data && e.data.type === 'skeleton-selection') window.msgs.push(e.data); });</script>
<iframe id="report" src="REPORT" style="width: 1400px; height: 860px; border: 0"></iframe></body></html>"""


def _payload_for(snapshot: dict, node_index: int) -> dict:
    n = snapshot["nodes"][node_index]
    root = snapshot["run"]["project_root"].rstrip("/")
    return {"node_id": n["id"], "qualified_name": n["qualified_name"], "line": n["line"],
            "file": None if not n["file"] else (n["file"] if n["file"].startswith("/") else f"{root}/{n['file']}")}


def _node_column(snapshot: dict):
    import array, base64, zlib
    col = snapshot["steps"]["columns"]["node"]
    a = array.array({"u8": "B", "u16": "H", "u32": "I", "i32": "i"}[col["dtype"]])
    a.frombytes(zlib.decompress(base64.b64decode(col["data"])))
    return a


def test_selection_bridge_follows_the_replay_in_an_embedding_page(pytest_case, browser, tmp_path):
    snap, path = pytest_case
    page_path = tmp_path / "embed.html"
    # file:// pages have no origin to target: opt in to any parent, with absolute paths (docs/report.md)
    src = Path(path).resolve().as_uri() + "?bridge=*&bridge-paths=absolute"
    page_path.write_text(EMBED.replace("REPORT", src), "utf-8")
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    errors, external = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else external.append(r.url))
    try:
        page.goto(page_path.as_uri())
        frame = page.frame_locator("#report")
        frame.locator("[data-testid=replay-play]:not([disabled])").wait_for(timeout=30_000)
        nodes = _node_column(snap)
        frame.locator("[data-testid=replay-start]").click()
        for k in range(1, 6):
            frame.locator("[data-testid=replay-forward]").click()
            page.wait_for_function(f"() => window.msgs.length && window.msgs[window.msgs.length - 1].pos === {k}")
            last = page.evaluate("window.msgs[window.msgs.length - 1]")
            assert last["source"] == "replay" and last["event"] == k - 1
            for key, value in _payload_for(snap, nodes[k - 1]).items():
                assert last[key] == value, (k, key)
        # the same payload sits on the report's window
        inner = page.frames[1].evaluate("window.SkeletonReplay.selection")
        assert inner["event"] == 4 and inner["pos"] == 5
        # selecting a test adds it to the payload
        s = next(x for x in snap["scenarios"] if x["outcome"] == "failed")
        frame.locator(f"[data-testid='scenario-{s['id']}']").click()
        page.wait_for_function(f"() => window.msgs[window.msgs.length - 1].scenarios.length === 1")
        last = page.evaluate("window.msgs[window.msgs.length - 1]")
        assert last["scenarios"] == [{"id": s["id"], "name": s["name"], "outcome": "failed"}]
        assert last["event"] == s["last_event"]
        # a click on a node is a selection
        frame.locator("[data-testid=picker-close]").click()
        mod = next(n for n in snap["nodes"] if n["kind"] == "module")
        frame.locator(f"[data-testid='node-{mod['id']}']").click()
        page.wait_for_function(f"() => window.msgs[window.msgs.length - 1].node_id === {json.dumps(mod['id'])}")
        last = page.evaluate("window.msgs[window.msgs.length - 1]")
        assert last["source"] == "selection" and last["event"] is None
    finally:
        ctx.close()
    assert errors == [], errors
    assert external == [], external
