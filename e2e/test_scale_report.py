"""The report at real-program scale: reports of real pure-Python libraries (Jinja2, docutils; a few
thousand nodes each), measured as a person sees them in Chromium at 1440×900.

Every view checked here — the first view, the deep link to the busiest callable of each of the three
largest modules, search, breadcrumbs — must keep at least 90 % of the boxes on screen labelled at
10 px or more (font size × map zoom), with the node in question on screen. Screenshots of each view
go to e2e/artifacts/scale-*.png. Expectations come from the snapshot itself.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import ARTIFACTS, ROOT
from helpers import SKELETON_CMD, label_sizes, matrix_units, on_screen, readable_share

PROGRAMS = {  # library -> driver in e2e/real_programs/
    "jinja2": "jinja_templates.py",
    "docutils": "docutils_rst.py",
}
CALLABLE = {"function", "method"}


@pytest.fixture(scope="module", params=sorted(PROGRAMS), ids=[f"real-{p}" for p in sorted(PROGRAMS)])
def real_case(request, tmp_path_factory):
    """(library, snapshot, report path): `skeleton run` on a driver of a real library, traced inside it."""
    lib = request.param
    mod = pytest.importorskip(lib)
    out = tmp_path_factory.mktemp(f"real-{lib}")
    proc = subprocess.run([*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out),
                           "--project-root", str(Path(mod.__file__).parent), str(ROOT / "e2e" / "real_programs" / PROGRAMS[lib])],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    snap = json.loads((out / "snapshot.json").read_text("utf-8"))
    assert len(snap["nodes"]) >= 2000, f"{lib}: only {len(snap['nodes'])} nodes; the driver should exercise more"
    return lib, snap, out / "report.html"


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scale-{name}.png"))


def busiest_of_largest_modules(snapshot: dict, k: int = 3) -> list[dict]:
    """The most called callable of each of the k modules holding the most callables."""
    calls = [n for n in snapshot["nodes"] if n["kind"] in CALLABLE]
    sizes = Counter(n["module"] for n in calls)
    return [max((n for n in calls if n["module"] == m), key=lambda n: (n["call_count"], n["id"])) for m, _ in sizes.most_common(k)]


def assert_readable(page, what: str) -> dict:
    sizes = label_sizes(page)
    assert len(sizes["boxes"]) >= 2, f"{what}: only {len(sizes['boxes'])} boxes on screen"
    share = readable_share(sizes)
    small = [(b["id"], round(b["px"], 1)) for b in sizes["boxes"] if b["px"] < 10][:5]
    assert share >= 0.9, f"{what}: {share:.0%} of {len(sizes['boxes'])} boxes labelled at >= 10 px (zoom {sizes['zoom']:.2f}; {small})"
    return sizes


def test_first_view_is_readable(real_case, open_report):
    lib, snap, path = real_case
    page = open_report(path).page
    assert page.get_attribute("[data-testid=view-map]", "data-mode") == "overview"
    page.wait_for_timeout(400)
    sizes = assert_readable(page, f"{lib} first view")
    # the overview shows packages and modules, never the thousands of callables
    kinds = {n["id"]: n["kind"] for n in snap["nodes"]}
    shown = [b["id"] for b in sizes["boxes"]]
    assert not [i for i in shown if kinds.get(i) in CALLABLE]
    assert len(shown) <= 40
    shot(page, f"{lib}-overview")


def test_deep_link_to_the_busiest_callables(real_case, open_report):
    lib, snap, path = real_case
    for k, node in enumerate(busiest_of_largest_modules(snap)):
        page = open_report(path, hash=f"#node={node['id']}").page
        page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{node['id']}']")
        page.wait_for_timeout(400)
        assert page.get_attribute("[data-testid=view-map]", "data-mode") == "focus"
        assert on_screen(page, node["id"]), f"{lib}: {node['id']} is not on screen"
        assert "selected" in page.get_attribute(f"[data-testid='node-{node['id']}']", "class")
        assert_readable(page, f"{lib} #node={node['id']}")
        # breadcrumbs lead back through its containers to the overview
        assert page.get_attribute(f"[data-testid='crumb-{node['id']}']", "class").endswith("here")
        shot(page, f"{lib}-focus-{k + 1}")


def test_focus_by_search_hops_and_breadcrumbs(real_case, open_report):
    lib, snap, path = real_case
    page = open_report(path).page
    node = busiest_of_largest_modules(snap, 1)[0]
    callers = {e["source"] for e in snap["edges"] if e["target"] == node["id"]}
    page.keyboard.press("/")
    owner = next(n for n in snap["nodes"] if n["id"] == node["parent"])
    # a method answers to `Instance#n.method` too (its qualified name is the same on every instance)
    page.fill("[data-testid=search-input]", f"{owner['label']}.{node['label']}" if node["kind"] == "method" else node["qualified_name"])
    page.locator(f"[data-testid='search-result-{node['id']}']").click()
    page.wait_for_selector("[data-testid=view-map][data-mode=focus]")
    page.wait_for_timeout(300)
    assert on_screen(page, node["id"])
    one_hop = page.locator(".react-flow__node").count()
    # every caller is drawn, alone or inside the box that stands for it, left of the node
    x0 = page.locator(f"[data-testid='node-{node['id']}']").bounding_box()["x"]
    boxes = page.eval_on_selector_all("[data-testid^='node-']", "els => els.map(e => [e.dataset.testid.slice(5), e.getBoundingClientRect().x])")
    left = {i for i, x in boxes if x < x0}
    assert callers and left, "callers on the left"
    page.locator("[data-testid=hops-2]").click()
    page.wait_for_function(f"() => document.querySelectorAll('.react-flow__node').length > {one_hop}")
    assert_readable(page, f"{lib} two hops")
    shot(page, f"{lib}-focus-two-hops")
    # up to the module through the breadcrumbs: its inside at the coarsest level that fits
    module_crumb = page.locator("[data-testid^='crumb-mod:'], [data-testid^='crumb-init:']").last
    mod_id = module_crumb.get_attribute("data-testid")[len("crumb-"):]
    module_crumb.click()
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{mod_id}']")
    page.wait_for_timeout(300)
    assert on_screen(page, mod_id) or page.locator(f"[data-testid='node-{mod_id}']").count() == 1
    assert_readable(page, f"{lib} module {mod_id}")
    shot(page, f"{lib}-focus-module")
    page.locator("[data-testid=crumb-overview]").click()
    page.wait_for_selector("[data-testid=view-map][data-mode=overview]")


def test_matrix_view_orders_modules_and_focuses_a_cell(real_case, open_report):
    lib, snap, path = real_case
    page = open_report(path, hash="#view=matrix", wait_map=False).page
    page.wait_for_selector("[data-testid=view-matrix]")
    unit = matrix_units(snap)
    nodes = {n["id"]: n for n in snap["nodes"]}
    seen_units = {unit[n["id"]] for n in snap["nodes"] if n["id"] in unit and n["first_seen"] is not None}
    assert int(page.get_attribute("[data-testid=view-matrix]", "data-rows")) == len(seen_units)
    pairs: Counter = Counter()
    for e in snap["edges"]:
        s, t = unit.get(e["source"]), unit.get(e["target"])
        if s and t and s != t:
            pairs[(s, t)] += e["count"]
    (src, tgt), count = pairs.most_common(1)[0]
    r = int(page.get_attribute(f"[data-testid='matrix-row-{src}']", "data-index"))
    c = int(page.get_attribute(f"[data-testid='matrix-row-{tgt}']", "data-index"))
    # callers first: most calls go right of the diagonal
    forward = sum(1 for (s, t) in pairs
                  if int(page.get_attribute(f"[data-testid='matrix-row-{s}']", "data-index")) < int(page.get_attribute(f"[data-testid='matrix-row-{t}']", "data-index")))
    assert forward >= len(pairs) / 2
    assert int(page.get_attribute("[data-testid=view-matrix]", "data-back")) == len(pairs) - forward
    shot(page, f"{lib}-matrix")
    canvas = page.locator("[data-testid=matrix-canvas]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + c * 16 + 8, box["y"] + r * 16 + 8)
    hover = page.inner_text("[data-testid=matrix-hover]")
    assert "→" in hover and "calls" in hover and "no calls" not in hover, hover
    page.mouse.click(box["x"] + c * 16 + 8, box["y"] + r * 16 + 8)
    page.wait_for_selector("[data-testid=view-map][data-mode=focus]")
    edge = page.locator("[data-testid=inspector-edge]")
    edge.wait_for()
    assert page.get_attribute(f"[data-testid='crumb-{src}']", "class").endswith("here")
    assert nodes.get(src) is None or nodes[src]["label"] in page.inner_text("[data-testid=breadcrumbs]")
    page.wait_for_timeout(300)
    assert on_screen(page, src)
    assert_readable(page, f"{lib} matrix cell {src} -> {tgt}")


def test_inspector_tells_apart_callers_with_one_name(real_case, open_report):
    lib, snap, path = real_case
    nodes = {n["id"]: n for n in snap["nodes"]}
    callers: dict[str, list[str]] = {}
    for e in snap["edges"]:
        if e["source"] in nodes and nodes[e["source"]]["kind"] in CALLABLE:
            callers.setdefault(e["target"], []).append(e["source"])
    target = next((t for t, cs in sorted(callers.items()) if len(cs) <= 8
                   and any(n > 1 for n in Counter(nodes[c]["label"] for c in cs).values())), None)
    if target is None:
        pytest.skip("no callable with two callers of one name")
    page = open_report(path, hash=f"#node={target}").page
    items = page.locator("[data-testid=inspector-callers] li")
    items.first.wait_for()
    texts = [items.nth(k).inner_text() for k in range(items.count())]
    assert len(set(texts)) == len(texts), texts


def test_replay_lights_the_group_of_a_folded_instance(real_case, open_report):
    """Focused on a module, a step into a method of one of its many instances lights the group's box."""
    lib, snap, path = real_case
    nodes = {n["id"]: n for n in snap["nodes"]}
    per_class = Counter((n["module"], n.get("class_name")) for n in snap["nodes"] if n["kind"] == "instance")
    (module, _cls), n_inst = per_class.most_common(1)[0]
    assert n_inst >= 20
    meth = min((n for n in snap["nodes"] if n["kind"] == "method" and nodes[n["parent"]]["kind"] == "instance"
                and nodes[n["parent"]]["module"] == module and n["first_seen"] is not None
                and (nodes[n["parent"]]["module"], nodes[n["parent"]].get("class_name")) == (module, _cls)),
               key=lambda n: n["first_seen"])
    page = open_report(path, hash=f"#node=mod:{module}&pos={meth['first_seen'] + 1}").page
    page.wait_for_selector("[data-testid=view-map][data-mode=focus]")
    active = page.eval_on_selector_all("[data-testid^='node-'][data-active=true]", "els => els.map(e => e.dataset.testid.slice(5))")
    assert active, "the current call lights a box"
    assert all(a.startswith(("group:", "agg:", "inst:", "meth:")) for a in active), active


