"""The replay step list as compact typed columns (zlib + base64 in snapshot.json)."""

from __future__ import annotations

import base64
import sys
import zlib
from array import array
from typing import Any

from ..events.types import Event

_DTYPES = {"u8": "B", "u16": "H", "u32": "I", "i32": "i"}


class StepColumns:
    """Columns compressed as they grow: memory stays near the compressed size of the run.

    time_unit_ns is fixed up front (the run's duration is known before post-processing, or
    read from the trace's end record): microseconds unless the run is longer than the u32
    column can hold (71 minutes), then coarser.
    """

    COLUMNS = (
        ("kind", "u8"),
        ("node", "u32"),
        ("edge", "i32"),
        ("thread", "u16"),
        ("depth", "u16"),
        ("call_id", "u32"),
        ("t", "u32"),
    )

    def __init__(self, duration_ns: int = 0) -> None:
        unit = 1000
        while duration_ns // unit >= 2**32 - 1:
            unit *= 10
        self.time_unit_ns = unit
        self.count = 0
        self._z = {name: zlib.compressobj(6) for name, _ in self.COLUMNS}
        self._parts: dict[str, list[bytes]] = {name: [] for name, _ in self.COLUMNS}

    def _put(self, name: str, arr: array[int]) -> None:
        if sys.byteorder != "little":
            arr.byteswap()
        data = self._z[name].compress(arr.tobytes())
        if data:
            self._parts[name].append(data)

    def extend(self, events: list[Event], node: list[int], edge: list[int]) -> None:
        """Append recorded events (Event tuples) with their node and edge indices."""
        unit = self.time_unit_ns
        top = 2**32 - 1
        kind, call_id, t_ns, depth, thread = list(zip(*events, strict=True))[1:6]  # the columns, transposed in C
        if max(thread) >= 65535:
            thread = tuple(v if v < 65535 else 65535 for v in thread)
        if max(depth) >= 65535:
            depth = tuple(v if v < 65535 else 65535 for v in depth)
        t = [v // unit for v in t_ns]
        if max(t) > top:
            t = [v if v < top else top for v in t]
        self._put("kind", array("B", kind))
        self._put("node", array("I", node))
        self._put("edge", array("i", edge))
        self._put("thread", array("H", thread))
        self._put("depth", array("H", depth))
        try:
            ids = array("I", call_id)
        except TypeError:  # None: a generator's call was not recorded (docs/snapshot.md): the step's own order
            ids = array("I", [e[0] if c is None else c for e, c in zip(events, call_id, strict=True)])
        self._put("call_id", ids)
        self._put("t", array("I", t))
        self.count += len(events)

    def extend_columns(self, count: int, columns: tuple[bytes | bytearray, ...]) -> None:
        """Append `count` steps given as little-endian column bytes in COLUMNS order (model/_aggregate.c)."""
        for (name, _), data in zip(self.COLUMNS, columns, strict=True):
            out = self._z[name].compress(data)
            if out:
                self._parts[name].append(out)
        self.count += count

    def __len__(self) -> int:
        return self.count

    def as_json(self, kinds: tuple[str, ...]) -> dict[str, Any]:
        columns: dict[str, dict[str, str]] = {}
        for name, dtype in self.COLUMNS:
            data = b"".join(self._parts[name]) + self._z[name].flush()
            columns[name] = {"dtype": dtype, "data": base64.b64encode(data).decode("ascii")}
        return {"count": self.count, "kinds": list(kinds), "time_unit_ns": self.time_unit_ns, "columns": columns}


def encode(arr: array[int]) -> str:
    if sys.byteorder != "little":
        arr = array(arr.typecode, arr)
        arr.byteswap()
    return base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode("ascii")


def decode(column: dict[str, Any]) -> array[int]:
    arr = array(_DTYPES[column["dtype"]])
    arr.frombytes(zlib.decompress(base64.b64decode(column["data"])))
    if sys.byteorder != "little":
        arr.byteswap()
    return arr
