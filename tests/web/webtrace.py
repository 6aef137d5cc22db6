"""Helpers and fixtures for the web integration tests: the webshop app, reading per-request artifacts.

Not a conftest.py: tests/test_summarise.py imports `conftest` by name, and a second conftest
module would shadow it. The test modules import the fixtures from here.
"""
from __future__ import annotations

import json
import re
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import orjson
import pytest

WEBSHOP = Path(__file__).parent.parent / "apps" / "webshop"
FOLDER_RE = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[A-Z]+-[A-Za-z0-9_.-]+$")
ARTIFACTS = ("trace.jsonl", "snapshot.json", "workflow.md", "report.html", "session.json")
SNAPSHOT_SCHEMA = json.loads(resources.files("skeleton_replay").joinpath("schema/snapshot.schema.json").read_text())
SESSION_SCHEMA = json.loads(resources.files("skeleton_replay").joinpath("schema/session.schema.json").read_text())

if str(WEBSHOP) not in sys.path:
    sys.path.insert(0, str(WEBSHOP))


class Traced:
    """The artifacts of one traced request."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def lines(self) -> list[dict]:
        return [orjson.loads(x) for x in (self.folder / "trace.jsonl").read_bytes().splitlines()]

    def events(self) -> list[dict]:
        return [d for d in self.lines() if "event_type" in d]

    def functions(self) -> set[str]:
        return {e["callee"]["function"] for e in self.events() if e.get("callee")}

    def snapshot(self) -> dict:
        return orjson.loads((self.folder / "snapshot.json").read_bytes())

    def session(self) -> dict:
        return orjson.loads((self.folder / "session.json").read_bytes())

    def workflow(self) -> str:
        return (self.folder / "workflow.md").read_text("utf-8")

    def text(self) -> str:
        """Every artifact's bytes as text, to search for leaks."""
        return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in sorted(self.folder.iterdir()))

    def validate(self) -> None:
        jsonschema.validate(self.snapshot(), SNAPSHOT_SCHEMA)
        jsonschema.validate(self.session(), SESSION_SCHEMA)


def traced(out: Path) -> list[Traced]:
    folder = out / "requests"
    if not folder.exists():
        return []
    return [Traced(p) for p in sorted(folder.iterdir())]


def only(out: Path) -> Traced:
    runs = traced(out)
    assert len(runs) == 1, [r.folder.name for r in runs]
    return runs[0]


@pytest.fixture
def webshop_root() -> Path:
    return WEBSHOP


@pytest.fixture
def rendezvous():
    """rendezvous(2): the next two requests wait for each other twice (webshop.sync)."""
    from webshop import sync

    yield sync.reset
    sync.reset(0)
