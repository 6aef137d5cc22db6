"""The report of a run where a generator's call was only counted (started in a module body past the import
budget) and its resumes were recorded with `call_id: null` (docs/trace-format.md): it opens without errors
and the resumed generator's events show the stack that resumed it."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT
from helpers import SKELETON_CMD


def _program() -> dict[str, str]:
    """GENS and MAIN of tests/test_unrecorded_generator_call.py (its conftest is not this one's)."""
    tree = ast.parse((ROOT / "tests" / "test_unrecorded_generator_call.py").read_text("utf-8"))
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and node.value.args:
            arg = node.value.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out[node.targets[0].id] = textwrap.dedent(arg.value)  # type: ignore[attr-defined]
    return out

READY = "[data-testid=view-map][data-layout=ready] .react-flow__node"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    src = tmp_path_factory.mktemp("unrecorded-src")
    program = _program()
    (src / "gens.py").write_text(program["GENS"])
    (src / "app.py").write_text(program["MAIN"])
    out = tmp_path_factory.mktemp("unrecorded-out")
    proc = subprocess.run([*SKELETON_CMD, "run", "--no-open", "--out-dir", str(out), "--project-root", str(src),
                           str(src / "app.py")], capture_output=True, text=True, env={**os.environ, "CI": "1"},
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    events = [json.loads(line) for line in (out / "trace.jsonl").read_text("utf-8").splitlines()[1:-1]]
    return out, events


def _caller_chain(browser, report: Path, event: int) -> tuple[list[str], list[str]]:
    """The inspector's caller chain of `event` (opened from the link #event=N) and the page's errors."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(report.resolve().as_uri() + f"#event={event}")
        page.wait_for_selector(READY, state="attached", timeout=30_000)
        page.wait_for_selector(f"[data-testid=inspector-event][data-event='{event}']", timeout=10_000)
        chain = page.locator("[data-testid=inspector-caller-chain] li").all_inner_texts()
        page.wait_for_timeout(200)
        return [c.split(" #")[0] for c in chain], errors
    finally:
        page.context.close()


def test_report_opens_on_resumes_whose_call_was_not_recorded(run, browser):
    out, events = run
    nulls = [e for e in events if e["call_id"] is None]
    assert [e["event_type"] for e in nulls[:2]] == ["resume", "yield"], "the program no longer reproduces the case"
    for e in nulls[:2]:  # the resume and the yield after it: the generator's frame, resumed by main()
        chain, errors = _caller_chain(browser, Path(out) / "report.html", e["order"])
        assert chain[:2] == ["numbers", "main"], (e["event_type"], chain)
        assert errors == []
