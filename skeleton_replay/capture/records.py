"""The compact record stream written by the tracer (the spill file).

The layout of the records (kinds, the position of each field, node keys) is defined once, in
layout.py (which generates _layout.h for the C code); this module re-exports its kinds.

The hot path appends small tuples; every CHUNK records they are marshalled and
written to the spill file as one length-prefixed chunk. Post-processing
(skeleton_replay.events) turns this stream into typed events. Kinds:

  event records   (kind, code_index, thread, t_ns, detail, extra)
              a summary (detail) is the JSON text trace.jsonl holds for it, as bytes (recorder.as_json)
    CALL      detail = args summary or None;  extra = receiver object id (0 if none)
              an edge's first call recorded while counting (capture/budget.py) has an 8th item: its
              caller's node key (records.split_node_key; MODULE_KEY: a module body), the 7th is then
              the frame key or None
    RETURN    detail = return summary or None
    UNWIND    detail = exception summary
    YIELD     detail = yielded value summary or None
    RESUME    detail = thrown exception summary (PY_THROW) or None
              for generators/coroutines a 7th item holds the frame key
  definition records (negative kinds)
    DEF_CODE      (DEF_CODE, CodeInfo.as_record())
    DEF_THREAD    (DEF_THREAD, thread, name)
    DEF_OBJECT    (DEF_OBJECT, object_id, module, qualname, is_class)
    GAP           (GAP, kind, message, count)
    AGGREGATE     (AGGREGATE, {((idx, obj), (idx, obj)): calls}, {same keys: raised}, scenario, resumed)
                  calls past the budgets, counted per caller -> callee, written at the end
                  of each scenario (then scenario = its name) and at the end of the run; the
                  caller is () for calls made by a module body (at import time). Each counted
                  call is 2 events; resumed = the other events of counted generators (counting.py)
    SCENARIO      (SCENARIO, name, info) a scenario (a pytest test, a traced block) begins;
                  info = {"kind", "file", "line"}. Events up to SCENARIO_END belong to it.
    SCENARIO_END  (SCENARIO_END, name, info) it ended; info = {"outcome", "duration_s", "message"}
    BOUNDARY      (BOUNDARY, n, code_index, object_id, kind, target, op, detail) the first time a traced
                  callable did this I/O (capture/boundaries.py); n numbers it for BOUNDARY_COUNTS
    BOUNDARY_COUNTS (BOUNDARY_COUNTS, {n: times seen after the first}) written when the capture stops
    CREATION      (CREATION, op, ...) a project object's creation and its creator (capture/creations.py)
"""

from __future__ import annotations

import marshal
import os
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

from .. import safefiles

# The record layout (kinds, positions, node keys, packed edges) is defined once, in layout.py; re-exported here.
from .layout import (
    AGGREGATE,
    BOUNDARY,
    BOUNDARY_COUNTS,
    CALL,
    CREATION,
    DEF_CODE,
    DEF_OBJECT,
    DEF_THREAD,
    EDGE_MASK,
    EDGE_SHIFT,
    GAP,
    MODULE_KEY,
    NODE_KEY_SPAN,
    RESUME,
    RETURN,
    SCENARIO,
    SCENARIO_END,
    UNWIND,
    YIELD,
    split_node_key,
)
from .origin import foreign

__all__ = [
    "AGGREGATE",
    "BOUNDARY",
    "BOUNDARY_COUNTS",
    "CALL",
    "CHUNK",
    "CREATION",
    "DEF_CODE",
    "DEF_OBJECT",
    "DEF_THREAD",
    "EDGE_MASK",
    "EDGE_SHIFT",
    "GAP",
    "MODULE_KEY",
    "NODE_KEY_SPAN",
    "RESUME",
    "RETURN",
    "SCENARIO",
    "SCENARIO_END",
    "SPILL_MAGIC",
    "UNWIND",
    "YIELD",
    "SpillWriter",
    "read_spill",
    "split_node_key",
]

CHUNK = 32_768


_LEN = struct.Struct("<I")
SPILL_MAGIC = b"SKSPILL1"


class SpillWriter:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        # Unbuffered: each chunk goes to the file whole, and a failed write leaves nothing
        # behind in a buffer that could be written later (after a fork, at close).
        self._f: BinaryIO = safefiles.open_new(path, buffering=0)  # private; a planted link is replaced
        self._write_all(SPILL_MAGIC)
        self.bytes_written = len(SPILL_MAGIC)
        self.error: OSError | None = None  # the first failed write (disk full, folder gone...)
        self.records_lost = 0
        self._torn: tuple[list[Any], bytes] | None = None  # (records, chunk) of a write the program interrupted

    def write(self, records: list[Any]) -> None:
        if self.error is not None:
            self.records_lost += len(records)
            return
        # A signal handler's exception can come between any two calls here (Buffer.flush then writes the records
        # again if the file did not move on). So a chunk goes where the file ends now, not where the count says
        # (an exception after the last write left the count behind: cutting back to it took a whole chunk off),
        # and a torn chunk is written again with the same bytes (a new marshal of the same records may differ in
        # its reference flags, under the post-processing worker that may have read the torn part already).
        torn = self._torn
        self._torn = None
        chunk = torn[1] if torn is not None and torn[0] is records else _chunk(records)
        start = self._f.tell()
        try:
            self._write_all(chunk)  # a chunk at a time: survives kill -9 and os._exit
        except BaseException as exc:
            if not isinstance(exc, OSError) or (exc.errno is None and foreign(exc)):
                # Not a write error (a failed write has an errno), e.g. the program's: a signal handler's
                # TimeoutError is an OSError too. Cut the chunk off, for the caller to write again; let it go on.
                self._torn = (records, chunk)
                self._cut(start)
                raise
            # Disk full, folder gone...: cut the torn chunk off (giving its space back) and write no
            # more, so the file stays readable up to the last whole chunk.
            self.error = exc
            self.records_lost += len(records)
            self._cut(start)
            return
        self.bytes_written = start + len(chunk)

    def _cut(self, size: int) -> None:
        """Give back what a torn chunk wrote: the file ends at the last whole chunk."""
        try:  # the position first: interrupted in between, the next chunk still goes where it belongs
            self._f.seek(size)
            os.ftruncate(self._f.fileno(), size)
        except (OSError, ValueError):
            pass
        self.bytes_written = size

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._f.write(view)
            view = view[n:]

    def flush(self) -> None:
        pass  # unbuffered: every chunk is already in the file

    def detach(self) -> None:
        """In a forked child: let go of the parent's file without writing to it.

        The file is unbuffered, so closing the child's copy of the descriptor writes nothing.
        """
        # instance attributes shadow the methods: a no-op taking any arguments
        self.write = self.flush = lambda *a: None  # type: ignore[method-assign, assignment]
        try:
            self._f.close()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if not self._f.closed:
            try:
                self._f.close()
            except OSError as exc:
                self.error = self.error or exc


def _chunk(records: list[Any]) -> bytes:
    data = marshal.dumps(records)
    return _LEN.pack(len(data)) + data


def read_spill(path: str | os.PathLike[str]) -> Iterator[list[Any]]:
    """Yield the record chunks of a spill file; stops quietly at a truncated tail."""
    with open(path, "rb") as f:
        magic = f.read(len(SPILL_MAGIC))
        if not magic:
            return  # killed before anything was written
        if magic != SPILL_MAGIC:
            raise ValueError(f"{path}: not a Skeleton spill file")
        while True:
            head = f.read(4)
            if len(head) < 4:
                return
            (n,) = _LEN.unpack(head)
            data = f.read(n)
            if len(data) < n:
                return
            yield marshal.loads(data)
