"""End-to-end checks of report.html in headless Chromium, from file://."""
from __future__ import annotations

import copy
import json
import re

import pytest

from conftest import ARTIFACTS, ROOT, write
from helpers import NEVER, effective_reveal, run_checked, summary_text

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
    kind_of = {n["id"]: n["kind"] for n in snapshot["nodes"]} | {b["id"]: "boundary" for b in snapshot.get("boundaries") or []}
    reveal = {nid: r for nid, r in effective_reveal(snapshot).items() if kind_of[nid] in kinds | {"boundary"}}
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


def test_io_boundaries_sit_on_the_right_edge_of_the_map(snapshot, report_path, open_report):
    """Where the program touched the outside world (snapshot `boundaries`): a box per boundary right of
    every other box, an edge from each callable that did the I/O, and the callers in its focus."""
    boundaries = snapshot.get("boundaries") or []
    if not boundaries:
        pytest.skip("this run did no I/O")
    page = open_report(report_path).page
    page.wait_for_timeout(300)
    boxes = page.eval_on_selector_all(
        ".react-flow__node [data-testid^='node-']",
        "els => els.map(e => [e.dataset.testid.slice(5), e.dataset.kind, e.getBoundingClientRect().left, e.getBoundingClientRect().right])")
    io = {i: left for i, kind, left, _ in boxes if kind.startswith("k-boundary")}
    assert set(io) == {b["id"] for b in boundaries}
    assert_io_right_and_readable(page, "the first view")
    if report_path.parent.name.startswith("run-"):  # `skeleton run` on examples/ (a pytest run opens on its overview)
        assert_io_in_view(page, "the first view")
    assert page.locator("[data-testid=legend-boundary]").count() == 1
    # an edge into a boundary for each of its callers' boxes; focus on the busiest boundary lists its users
    b = max(boundaries, key=lambda b: (len(b["uses"]), b["id"]))
    assert page.locator(f"[data-testid$='->{b['id']}']").count() >= 1
    # the click itself: the box may sit under the minimap in the map's corner
    page.locator(f"[data-testid='node-{b['id']}']").dispatch_event("click")
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{b['id']}']")
    callers = page.locator("[data-testid=inspector-callers] li")
    assert callers.count() == len({u["actor"] for u in b["uses"]})
    if sum(n["kind"] in ("function", "method") for n in snapshot["nodes"]) > SMALL:
        # big runs: the focus view of a callable that did I/O keeps its boundaries in a last column
        actor = next(n for n in snapshot["nodes"] if n["id"] == b["uses"][0]["actor"])
        page.keyboard.press("Escape")
        select_via_search(page, actor)
        page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{actor['id']}']")
        page.wait_for_timeout(400)
        assert_io_right_and_readable(page, f"the focus view of {actor['id']}")
        if report_path.parent.name.startswith("run-"):  # a pytest run's map is narrower (its Tests sidebar)
            assert_io_in_view(page, f"the focus view of {actor['id']}")


IO_BOXES_JS = """els => els.map(e => {
  const r = e.getBoundingClientRect();
  const parts = [...e.querySelectorAll('.mn-kind, .mn-title, .mn-sub')].map(c => {
    const q = c.getBoundingClientRect();
    return {cls: c.className, top: q.top, bottom: q.bottom, left: q.left, right: q.right, sh: c.scrollHeight,
            ch: c.clientHeight, sw: c.scrollWidth, cw: c.clientWidth,
            px: parseFloat(getComputedStyle(c).fontSize) * q.height / Math.max(1, c.offsetHeight)};
  });
  return {id: e.dataset.testid.slice(5), io: e.dataset.kind.startsWith('k-boundary'), left: r.left, right: r.right,
          top: r.top, bottom: r.bottom, parts};
})"""


