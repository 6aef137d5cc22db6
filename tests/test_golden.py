"""snapshot.json and workflow.md against reviewed golden files, on every backend.

Single-threaded apps only: thread interleaving changes event order. Apps whose instances
cannot be weakly referenced (examples/hot_loop: __slots__) get address-matched instance
ids that can vary between runs, so they are not golden-tested either.
"""
from __future__ import annotations

import json

import pytest

from conftest import BACKENDS, REPO, skeleton
from golden import check, scrub_snapshot, scrub_workflow

CASES = {
    "basics": (REPO / "tests" / "apps" / "basics", "app.py", ["x"]),
    "async_pipeline": (REPO / "examples" / "async_pipeline", "app.py", []),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(tmp_path, request, case, backend):
    folder, script, args = CASES[case]
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(tmp_path),
                 "--project-root", str(folder), str(folder / script), *args)
    assert p.returncode == 0, p.stderr
    update = request.config.getoption("--update-golden") and backend == BACKENDS[-1]
    snap = scrub_snapshot(json.loads((tmp_path / "snapshot.json").read_text()))
    check(f"{case}.snapshot.json", json.dumps(snap, indent=1, sort_keys=True) + "\n", update)
    check(f"{case}.workflow.md", scrub_workflow((tmp_path / "workflow.md").read_text()), update)