def test_first_view_of_the_demo_reports_is_readable(report_case, open_report):
    """Small runs too: the first fit never goes below a zoom where labels fall under 10 px."""
    _snap, path = report_case
    page = open_report(path).page
    page.wait_for_timeout(400)
    assert_readable(page, f"{path.name} first view")


PARTICLES = """
class Particle:
    def __init__(self, k):
        self.x = float(k)

    def step(self, dt):
        self.x += dt

    def energy(self):
        return 0.5 * self.x


class Field:
    def __init__(self, n):
        self.particles = [Particle(k) for k in range(n)]

    def advance(self):
        for p in self.particles:
            p.step(0.1)

    def total(self):
        return sum(p.energy() for p in self.particles)


field = Field(3000)
field.advance()
print(field.total())
"""


@pytest.fixture(scope="module")
def particles(tmp_path_factory):
    """(snapshot, report path): 3,000 instances of one class, each with its methods called."""
    out = tmp_path_factory.mktemp("particles")
    (out / "particles.py").write_text(PARTICLES, "utf-8")
    proc = subprocess.run([*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out / "run"), str(out / "particles.py")],
                          capture_output=True, text=True, env={**os.environ, "CI": "1"}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "run" / "snapshot.json").read_text("utf-8")), out / "run" / "report.html"