def assert_io_right_and_readable(page, where: str) -> None:
    """Every I/O boundary box on the map sits right of every other box, and shows its kind, its whole label
    and its operations line inside the box (nothing clipped) at 10 px or more on screen."""
    boxes = page.eval_on_selector_all(".react-flow__node [data-testid^='node-']", IO_BOXES_JS)
    io = [b for b in boxes if b["io"]]
    assert io, f"{where}: no boundary box"
    others = [b["right"] for b in boxes if not b["io"]]
    assert min(b["left"] for b in io) > max(others), f"{where}: boundaries right of every other box"
    for b in io:
        assert len(b["parts"]) == 3, f"{where}: {b['id']} kind, label and operations"
        for p in b["parts"]:
            what = f"{where}: {b['id']} .{p['cls']}"
            assert p["sh"] <= p["ch"] and p["ch"] > 0, f"{what} clipped vertically ({p['sh']} > {p['ch']})"
            assert b["top"] - 0.5 <= p["top"] and p["bottom"] <= b["bottom"] + 0.5, f"{what} outside its box"
            assert b["left"] - 0.5 <= p["left"] and p["right"] <= b["right"] + 0.5, f"{what} outside its box"
        title = next(p for p in b["parts"] if "mn-title" in p["cls"])
        assert title["sw"] <= title["cw"], f"{where}: {b['id']} label cut ({title['sw']} > {title['cw']})"
        assert title["px"] >= 10, f"{where}: {b['id']} label {title['px']:.1f} px on screen"


def assert_io_in_view(page, where: str) -> None:
    """Every I/O boundary box lies whole inside the visible map area (not cut by its edge nor under the
    inspector beside it): the fit shows the whole small map, I/O column included, without panning."""
    area = page.eval_on_selector("[data-testid=view-map] .react-flow", "e => e.getBoundingClientRect().toJSON()")
    boxes = page.eval_on_selector_all(".react-flow__node [data-testid^='node-']", IO_BOXES_JS)
    for b in (b for b in boxes if b["io"]):
        inside = (area["left"] <= b["left"] and b["right"] <= area["right"]
                  and area["top"] <= b["top"] and b["bottom"] <= area["bottom"])
        assert inside, (f"{where}: {b['id']} at x {b['left']:.0f}..{b['right']:.0f}, y {b['top']:.0f}..{b['bottom']:.0f}"
                        f" is not inside the map area x {area['left']:.0f}..{area['right']:.0f},"
                        f" y {area['top']:.0f}..{area['bottom']:.0f}")


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
    page.click("[data-testid=gap-details]")  # the banner says one sentence; every gap is in the Recording panel
    assert HOSTILE[2] in page.inner_text("[data-testid=recording-gaps]")
    page.keyboard.press("Escape")
    fn = next(n for n in snap["nodes"] if n["kind"] in ("method", "function") and n.get("examples"))
    select_via_search(page, fn)
    page.wait_for_selector("[data-testid=inspector-examples]")
    assert page.inner_text("[data-testid=inspector-label]") == fn["label"]
    page.locator("[data-testid=tab-events]").click()
    page.locator("[data-testid=tab-sequence]").click()
    assert page.evaluate("window.__pwned") is None
    embedded = json.loads(page.eval_on_selector("#skeleton-snapshot", "e => e.textContent"))
    assert embedded["run"]["app_name"] == HOSTILE[0]


# -- Content-Security-Policy: only the bundle's own inline script and style run ------------------
WATCH_CSP = ("window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push("
             "{directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample}));")
READY = "[data-testid=view-map][data-layout=ready] .react-flow__node"


def _page(browser, url: str, errors: list[str] | None = None):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.add_init_script(WATCH_CSP)
    page = ctx.new_page()
    if errors is not None:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page


def _shop_sample() -> dict:
    return json.loads((ROOT / "report-ui" / "samples" / "shop.json").read_text("utf-8"))


def test_csp_pins_the_bundle_and_the_report_runs_without_violations(report_path, browser):
    html = report_path.read_text("utf-8")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", directives["script-src"])
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", directives["style-src"])
    errors: list[str] = []
    page = _page(browser, report_path.resolve().as_uri(), errors)
    try:
        page.wait_for_selector(READY, state="attached", timeout=30_000)
        page.keyboard.press("Home")
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        for view in ("sequence", "events", "map"):
            page.locator(f"[data-testid=tab-{view}]").click()
        page.wait_for_timeout(300)
        assert page.evaluate("window.__csp") == []
    finally:
        page.context.close()
    assert errors == []


def test_csp_blocks_inline_script_injected_into_the_report(tmp_path, browser):
    path = write(_shop_sample(), tmp_path / "report.html")
    html = path.read_text("utf-8")
    injected = ('<script>window.__pwned = 1</script><div id="x" onclick="window.__pwned = 2">x</div>'
                '<img src="data:," onerror="window.__pwned = 3">')
    path.write_text(html.replace("<body>", "<body>" + injected, 1), "utf-8")
    page = _page(browser, path.resolve().as_uri())
    try:
        page.wait_for_selector(READY, state="attached", timeout=30_000)  # the bundle still runs
        page.evaluate("document.getElementById('x').click()")
        page.wait_for_timeout(300)
        assert page.evaluate("window.__pwned") is None
        blocked = page.evaluate("window.__csp")
        assert {v["directive"] for v in blocked} >= {"script-src-elem", "script-src-attr"}
        assert all(v["blocked"] == "inline" for v in blocked)
    finally:
        page.context.close()


