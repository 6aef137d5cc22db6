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
from collections.abc import Callable, Iterator
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
    ROW_CALLER,
    ROW_DETAIL,
    ROW_FRAME,
    ROW_FRAME_NONE,
    ROW_OTHER,
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
    "pack_records",
    "read_chunks",
    "read_spill",
    "split_node_key",
    "unpack_records",
]

CHUNK = 32_768


_LEN = struct.Struct("<I")
SPILL_MAGIC = b"SKSPILL2"  # chunks packed (pack_records)
SPILL_MAGIC_MARSHAL = b"SKSPILL1"  # the format before: each chunk a marshalled list of records (still read)


class SpillWriter:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        # Unbuffered: each chunk goes to the file whole, and a failed write leaves nothing
        # behind in a buffer that could be written later (after a fork, at close).
        self._f: BinaryIO = safefiles.open_new(path, buffering=0)  # private; a planted link is replaced
        # Packed chunks where the C packer runs; the pure-Python callbacks keep marshalled lists (SKSPILL1): a
        # Python packing loop inside a callback would be a long window for a signal handler's exception there,
        # where marshal.dumps is one C call. The decoder reads both.
        # The rows the C hooks queue (no tuple per event: _rows.h SkRowQueue) are the C packer's: `_rows` is its
        # module (RowQueue, drop_rows...), None where records are marshalled in Python.
        self._rows = _c_spill()
        self._pack = self._rows.pack_records if self._rows is not None else None
        self._write_all(SPILL_MAGIC if self._pack is not None else SPILL_MAGIC_MARSHAL)
        self.bytes_written = len(SPILL_MAGIC)
        self.error: OSError | None = None  # the first failed write (disk full, folder gone...)
        self.records_lost = 0
        self._torn: tuple[list[Any], bytes] | None = None  # (records, chunk) of a write the program interrupted

    def row_queue(self) -> Any | None:
        """A new queue for the C hooks' rows (packed by this writer), or None: the hooks append tuples."""
        return self._rows.RowQueue() if self._rows is not None else None

    def is_place(self, item: Any) -> bool:
        """Is this buffer item the place of a queued row (the queue itself), not a record?"""
        return self._rows is not None and type(item) is self._rows.RowQueue

    def packed(self, records: list[Any]) -> bool:
        """Were these records packed already (by the write a signal handler's exception interrupted)?"""
        return self._rows is not None and bool(self._rows.packed_last(records))

    def drop_rows(self, records: list[Any]) -> None:
        """These records are lost: the queued rows whose places they hold go with them."""
        if self._rows is not None:
            self._rows.drop_rows(records)

    def write(self, records: list[Any]) -> None:
        if self.error is not None:
            self.records_lost += len(records)
            self.drop_rows(records)
            return
        # A signal handler's exception can come between any two calls here (Buffer.flush then writes the records
        # again if the file did not move on). So a chunk goes where the file ends now, not where the count says
        # (an exception after the last write left the count behind: cutting back to it took a whole chunk off),
        # and a torn chunk is written again with the same bytes (a new marshal of the same records may differ in
        # its reference flags, under the post-processing worker that may have read the torn part already).
        torn = self._torn
        self._torn = None
        chunk = torn[1] if torn is not None and torn[0] is records else self._chunk(records)
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

    def _chunk(self, records: list[Any]) -> bytes:
        data = self._pack(records) if self._pack is not None else marshal.dumps(records)
        return _LEN.pack(len(data)) + data

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
        if self._rows is not None:
            self._rows.forget_chunk()  # the last chunk and its records, kept for a write again
        if not self._f.closed:
            try:
                self._f.close()
            except OSError as exc:
                self.error = self.error or exc


def _c_spill() -> Any | None:
    """The C module that packs chunks and queues the hooks' rows (_speedups) where compiled and wanted, else None."""
    from .. import native  # here, not at import: SKELETON_PURE_PYTHON may change between two runs of one process

    return native.load("capture._speedups")


def _packer() -> Callable[[list[Any]], bytes] | None:
    """The C packer (_speedups.pack_records) where compiled and wanted, else None."""
    mod = _c_spill()
    fast: Callable[[list[Any]], bytes] | None = mod.pack_records if mod is not None else None
    return fast


# -- the packed chunk (layout.py: CHUNK_HEAD, ROW_*) ----------------------------------------------------------
_HEAD = struct.Struct("<II")  # records, length of others
_ROW = struct.Struct("<BBIIqq")  # tag, flags, code index, thread, t_ns, object: ROW_HEAD bytes
_I64 = struct.Struct("<q")
_U32 = _LEN
_U32_MAX = 0xFFFF_FFFF
_I64_MAX = 0x7FFF_FFFF_FFFF_FFFF
_I64_MIN = -_I64_MAX - 1


def _i64(v: Any) -> bool:
    return type(v) is int and _I64_MIN <= v <= _I64_MAX