def test_thousands_of_instances_show_as_one_group(particles, open_report):
    """The first view of a one-module program is its module, the instances one box `Particle xN` with
    its methods aggregated; a deep link to one instance's method is readable and quick."""
    snap, path = particles
    insts = [n for n in snap["nodes"] if n["kind"] == "instance" and n.get("class_name", "").endswith("Particle")]
    named = [n for n in insts if not n["id"].endswith("#*")]
    assert len(insts) >= 50
    label = f"Particle \u00d7{len(named)}" + ("+" if len(named) < len(insts) else "")
    t0 = time.perf_counter()
    page = open_report(path).page
    opened = time.perf_counter() - t0
    page.wait_for_timeout(400)
    assert page.get_attribute("[data-testid=view-map]", "data-mode") == "focus"
    group = page.locator("[data-testid='node-group:particles.Particle']")
    assert group.locator("[data-label]").inner_text() == label
    sizes = assert_readable(page, "particles first view")
    assert len(sizes["boxes"]) <= 20, "the instances are not drawn one by one"
    cut = [(b["text"], b["shown"]) for b in sizes["boxes"] if b["shown"] <= 0.99]
    assert not cut, f"labels cut short: {cut}"
    shot(page, "particles-module")
    assert opened < 10
    # one instance among thousands: its caller on the left, readable
    middle = named[len(named) // 2]["id"]
    meth = next(n for n in snap["nodes"] if n["kind"] == "method" and n["parent"] == middle and n["label"] == "step")
    page = open_report(path, hash=f"#node={meth['id']}").page
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{meth['id']}']")
    page.wait_for_timeout(300)
    assert on_screen(page, meth["id"])
    assert_readable(page, f"#node={meth['id']}")
    assert page.locator("[data-testid='node-meth:particles.Field#1.advance']").count() == 1
    shot(page, "particles-instance")