# -- the selection bridge: posts only where the embedding page is allowed to receive it ------------
EMBED = """<!doctype html><html><head><meta charset="utf-8"><title>embed</title></head><body>
<script>window.msgs = []; addEventListener('message', (e) => {
  if (e.data && e.data.type === 'skeleton-selection') window.msgs.push(e.data); });</script>
<iframe id="report" src="REPORT" style="width: 1400px; height: 860px; border: 0"></iframe></body></html>"""


def _embed(browser, parent_url: str):
    page = _page(browser, parent_url)
    frame = page.frame_locator("#report")
    frame.locator("[data-testid=replay-play]:not([disabled])").wait_for(timeout=30_000)
    return page, frame


def _move_and_collect(page, frame) -> tuple[dict, list[dict]]:
    """Step the replay to 3; (the report's own window.SkeletonReplay.selection, messages the parent got)."""
    frame.locator("[data-testid=replay-start]").click()
    for _ in range(3):
        frame.locator("[data-testid=replay-forward]").click()
    inner = page.frames[1]
    inner.wait_for_function("() => window.SkeletonReplay && window.SkeletonReplay.selection.pos === 3")
    page.wait_for_timeout(400)  # postMessage is delivered in a later task
    return inner.evaluate("window.SkeletonReplay.selection"), page.evaluate("window.msgs")


@pytest.fixture(scope="module")
def shop_report(tmp_path_factory):
    snap = _shop_sample()
    folder = tmp_path_factory.mktemp("bridge")
    return snap, write(snap, folder / "report.html")


@pytest.mark.parametrize("query, expect", [
    ("", None),                                    # file://: no origin to target, nothing is posted
    ("?bridge=https://ide.example", None),         # an origin the parent does not have
    ("?bridge=*", "relative"),
    ("?bridge=*&bridge-paths=absolute", "absolute"),
])
def test_bridge_posts_only_when_the_embedding_page_opted_in(shop_report, browser, tmp_path, query, expect):
    snap, path = shop_report
    parent = tmp_path / "embed.html"
    parent.write_text(EMBED.replace("REPORT", path.resolve().as_uri() + query), "utf-8")
    page, frame = _embed(browser, parent.as_uri())
    try:
        inner, msgs = _move_and_collect(page, frame)
    finally:
        page.context.close()
    node = next(n for n in snap["nodes"] if n["id"] == inner["node_id"])
    root = snap["run"]["project_root"].rstrip("/")
    assert node["file"] and inner["file"] == f"{root}/{node['file']}"  # same page: unchanged, absolute
    if expect is None:
        assert msgs == []
        return
    last = msgs[-1]
    assert last["pos"] == 3 and last["node_id"] == node["id"] and last["line"] == node["line"]
    assert last["file"] == (node["file"] if expect == "relative" else f"{root}/{node['file']}")
    if expect == "relative":
        assert not any(m["file"] and (m["file"].startswith("/") or root in m["file"]) for m in msgs)


