"""End-to-end checks of report.html in headless Chromium, from file://."""
from __future__ import annotations

import copy
import json

import pytest

from conftest import ARTIFACTS, write
from helpers import NEVER, effective_reveal, summary_text

SMALL = 40  # the UI lays out every node when the run has at most this many callables (BIG_GRAPH_CALLABLES)
CALLABLE = {"function", "method", "scenario"}


def revealed_ids(page) -> set[str]:
    return set(page.eval_on_selector_all(
        "[data-testid^='node-'][data-revealed='true']", "els => els.map(e => e.dataset.testid.slice(5))"))


def position(page) -> int:
    return int(page.get_attribute("[data-testid=replay-position]", "data-pos"))


def select_via_search(page, node: dict) -> None:
    page.keyboard.press("/")
    page.fill("[data-testid=search-input]", node["qualified_name"])
    page.locator(f"[data-testid='search-result-{node['id']}']").click()


def test_map_shows_modules_instances_methods(snapshot, report_path, open_report):
    o = open_report(report_path)
    kinds = visible_kinds(snapshot)
    expected = [n["id"] for n in snapshot["nodes"] if n["kind"] in kinds]
    for nid in expected:
        assert o.page.locator(f"[data-testid='node-{nid}']").count() == 1, nid
    # at the end of the replay everything seen is revealed
    seen = {nid for nid, r in effective_reveal(snapshot).items() if r != NEVER}
    assert seen & set(expected) <= revealed_ids(o.page)


def visible_kinds(snapshot: dict) -> set[str]:
    """Big runs open with modules collapsed: only shells and the scenario are on the map."""
    callables = sum(1 for n in snapshot["nodes"] if n["kind"] in CALLABLE)
    return {"module", "package", "scenario"} | ({"instance", "class", "method", "function"} if callables <= SMALL else set())


def test_replay_reveals_nodes_step_by_step(snapshot, report_path, open_report):
    o = open_report(report_path)
    page = o.page
    kinds = visible_kinds(snapshot)
    reveal = {nid: r for nid, r in effective_reveal(snapshot).items()
              if next(n for n in snapshot["nodes"] if n["id"] == nid)["kind"] in kinds}
    page.locator("[data-testid=replay-start]").click()
    assert position(page) == 0
    assert revealed_ids(page) == set()
    steps = min(snapshot["steps"]["count"], 30)
    before = set()
    for k in range(1, steps + 1):
        page.locator("[data-testid=replay-forward]").click()
        page.wait_for_function(f"() => document.querySelector('[data-testid=replay-position]').dataset.pos == '{k}'")
        now = revealed_ids(page)
        assert now - before == {nid for nid, r in reveal.items() if r == k - 1}, f"step {k}"
        assert now == {nid for nid, r in reveal.items() if r < k}
        before = now
    for k in range(steps - 1, max(0, steps - 6), -1):
        page.locator("[data-testid=replay-back]").click()
        page.wait_for_function(f"() => document.querySelector('[data-testid=replay-position]').dataset.pos == '{k}'")
        assert revealed_ids(page) == {nid for nid, r in reveal.items() if r < k}, f"back to {k}"
    page.keyboard.press("Home")
    assert revealed_ids(page) == set()


def test_search_selects_and_focuses_a_node(snapshot, report_path, open_report):
    o = open_report(report_path)
    target = next(n for n in snapshot["nodes"] if n["kind"] == "method" and n["first_seen"] is not None)
    select_via_search(o.page, target)
    o.page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{target['id']}']")
    assert o.page.inner_text("[data-testid=inspector-qualified-name]") == target["qualified_name"]
    assert "selected" in o.page.get_attribute(f"[data-testid='node-{target['id']}']", "class")
    sel = o.page.evaluate("window.SkeletonReplay.selection")
    assert sel["node_id"] == target["id"] and sel["line"] == target["line"]
    assert sel["file"].endswith(target["file"]) and sel["file"].startswith(snapshot["run"]["project_root"])


def test_inspector_shows_summaries(snapshot, report_path, open_report):
    o = open_report(report_path)
    candidates = []
    for n in snapshot["nodes"]:
        for ex in n.get("examples", []):
            for v in list(ex.get("args", {}).values()) + ([ex["return_value"]] if "return_value" in ex else []):
                t = summary_text(v)
                if t:
                    candidates.append((n, t))
    if not candidates:
        pytest.skip("no redacted or object summaries in this snapshot")
    node, text = candidates[0]
    select_via_search(o.page, node)
    box = o.page.locator("[data-testid=inspector-examples]")
    box.wait_for()
    assert text in box.inner_text()
    assert o.page.locator("[data-testid=inspector-example]").count() == len(node["examples"])


