"""The Recorder's record buffer and its flushes to the spill file (capture/records.py)."""

from __future__ import annotations

import marshal
import os

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import BaseException, Exception, ValueError, bytes, len, range, type
from collections.abc import Callable
from typing import Any

from . import records as R
from .origin import foreign

_type = type
# While tracemalloc traces, the record buffer is flushed every SMALL_CHUNK records: records are Python
# objects, and a program that bounds its own memory growth with tracemalloc must not see them pile up.
SMALL_CHUNK = 256
try:
    from _tracemalloc import is_tracing as _tracemalloc_on
except ImportError:  # pragma: no cover - CPython always has it

    def _tracemalloc_on() -> bool:
        return False


class Buffer:
    """The buffer half of the Recorder: records are appended by the hot path, written here in chunks."""

    buf: list[Any]
    spill: R.SpillWriter
    records: int  # written to the spill so far (events and definitions)
    definitions: int  # DEF_* (negative kind) records appended so far, written or not
    pid: int
    gap: Callable[..., None]
    # A flush is running (in some thread). A flag and not a lock: the program's exception (a signal handler's)
    # can come between any two calls, and a lock taken just before it was never released: every later flush
    # returned at once and the rest of the run's records were lost. Set and read with no call in between
    # (no thread switch, no signal handler there), reset in the `finally` that covers every call.
    _flushing: bool = False

    def chunk_size(self) -> int:
        return SMALL_CHUNK if _tracemalloc_on() else R.CHUNK

    def events_appended(self) -> int:
        """Event records appended so far (written or in the buffer): what the budgets count."""
        return self.records + len(self.buf) - self.definitions

    def apply_budget(self) -> None:  # capture/budget.py
        raise NotImplementedError

    def flush(self) -> None:
        # Other threads may append while we write: take a prefix, delete exactly it.
        if os.getpid() != self.pid:
            return  # a forked child: the spill is the parent's
        records = pos = None
        if self._flushing:
            return  # another thread is flushing, or this one is (a signal handler's traced code)
        try:
            self._flushing = True
            pos = self._spill_pos()
            buf = self.buf
            n = len(buf)
            if n:
                records, buf[:n] = buf[:n], []  # one statement: taken and removed, or neither
                self.records += n
                self.apply_budget()  # record or count from here on, and when to flush next
                self._write(records)
                records = None
        except BaseException as exc:
            # Interrupted (a signal handler) after taking the records: write them, unless they are written
            # (the file moved on: the exception came after the write).
            if records is not None and pos is not None and self._spill_pos() == pos:
                self._write(records)
            if foreign(exc):
                raise
            self.gap("tracer_error", f"flushing records: {_type(exc).__name__}")
        finally:
            self._flushing = False

    def _spill_pos(self) -> int | None:
        try:
            return self.spill._f.tell()
        except Exception as exc:
            if foreign(exc):
                raise
            return None

    def _write(self, records: list[Any]) -> None:
        """Write a chunk; a record that cannot be marshalled never takes the good ones with it.

        Items of `records` that are the places of rows the C hooks queued (SpillWriter.is_place) stay in place:
        the packer takes their rows; where the records are lost, their rows are dropped with them.
        """
        spill = self.spill
        try:
            spill.write(records)
            return
        except ValueError as exc:  # marshal: an unmarshallable value slipped into a record
            if foreign(exc):
                raise
            if spill.packed(records):  # not marshal's: they were packed (the file failed after)
                self.gap("tracer_error", f"writing the spill file: {_type(exc).__name__}")
                return
        except Exception as exc:
            if foreign(exc):
                raise
            self.gap("tracer_error", f"writing the spill file: {_type(exc).__name__}")
            spill.drop_rows(records)
            return
        good, bad = [], 0
        for r in records:
            if spill.is_place(r):
                good.append(r)
                continue
            try:
                marshal.dumps(r)
                good.append(r)
            except ValueError:
                fixed = plain_record(r)
                if fixed is None:
                    bad += 1
                else:
                    good.append(fixed)
        if bad:
            self.gap("tracer_error", "a record held a value that cannot be stored: it was left out", bad)
        try:
            spill.write(good)
        except Exception as exc:
            if foreign(exc):
                raise
            self.gap("tracer_error", f"writing the spill file: {_type(exc).__name__}")
            spill.drop_rows(good)

    @staticmethod
    def holds(buf: list[Any], record: Any) -> bool:
        """Is this very record (by identity) in the buffer? (after an interrupted append)"""
        for r in buf:  # noqa: SIM110 - no generator frame in a path a signal handler may interrupt
            if r is record:
                return True
        return False

    @staticmethod
    def drop(buf: list[Any], record: Any) -> None:
        """Remove this very record (by identity) from the buffer, if there."""
        for i in range(len(buf) - 1, -1, -1):
            if buf[i] is record:
                del buf[i]
                return


PLACEHOLDER = b'{"type":"?","note":"summary could not be stored"}'  # records carry summaries as JSON bytes


def _storable(value: Any) -> bool:
    try:
        marshal.dumps(value)
    except ValueError:
        return False
    return True


def plain_record(r: Any) -> tuple[Any, ...] | None:
    """An event record with its summary replaced by a placeholder, if that makes it storable.

    A summary is JSON bytes (recorder.as_json), always storable: anything else in its place is replaced.
    """
    if _type(r) is not tuple or len(r) < 6 or _type(r[0]) is not int or r[0] < 0:
        return None
    detail = r[4]
    if detail is not None and _type(detail) is not bytes:
        detail = PLACEHOLDER
    fixed = (*r[:4], detail, *r[5:])
    return fixed if _storable(fixed) else None