def _row(r: Any) -> bytes | None:
    """An event record as a row, or None when it is not a plain one (it then goes to `others`, marshalled)."""
    if type(r) is not tuple or not 6 <= len(r) <= 8:
        return None
    kind, code, thread, t, detail, obj = r[:6]
    if type(kind) is not int or kind not in _EVENT_KINDS:
        return None
    if type(code) is not int or not 0 <= code <= _U32_MAX or type(thread) is not int or not 0 <= thread <= _U32_MAX:
        return None
    if not (_i64(t) and _i64(obj)) or (detail is not None and (type(detail) is not bytes or len(detail) > _U32_MAX)):
        return None
    flags = 0 if detail is None else ROW_DETAIL
    tail = b""
    if len(r) > 6:
        flags |= ROW_FRAME
        frame = r[6]
        if frame is None:
            flags |= ROW_FRAME_NONE
        elif _i64(frame):
            tail = _I64.pack(frame)
        else:
            return None
        if len(r) > 7:
            if not _i64(r[7]):
                return None
            flags |= ROW_CALLER
            tail += _I64.pack(r[7])
    row = _ROW.pack(kind, flags, code, thread, t, obj) + tail
    return row if detail is None else row + _U32.pack(len(detail)) + detail


_EVENT_KINDS = frozenset({CALL, RETURN, UNWIND, YIELD, RESUME})


def pack_records(records: list[Any]) -> bytes:
    """A chunk of records, packed (the pure-Python twin of _speedups.pack_records: the same rows). The spill of
    the pure-Python callbacks holds marshalled lists instead (SpillWriter); this serves tests and tools."""
    rows = bytearray()
    others = []
    for r in records:
        row = _row(r)
        if row is None:
            rows.append(ROW_OTHER)
            others.append(r)
        else:
            rows += row
    packed = marshal.dumps(others)  # ValueError: a value that cannot be stored (Buffer._write sorts it out)
    return _HEAD.pack(len(records), len(packed)) + packed + rows


def unpack_records(data: bytes) -> list[Any]:
    """The records of a packed chunk, each the very tuple that was packed (ValueError: not a whole chunk)."""
    n, size = _HEAD.unpack_from(data, 0)
    pos = _HEAD.size
    others = marshal.loads(data[pos : pos + size])
    pos += size
    out: list[Any] = []
    append = out.append
    j = 0
    row, i64, u32 = _ROW.unpack_from, _I64.unpack_from, _U32.unpack_from
    for _ in range(n):
        if data[pos] == ROW_OTHER:
            append(others[j])
            j += 1
            pos += 1
            continue
        kind, flags, code, thread, t, obj = row(data, pos)
        pos += _ROW.size
        frame = caller = None
        if flags & ROW_FRAME and not flags & ROW_FRAME_NONE:
            (frame,) = i64(data, pos)
            pos += 8
        if flags & ROW_CALLER:
            (caller,) = i64(data, pos)
            pos += 8
        detail = None
        if flags & ROW_DETAIL:
            (size,) = u32(data, pos)
            pos += 4
            detail = data[pos : pos + size]
            if len(detail) != size:
                raise ValueError("a packed chunk ends inside a row")
            pos += size
        if flags & ROW_CALLER:
            append((kind, code, thread, t, detail, obj, frame, caller))
        elif flags & ROW_FRAME:
            append((kind, code, thread, t, detail, obj, frame))
        else:
            append((kind, code, thread, t, detail, obj))
    if pos != len(data) or j != len(others):
        raise ValueError("a packed chunk's rows do not add up")
    return out


def packed_spill(magic: bytes, path: str | os.PathLike[str]) -> bool:
    """Does a spill with these magic bytes hold packed chunks (True) or marshalled lists (False)? ValueError: the
    file is no spill."""
    if magic not in (SPILL_MAGIC, SPILL_MAGIC_MARSHAL):
        raise ValueError(f"{path}: not a Skeleton spill file")
    return magic == SPILL_MAGIC


def stored_chunk(data: bytes, packed: bool) -> Any:
    """A chunk's bytes as read_chunks yields them: packed bytes as they are, a marshalled list loaded."""
    return data if packed else marshal.loads(data)


def read_chunks(path: str | os.PathLike[str]) -> Iterator[Any]:
    """The chunks of a spill file as they are stored, for the decoder (events/decode.py, which takes both kinds):
    packed bytes (SKSPILL2), or lists of records (a spill of the format before, SKSPILL1). Stops quietly at a
    truncated tail."""
    with open(path, "rb") as f:
        magic = f.read(len(SPILL_MAGIC))
        if not magic:
            return  # killed before anything was written
        packed = packed_spill(magic, path)
        while True:
            head = f.read(4)
            if len(head) < 4:
                return
            (n,) = _LEN.unpack(head)
            data = f.read(n)
            if len(data) < n:
                return
            yield stored_chunk(data, packed)


def load_chunk(data: Any) -> list[Any]:
    """A chunk of read_chunks as its list of records."""
    return unpack_records(data) if type(data) is bytes else data


def read_spill(path: str | os.PathLike[str]) -> Iterator[list[Any]]:
    """Yield the record chunks of a spill file, each a list of records; stops quietly at a truncated tail."""
    for data in read_chunks(path):
        yield load_chunk(data)
