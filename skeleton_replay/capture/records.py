"""The compact record stream written by the tracer (the spill file).

The hot path appends small tuples; every CHUNK records they are marshalled and
written to the spill file as one length-prefixed chunk. Post-processing
(skeleton_replay.events) turns this stream into typed events. Kinds:

  event records   (kind, code_index, thread, t_ns, detail, extra)
    CALL      detail = args summary or None;  extra = receiver object id (0 if none)
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
    AGGREGATE     (AGGREGATE, {((idx, obj), (idx, obj)): calls}, {same keys: raised})
                  calls past the event cap, counted per caller -> callee (written last)
"""
from __future__ import annotations

import marshal
import os
import struct
from typing import BinaryIO, Iterator

CALL, RETURN, UNWIND, YIELD, RESUME = 0, 1, 2, 3, 4
DEF_CODE, DEF_THREAD, DEF_OBJECT, GAP, AGGREGATE = -1, -2, -3, -4, -5

CHUNK = 32_768
_LEN = struct.Struct("<I")
SPILL_MAGIC = b"SKSPILL1"


class SpillWriter:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._f: BinaryIO = open(path, "wb")
        self._f.write(SPILL_MAGIC)
        self._f.flush()
        self.bytes_written = len(SPILL_MAGIC)

    def write(self, records: list) -> None:
        data = marshal.dumps(records)
        self._f.write(_LEN.pack(len(data)) + data)
        self._f.flush()  # a chunk at a time: what was flushed survives kill -9 and os._exit
        self.bytes_written += 4 + len(data)

    def flush(self) -> None:
        self._f.flush()

    def detach(self) -> None:
        """In a forked child: let go of the parent's file without writing to it.

        The fork hooks hold the flush lock, so the file's buffer is empty (each chunk is
        flushed whole) and closing the child's copy of the descriptor writes nothing.
        """
        self.write = self.flush = lambda *a: None  # type: ignore[method-assign]
        try:
            self._f.close()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if not self._f.closed:
            self._f.close()


def read_spill(path: str | os.PathLike[str]) -> Iterator[list]:
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
