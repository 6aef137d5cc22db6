"""Who created whom in the report: the inspector of an instance names its creator and the event before its
__init__ (clickable: selects the creator, replays to that event); an instance group lists its class's
creators with their counts. Expectations come from snapshot.json (creations, created_by)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import SKELETON_CMD

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "tests" / "apps" / "creations"


@pytest.fixture(scope="module")
def creations_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("creations")
    proc = subprocess.run([*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out), "--project-root", str(APP),
                           str(APP / "app.py"), "6"], capture_output=True, text=True,
                          env={**os.environ, "CI": "1"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "snapshot.json").read_text("utf-8")), out / "report.html"


def test_instance_inspector_names_its_creator(creations_report, open_report):
    snap, path = creations_report
    inst = next(n for n in snap["nodes"] if n["kind"] == "instance" and n.get("created_by")
                and n["created_by"]["first_seen"] is not None and n["created_by"]["creator"].startswith("meth:"))
    by = inst["created_by"]
    page = open_report(path, hash=f"#view=events&node={inst['id']}", wait_map=False).page
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{inst['id']}']")
    line = page.locator("[data-testid=inspector-created-by] [data-testid=created-by]")
    assert line.count() == 1
    assert line.get_attribute("data-creator") == by["creator"]
    assert f"#{by['first_seen']}" in line.inner_text()
    # the event: replays to it
    line.locator("[data-testid=goto-created]").click()
    page.wait_for_function(f"() => new URLSearchParams(location.hash.slice(1)).get('pos') === '{by['first_seen'] + 1}'")
    # the creator: selects it
    line.locator("button").first.click()
    page.wait_for_selector(f"[data-testid=inspector-node][data-node-id='{by['creator']}']")


def test_instance_group_inspector_lists_the_class_creators(creations_report, open_report):
    snap, path = creations_report
    made = [c for c in snap["creations"] if c["qualname"] == "Item" and c["module"] == "shop.models"]
    page = open_report(path, hash="#view=events&node=group:shop.models.Item", wait_map=False).page
    page.wait_for_selector("[data-testid=inspector-node][data-node-id='group:shop.models.Item']")
    lines = page.locator("[data-testid=inspector-created-by] [data-testid=created-by]")
    assert lines.count() == len(made)
    shown = {lines.nth(k).get_attribute("data-creator"): lines.nth(k).inner_text() for k in range(lines.count())}
    for c in made:
        assert f"×{c['count']:,}" in shown[c["creator"]]
