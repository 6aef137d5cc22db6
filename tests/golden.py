"""Golden files: scrub what legitimately varies between runs, compare the rest.

Run `pytest tests/test_golden.py --update-golden` to rewrite them (then read the diff).
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from skeleton_replay.model.steps import decode

GOLDEN = Path(__file__).parent / "golden"
_VARYING_RUN = ("started_at", "duration_s", "python_version", "backend", "backend_reason", "project_root", "command")


def scrub_snapshot(snap: dict) -> dict:
    snap = json.loads(json.dumps(snap))
    snap["skeleton_version"] = "<version>"
    for k in _VARYING_RUN:
        snap["run"][k] = f"<{k}>"
    snap["run"]["target"]["path"] = Path(snap["run"]["target"]["path"]).name
    for item in (*snap["nodes"], *snap["edges"]):
        for k in ("total_ns", "max_ns"):
            if k in item:
                item[k] = "<ns>"
        for ex in item.get("examples", []):
            _scrub_object_ids(ex)
            if "exception" in ex:
                ex["exception"] = "<exception>"  # the setprofile backend cannot see exception details
    steps = snap["steps"]
    cols = {k: list(decode(v)) for k, v in steps["columns"].items() if k != "t"}
    snap["steps"] = {"count": steps["count"], "kinds": steps["kinds"], "columns": cols}
    return snap


def _scrub_object_ids(value) -> None:
    """Run-local ids of objects that cannot be weakly referenced (Decimal, __slots__ classes) are
    matched by address, so they may differ between runs: see docs/safety.md."""
    if isinstance(value, dict):
        if "id" in value and "type" in value:
            value["id"] = "<id>"
        for v in value.values():
            _scrub_object_ids(v)
    elif isinstance(value, list):
        for v in value:
            _scrub_object_ids(v)


def scrub_workflow(text: str) -> str:
    out = []
    for line in text.splitlines():
        if line.startswith(("- started:", "- command:", "- backend:", "- project root:")):
            line = line.split(":", 1)[0] + ": <scrubbed>"
        line = re.sub(r"raised [\w.?]+: .*", "raised <exception>", line)
        line = re.sub(r"<(\w+) #(?:id=)?\d+>", r"<\1 #id>", line)  # instance numbers, object ids
        out.append(line)
    return "\n".join(out) + "\n"


def check(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if not path.exists() and not update and os.environ.get("CI"):
        # A golden file forgotten in a commit must not pass by writing itself on the CI machine.
        pytest.fail(f"golden file tests/golden/{name} is missing: run pytest --update-golden, review it and commit it")
    if update or not path.exists():
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file (run pytest --update-golden and review the diff)"
