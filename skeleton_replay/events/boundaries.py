"""BOUNDARY spill records -> the run's I/O boundary uses (capture/boundaries.py records them).

One use is (actor, kind, target, operation, scenario): the traced callable that did the I/O, with how
many times and the first event at or before it (`first_seen`: the replay step, None past the event
cap). They go into the end record (`boundaries`), so `skeleton report` rebuilds the same snapshot
from trace.jsonl alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..capture import records as R
from ..capture.actor import MODULE
from .types import Endpoint


def module_actor(module: str, file: str) -> dict[str, Any]:
    """The end record's actor of I/O done by a project module body: the module's node (mod:NAME)."""
    return {
        "module": module,
        "class_name": None,
        "function": "<module>",
        "qualified_name": module,
        "file": file,
        "line": 0,
        "node_id": "mod:" + module,
        "instance_id": None,
        "callable_kind": "module",
    }


class BoundaryLog:
    def __init__(self) -> None:
        self._uses: dict[int, dict[str, Any]] = {}  # the record's number -> the use (JSON-ready)

    def add(
        self, rec: tuple[Any, ...], order: int, cap: int, scenario: str | None, endpoint: Callable[[int, int], Endpoint]
    ) -> None:
        """One BOUNDARY or BOUNDARY_COUNTS record; order: the order the next recorded event gets."""
        if rec[0] == R.BOUNDARY_COUNTS:
            for n, extra in rec[1].items():
                seen = self._uses.get(n)
                if seen is not None:
                    seen["count"] += extra
            return
        _, n, idx, obj, kind, target, op, detail = rec[:8]
        if idx == MODULE:  # a project module body: (module, file)
            if type(obj) is not tuple or len(obj) != 2:
                return
            actor_json = module_actor(str(obj[0]), str(obj[1]))
        else:
            try:
                actor_json = endpoint(idx, obj).as_json()
            except (KeyError, IndexError):  # a code index never defined (a torn spill): nothing to attribute it to
                return
        first = order - 1 if order and (not cap or order < cap) else None
        use: dict[str, Any] = {
            "actor": actor_json,
            "kind": kind,
            "target": target,
            "op": op,
            "count": 1,
            "first_seen": first,
        }
        if detail is not None:
            use["detail"] = detail
        if scenario is not None:
            use["scenario"] = scenario
        self._uses[n] = use

    def as_json(self) -> list[dict[str, Any]]:
        return list(self._uses.values())