def test_sequence_view_shows_calls_of_the_window(snapshot, report_path, open_report):
    o = open_report(report_path)
    page = o.page
    page.keyboard.press("Home")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.locator("[data-testid=tab-sequence]").click()
    page.wait_for_selector("[data-testid=view-sequence]")
    assert page.locator("[data-testid='seq-msg-5']").count() == 1
    calls = page.locator("[data-testid^='seq-msg-'][data-kind=call]")
    assert calls.count() >= 1
    first_call_node = snapshot["nodes"][_first_call_node(snapshot)]
    assert first_call_node["label"] in page.inner_text("[data-testid=view-sequence]")


def _first_call_node(snapshot) -> int:
    import base64, zlib, array
    col = snapshot["steps"]["columns"]["node"]
    a = array.array({"u8": "B", "u16": "H", "u32": "I", "i32": "i"}[col["dtype"]])
    a.frombytes(zlib.decompress(base64.b64decode(col["data"])))
    return a[0]


def test_deep_link_restores_state(snapshot, report_path, open_report):
    target = next(n for n in snapshot["nodes"] if n["kind"] == "function")
    pos = min(5, snapshot["steps"]["count"])
    o = open_report(report_path, hash=f"#view=events&pos={pos}&node={target['id']}", wait_map=False)
    page = o.page
    page.wait_for_selector("[data-testid=view-events]")
    assert page.get_attribute("[data-testid=tab-events]", "aria-selected") == "true"
    assert position(page) == pos
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{target['id']}']")
    # the hash follows the state
    page.locator("[data-testid=tab-map]").click()
    page.wait_for_function("() => location.hash.includes('view=map')")


def test_events_view_syncs_with_replay(snapshot, report_path, open_report):
    o = open_report(report_path)
    page = o.page
    page.keyboard.press("Home")
    page.locator("[data-testid=tab-events]").click()
    page.locator("[data-testid='event-row-3']").click()
    assert position(page) == 4
    page.wait_for_selector("[data-testid=inspector-event][data-event='3']")
    assert page.locator("[data-testid=inspector-caller-chain] li").count() >= 2


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(snapshot, report_path, open_report, scheme):
    ARTIFACTS.mkdir(exist_ok=True)
    o = open_report(report_path, color_scheme=scheme)
    page = o.page
    name = report_path.stem if report_path.stem != "report" else report_path.parent.name.rstrip("0123456789")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}-map-{scheme}.png"))
    page.keyboard.press("Home")
    for _ in range(min(12, snapshot["steps"]["count"])):
        page.keyboard.press("ArrowRight")
    page.screenshot(path=str(ARTIFACTS / f"{name}-map-step-{scheme}.png"))
    for view in ("sequence", "events"):
        page.locator(f"[data-testid=tab-{view}]").click()
        page.wait_for_selector(f"[data-testid=view-{view}]")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{view}-{scheme}.png"))


HOSTILE = [
    "</script><script>window.__pwned=1</script>",
    "<!--<script>",
    "<img src=x onerror=window.__pwned=1>",
    "line\u2028sep\u2029para",
    "\u202eevil\u202c",
    "🦴 emoji",
]


def test_hostile_snapshot_renders_as_text(snapshot, tmp_path, open_report):
    snap = copy.deepcopy(snapshot)
    snap["run"]["app_name"] = HOSTILE[0]
    snap["run"]["command"] = HOSTILE
    for k, n in enumerate(snap["nodes"]):
        if n["kind"] in ("method", "function"):
            h = HOSTILE[k % len(HOSTILE)]
            n["label"] = f"{h}()"
            n["qualified_name"] = f"{n['qualified_name']}{h}"
            for ex in n.get("examples", []):
                ex["args"] = {h: {"type": "str", "value": h}}
    snap["stats"]["gaps"].append({"kind": "other", "message": HOSTILE[2], "count": 1, "at_event": None})
    path = write(snap, tmp_path / "hostile.html")
    o = open_report(path)
    page = o.page
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img").count() == 0
    assert page.inner_text("[data-testid=app-name]") == HOSTILE[0]
    assert HOSTILE[2] in page.inner_text("[data-testid=run-warnings]")
    fn = next(n for n in snap["nodes"] if n["kind"] in ("method", "function") and n.get("examples"))
    select_via_search(page, fn)
    page.wait_for_selector("[data-testid=inspector-examples]")
    assert page.inner_text("[data-testid=inspector-label]") == fn["label"]
    page.locator("[data-testid=tab-events]").click()
    page.locator("[data-testid=tab-sequence]").click()
    assert page.evaluate("window.__pwned") is None
    embedded = json.loads(page.eval_on_selector("#skeleton-snapshot", "e => e.textContent"))
    assert embedded["run"]["app_name"] == HOSTILE[0]