@pytest.fixture
def http_servers(shop_report):
    """Two local origins serving the report folder: (same-origin URL base, other-origin URL base)."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(shop_report[1].parent))
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.mark.parametrize("parent_origin", ["same", "other"])
def test_bridge_defaults_to_the_reports_own_origin(shop_report, http_servers, browser, parent_origin):
    snap, path = shop_report
    same, other = http_servers
    (path.parent / "embed.html").write_text(EMBED.replace("REPORT", f"{same}/{path.name}"), "utf-8")
    page, frame = _embed(browser, f"{same if parent_origin == 'same' else other}/embed.html")
    try:
        inner, msgs = _move_and_collect(page, frame)
    finally:
        page.context.close()
    if parent_origin == "other":
        assert msgs == []  # a page of another origin that frames the report hears nothing
        return
    node = next(n for n in snap["nodes"] if n["id"] == inner["node_id"])
    assert msgs[-1]["pos"] == 3 and msgs[-1]["file"] == node["file"]


# -- rule violations (skeleton run --check) and "Copy as Mermaid" ---------------------------------
@pytest.fixture(scope="module")
def checked_shop(tmp_path_factory):
    out = tmp_path_factory.mktemp("checked-shop")
    shop = ROOT / "examples" / "shop"
    proc, snap = run_checked(shop / "app.py", shop / "skeleton-rules.toml", out)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the shop breaks its rules on purpose
    return snap, out / "report.html"


def test_violations_are_highlighted_and_the_list_focuses_them(checked_shop, browser):
    snap, path = checked_shop
    violations = snap["violations"]
    assert {v["kind"] for v in violations} >= {"layers", "io"}
    errors: list[str] = []
    page = _page(browser, path.resolve().as_uri(), errors)
    try:
        page.wait_for_selector(READY, state="attached", timeout=30_000)
        toggle = page.locator("[data-testid=violations-toggle]")
        assert toggle.inner_text() == f"⚠ rules: {len(violations)} violation{'s' if len(violations) > 1 else ''}"
        assert page.locator("[data-testid=legend-violation]").count() == 1
        # the opening view (overview of a big run) marks the aggregated edges (or closed boxes) holding them
        page.wait_for_selector(".react-flow__edge [data-violation], [data-testid=box-violation]", state="attached")
        io = next(v for v in violations if v["kind"] == "io")
        assert page.locator(f".react-flow__edge [data-violation*='{io['rule']}']").count() >= 1
        for k, v in enumerate(violations):
            toggle.click()
            page.locator(f"[data-testid=violation-{k}]").click()
            # the violating edge is selected: the inspector says which rule and why
            edge_id = f"{v['source']}->{v['target']}"
            page.wait_for_selector(f"[data-testid=inspector-edge][data-edge-id='{edge_id}']")
            notes = page.inner_text("[data-testid=inspector-violations]")
            assert v["rule"] in notes and v["detail"] in notes
            # and drawn, red, in the focus view of its caller
            page.wait_for_selector(f".react-flow__edge [data-violation*='{v['rule']}']", state="attached")
            assert page.get_attribute("[data-testid=view-map]", "data-mode") == "focus"
            ARTIFACTS.mkdir(exist_ok=True)
            page.wait_for_timeout(400)
            page.screenshot(path=str(ARTIFACTS / f"shop-violation-{v['kind']}.png"))
        page.locator("[data-testid=tab-matrix]").click()
        assert int(page.get_attribute("[data-testid=view-matrix]", "data-violations")) >= 1  # the layering call's cell
        assert page.evaluate("window.__csp") == []
    finally:
        page.context.close()
    assert errors == []


def test_no_violation_ui_without_a_check(snapshot, report_path, open_report):
    if snapshot.get("violations"):
        pytest.skip("this run was checked")
    page = open_report(report_path).page
    assert page.locator("[data-testid=violations-toggle], [data-violation], [data-testid=box-violation]").count() == 0


def test_copy_as_mermaid_puts_the_view_on_the_clipboard(checked_shop, browser):
    _, path = checked_shop
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    ctx.add_init_script(WATCH_CSP)
    # file:// gets no clipboard permission: the report falls back to a selected text box
    page = ctx.new_page()
    try:
        page.goto(path.resolve().as_uri())
        page.wait_for_selector(READY, state="attached", timeout=30_000)
        page.evaluate("""() => { window.__copied = null;
          const c = navigator.clipboard, w = c && c.writeText.bind(c);
          if (c) c.writeText = (t) => { window.__copied = t; return w ? w(t) : Promise.reject(); }; }""")
        page.locator("[data-testid=copy-mermaid]").click()
        page.wait_for_selector("[data-testid=copy-mermaid][data-state=copied], [data-testid=mermaid-text]",
                               state="attached")
        copied = page.evaluate("window.__copied")
        if page.locator("[data-testid=mermaid-text]").count():
            text = page.input_value("[data-testid=mermaid-text]")
        else:
            text = copied
        assert text and text.startswith("flowchart LR\n")
        # the boxes on the map, one line each, and the calls between them with their counts
        shown = page.eval_on_selector_all(".react-flow__node [data-testid^='node-'] [data-label]",
                                          "els => els.map(e => e.textContent)")
        boxes = re.findall(r'^\s*(?:subgraph )?n\d+\["([^"\n]*)"\]$', text, re.M)
        assert len(boxes) == len(shown)
        assert re.search(r"^  n\d+ -->\|\d+\| n\d+$", text, re.M)
        assert "linkStyle" in text  # the io violation's edge on the overview, drawn red
        assert page.evaluate("window.__csp") == []
    finally:
        ctx.close()
