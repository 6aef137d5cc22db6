"""The replay step list as compact typed columns (zlib + base64 in snapshot.json)."""
from __future__ import annotations

import base64
import sys
import zlib
from array import array

_DTYPES = {"u8": "B", "u16": "H", "u32": "I", "i32": "i"}


class StepColumns:
    def __init__(self) -> None:
        self.kind = array("B")
        self.node = array("I")
        self.edge = array("i")
        self.thread = array("H")
        self.depth = array("H")
        self.call_id = array("I")
        self.t_ns = array("q")

    def add(self, kind: int, node: int, edge: int, thread: int, depth: int, call_id: int, t_ns: int) -> None:
        self.kind.append(kind)
        self.node.append(node)
        self.edge.append(edge)
        self.thread.append(thread if thread < 65535 else 65535)
        self.depth.append(depth if depth < 65535 else 65535)
        self.call_id.append(call_id)
        self.t_ns.append(t_ns)

    def extend(self, events: list, node: list[int], edge: list[int]) -> None:
        """Append recorded events (Event tuples) with their node and edge indices."""
        self.kind.extend([e[1] for e in events])
        self.node.extend(node)
        self.edge.extend(edge)
        self.thread.extend([e[5] if e[5] < 65535 else 65535 for e in events])
        self.depth.extend([e[4] if e[4] < 65535 else 65535 for e in events])
        self.call_id.extend([e[2] for e in events])
        self.t_ns.extend([e[3] for e in events])

    def __len__(self) -> int:
        return len(self.kind)

    def as_json(self, kinds: tuple[str, ...]) -> dict:
        last = self.t_ns[-1] if len(self.t_ns) else 0
        unit = 1000
        while last // unit >= 2**32:
            unit *= 10
        t = array("I", [x // unit for x in self.t_ns])
        cols = {
            "kind": ("u8", self.kind), "node": ("u32", self.node), "edge": ("i32", self.edge),
            "thread": ("u16", self.thread), "depth": ("u16", self.depth), "call_id": ("u32", self.call_id),
            "t": ("u32", t),
        }
        return {
            "count": len(self.kind),
            "kinds": list(kinds),
            "time_unit_ns": unit,
            "columns": {name: {"dtype": dt, "data": encode(arr)} for name, (dt, arr) in cols.items()},
        }


def encode(arr: array) -> str:
    if sys.byteorder != "little":
        arr = array(arr.typecode, arr)
        arr.byteswap()
    return base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode("ascii")


def decode(column: dict) -> array:
    arr = array(_DTYPES[column["dtype"]])
    arr.frombytes(zlib.decompress(base64.b64decode(column["data"])))
    if sys.byteorder != "little":
        arr.byteswap()
    return arr
