"""The replay step list as compact typed columns (zlib + base64 in snapshot.json).

call_id and t are delta-encoded before zlib ("encoding": "delta": each value minus the one before it,
modulo 2**32, the first minus 0): they grow by small steps, so their deltas compress to a few KB where
the values took hundreds, and zlib then runs 3 to 20 times faster. Readers prefix-sum them (decode()).
"""

from __future__ import annotations

import base64
import sys
import zlib
from array import array
from itertools import accumulate
from typing import Any, ClassVar

from .. import native
from ..events.types import Event

_DTYPES = {"u8": "B", "u16": "H", "u32": "I", "i32": "i"}
_U32 = 2**32 - 1
_LANE_BIAS = b"\0\0\0\0\1\0\0\0"  # 2**32 in one little-endian 64-bit lane


def delta_u32(data: bytes | bytearray, prev: int) -> bytes:
    """Little-endian u32 values -> their deltas (v[i] - v[i-1] mod 2**32, v[-1] = prev), same layout.

    In C (model/_aggregate.c delta_u32) where it was compiled (StepColumns uses that); this is its twin.

    Without a per-value Python loop (that costs ~40 ns a value): the values are spread into 64-bit lanes
    of one big int X, and X + 2**32 per lane - (X shifted one lane up, prev in lane 0) leaves each lane
    at v[i] - v[i-1] + 2**32, in [1, 2**33): no borrow crosses lanes; its low 4 bytes are the delta.
    """
    n = len(data) // 4
    if n == 0:
        return b""
    bias, low = _lane_consts(n)
    lanes = bytearray(8 * n)
    for k in range(4):
        lanes[k::8] = data[k::4]
    x = int.from_bytes(lanes, "little")
    d = (x + bias - (((x & low) << 64) | prev)).to_bytes(8 * n, "little")
    out = bytearray(4 * n)
    for k in range(4):
        out[k::4] = d[k::8]
    return bytes(out)


_consts: dict[int, tuple[int, int]] = {}


def _lane_consts(n: int) -> tuple[int, int]:
    """2**32 in each of n 64-bit lanes, and the mask of the n - 1 low lanes (cached: batches repeat sizes)."""
    got = _consts.get(n)
    if got is None:
        if len(_consts) > 64:
            _consts.clear()
        got = _consts[n] = (int.from_bytes(_LANE_BIAS * n, "little"), (1 << (64 * n - 64)) - 1)
    return got


def _native_delta_u32() -> Any:
    mod = native.load("model._aggregate")
    return getattr(mod, "delta_u32", None) or delta_u32


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
    DELTA = ("call_id", "t")
    # zlib level per column, measured on call_heavy, mixed, rich and jinja2 runs (docs/snapshot.md): 1 on the
    # wide, noisy node/edge columns costs 2-5x less CPU than 6 on real programs; the deltas make the rest small.
    LEVELS: ClassVar[dict[str, int]] = {"kind": 3, "node": 1, "edge": 1, "thread": 6, "depth": 3, "call_id": 3, "t": 3}

    def __init__(self, duration_ns: int = 0) -> None:
        unit = 1000
        while duration_ns // unit >= 2**32 - 1:
            unit *= 10
        self.time_unit_ns = unit
        self.count = 0
        self._z = {name: zlib.compressobj(self.LEVELS[name]) for name, _ in self.COLUMNS}
        self._parts: dict[str, list[bytes]] = {name: [] for name, _ in self.COLUMNS}
        self._last = dict.fromkeys(self.DELTA, 0)  # the last value of each delta column
        self._delta = _native_delta_u32()  # C where compiled, else delta_u32 here

    def _put(self, name: str, data: bytes | bytearray) -> None:
        """Little-endian column bytes: delta-encoded if the column is, then compressed."""
        if name in self._last and data:
            last = int.from_bytes(data[-4:], "little")
            data = self._delta(data, self._last[name])
            self._last[name] = last
        out = self._z[name].compress(data)
        if out:
            self._parts[name].append(out)

    @staticmethod
    def _le(arr: array[int]) -> bytes:
        if sys.byteorder != "little":
            arr.byteswap()
        return arr.tobytes()

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
        le = self._le
        self._put("kind", le(array("B", kind)))
        self._put("node", le(array("I", node)))
        self._put("edge", le(array("i", edge)))
        self._put("thread", le(array("H", thread)))
        self._put("depth", le(array("H", depth)))
        try:
            ids = array("I", call_id)
        except TypeError:  # None: a generator's call was not recorded (docs/snapshot.md): the step's own order
            ids = array("I", [e[0] if c is None else c for e, c in zip(events, call_id, strict=True)])
        self._put("call_id", le(ids))
        self._put("t", le(array("I", t)))
        self.count += len(events)

    def extend_columns(self, count: int, columns: tuple[bytes | bytearray, ...]) -> None:
        """Append `count` steps given as little-endian column bytes in COLUMNS order (model/_aggregate.c)."""
        for (name, _), data in zip(self.COLUMNS, columns, strict=True):
            self._put(name, data)
        self.count += count

    def __len__(self) -> int:
        return self.count

    def as_json(self, kinds: tuple[str, ...]) -> dict[str, Any]:
        columns: dict[str, dict[str, str]] = {}
        for name, dtype in self.COLUMNS:
            data = b"".join(self._parts[name]) + self._z[name].flush()
            columns[name] = {"dtype": dtype, "data": base64.b64encode(data).decode("ascii")}
            if name in self._last:
                columns[name]["encoding"] = "delta"
        return {"count": self.count, "kinds": list(kinds), "time_unit_ns": self.time_unit_ns, "columns": columns}


def encode(arr: array[int]) -> str:
    if sys.byteorder != "little":
        arr = array(arr.typecode, arr)
        arr.byteswap()
    return base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode("ascii")


def decode(column: dict[str, Any]) -> array[int]:
    """One column's values; a delta-encoded one ("encoding": "delta", u32 only) prefix-summed."""
    arr = array(_DTYPES[column["dtype"]])
    arr.frombytes(zlib.decompress(base64.b64decode(column["data"])))
    if sys.byteorder != "little":
        arr.byteswap()
    encoding = column.get("encoding")
    if encoding == "delta":
        arr = array(arr.typecode, [v & _U32 for v in accumulate(arr)])
    elif encoding is not None:
        raise ValueError(f"step column encoding {encoding!r} is unknown: upgrade skeleton-replay")
    return arr
