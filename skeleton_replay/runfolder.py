"""A run folder as the commands that read runs see it (`skeleton check`, `skeleton diff`, `skeleton export`).

A run folder is what `skeleton run`/`skeleton pytest` wrote: snapshot.json (required here) and
trace.jsonl (needed only for event windows and timelines). Every way it can be wrong is one
UsageError line that says what to pass instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .model.version import SNAPSHOT_FORMAT_VERSION
from .options import UsageError

SNAPSHOT = "snapshot.json"
TRACE = "trace.jsonl"


@dataclass
class RunFolder:
    path: Path  # the folder
    snapshot: dict[str, Any]  # snapshot.json, checked by load() to be an object with nodes and edges lists
    snapshot_file: Path = field(default=Path())  # the file read: path/snapshot.json, or the file given to load()

    def __post_init__(self) -> None:
        if self.snapshot_file == Path():
            self.snapshot_file = self.path / SNAPSHOT

    @property
    def trace(self) -> Path | None:
        """OUT_DIR/trace.jsonl when it exists."""
        p = self.path / TRACE
        return p if p.is_file() else None

    def scenario(self, wanted: str) -> dict[str, Any]:
        """A scenario of a pytest run by its test id (exact), or by its index."""
        scenarios: list[dict[str, Any]] = self.snapshot.get("scenarios") or []
        if not scenarios:
            raise UsageError(
                f"{self.path} has no scenarios (tests); --scenario needs a run of "
                "'skeleton pytest' or 'pytest --skeleton'"
            )
        for s in scenarios:
            if s.get("name") == wanted:
                return s
        if wanted.isdigit() and int(wanted) < len(scenarios):
            return scenarios[int(wanted)]
        tail = [s for s in scenarios if str(s.get("name")).endswith(("::" + wanted, "/" + wanted))]
        if len(tail) == 1:  # `test_refunds` for `tests/test_checkout.py::test_refunds`
            return tail[0]
        near = [s["name"] for s in scenarios if wanted in str(s.get("name"))]
        if len(near) == 1:
            hint = f"; did you mean {near[0]!r}?"
        elif near:
            hint = f"; {len(near)} tests match, pass one whole id, e.g. {near[0]!r}"
        else:
            hint = f" (it has {len(scenarios)} tests; their ids are the 'name' of snapshot.json's scenarios)"
        raise UsageError(f"no test {wanted!r} in {self.path}{hint}")


def load(where: str | Path) -> RunFolder:
    """The run folder at `where`, or the folder of a snapshot file given directly (any name: a copy of a
    run's snapshot.json is read as it is; the run's other files are looked for next to it)."""
    path = Path(where)
    given = path if path.is_file() else None
    if given is not None:
        path = path.parent
    if not path.exists():
        raise UsageError(f"{where} does not exist; pass a run folder (the --out-dir of 'skeleton run')")
    if not path.is_dir():
        raise UsageError(f"{where} is not a run folder; pass the folder that holds snapshot.json")
    snap_path = given or path / SNAPSHOT
    if not snap_path.is_file():
        hint = (
            f"; rebuild it with 'skeleton report {where}'"
            if (path / TRACE).is_file()
            else " (pass the --out-dir of 'skeleton run')"
        )
        raise UsageError(f"{where} is not a Skeleton run: no {SNAPSHOT} in it{hint}")
    try:
        snapshot = orjson.loads(snap_path.read_bytes())
    except orjson.JSONDecodeError:
        raise UsageError(f"{snap_path} is not valid JSON; rebuild it with 'skeleton report {where}'") from None
    except OSError as exc:
        raise UsageError(f"cannot read {snap_path}: {exc.strerror or exc}") from None
    if (
        not isinstance(snapshot, dict)
        or not isinstance(snapshot.get("nodes"), list)
        or not isinstance(snapshot.get("edges"), list)
    ):
        raise UsageError(f"{snap_path} is not a Skeleton snapshot (no nodes and edges)")
    version = snapshot.get("format_version")
    if not isinstance(version, int) or version > SNAPSHOT_FORMAT_VERSION:
        raise UsageError(
            f"{snap_path} has snapshot format {version!r}, newer than this Skeleton reads "
            f"({SNAPSHOT_FORMAT_VERSION}); upgrade skeleton-replay"
        )
    return RunFolder(path, snapshot, snap_path)
