"""CREATION spill records -> who created whom (capture/creations.py records them).

One creation key is (creator, class): the traced callable or project module body that made objects of
that class, how many (exact, also past the event cap) and the first event at or before the first one
(`first_seen`: the replay step, None past the event cap). Objects that became instance nodes (a method of
theirs was traced) are listed under their key with their own `first_seen`. All of it goes into the end
record (`creations`), so `skeleton report` rebuilds the same snapshot from trace.jsonl alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..capture.actor import MODULE
from ..capture.creations import COUNTS, IDENTIFIED, INSTANCE, NEW_KEY, PER_RUN
from .boundaries import module_actor
from .types import Endpoint


class CreationLog:
    def __init__(self) -> None:
        self._keys: dict[int, dict[str, Any]] = {}  # the key's number -> the creation (JSON-ready)
        self._made: dict[int, tuple[int, int | None]] = {}  # seq -> (key number, first_seen)
        self._objects: dict[int, tuple[int, int | None]] = {}  # object id -> (key number, first_seen)

    def add(self, rec: tuple[Any, ...], order: int, cap: int, endpoint: Callable[[int, int], Endpoint]) -> None:
        """One CREATION record; order: the order the next recorded event gets."""
        op = rec[1]
        first = order - 1 if order and (not cap or order < cap) else None
        if op == NEW_KEY:
            _, _, n, idx, obj, module, qualname = rec[:7]
            if idx == MODULE:  # a project module body: (module, file)
                if type(obj) is not tuple or len(obj) != 2:
                    return
                creator = module_actor(str(obj[0]), str(obj[1]))
            else:
                try:
                    creator = endpoint(idx, obj).as_json()
                except (KeyError, IndexError):  # a code index never defined (a torn spill)
                    return
            self._keys[n] = {
                "creator": creator,
                "module": module,
                "qualname": qualname,
                "count": 1,
                "first_seen": first,
                "instances": [],
            }
        elif op == INSTANCE:
            if rec[2] in self._keys and len(self._made) < PER_RUN:
                self._made[rec[3]] = (rec[2], first)
        elif op == IDENTIFIED:
            made = self._made.pop(rec[3], None)
            if made is not None:
                self._objects[rec[2]] = made
        elif op == COUNTS:
            for n, extra in rec[2].items():
                key = self._keys.get(n)
                if key is not None:
                    key["count"] += extra

    def as_json(self, instance_node: Callable[[int], str | None]) -> list[dict[str, Any]]:
        """The end record's `creations`; instance_node: the node id of an object id (None: never a node)."""
        for oid, (n, first) in self._objects.items():
            node = instance_node(oid)
            if node is not None:
                self._keys[n]["instances"].append({"instance": node, "first_seen": first})
        out = []
        for key in self._keys.values():
            if not key["instances"]:
                key = {k: v for k, v in key.items() if k != "instances"}
            out.append(key)
        self._objects.clear()
        return out


def end_creations(decoder: Any) -> list[dict[str, Any]] | None:
    """The end record's `creations` of a finished Decoder (events/decode.py); None when nothing was made."""
    nodes: dict[int, tuple[str, str]] = decoder._instance_nodes  # object id -> (node id, label)

    def instance_node(oid: int) -> str | None:
        node = nodes.get(oid)
        return node[0] if node is not None and not node[0].endswith("#*") else None

    found: list[dict[str, Any]] = decoder.made.as_json(instance_node)
    return found or None
