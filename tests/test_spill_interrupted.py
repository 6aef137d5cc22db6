"""A signal handler's exception may interrupt a spill write at any point (capture/records.py SpillWriter.write,
retried by capture/buffer.py Buffer.flush): whatever the point, every chunk ends up in the file exactly once,
in order, and the bytes a reader of the growing file already read stay what they were.

Before, an interruption after the chunk was written but before the writer counted it left the count one chunk
short: the next interrupted write cut the file back to it, losing a whole chunk silently (a 3.13 run of the
signals test ended with "3 calls without their return": the trace stopped two chunks in). And a torn chunk was
written again from a new marshal of the same records, whose bytes can differ (reference flags follow reference
counts), under the post-processing worker that was already reading it.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import pytest

from skeleton_replay.capture import records as R
from skeleton_replay.capture.filters import CodeFilter
from skeleton_replay.capture.recorder import Recorder
from skeleton_replay.capture.summarise import Summariser

WRITER_CODE = {R.SpillWriter.write.__code__, R.SpillWriter._write_all.__code__, R.SpillWriter._cut.__code__}


class Interrupt(KeyboardInterrupt):
    """The program's exception (a BaseException: always the program's, never contained)."""


def _interrupt_at(n: int, codes: set[CodeType]) -> tuple[Callable[[FrameType, str, Any], Any], list[int]]:
    """A profile function that raises Interrupt at the n-th call or return made by code in `codes`: where a
    signal handler's exception surfaces (CPython runs handlers when a call starts or has returned)."""
    seen = [0]

    def prof(frame: FrameType, event: str, arg: Any) -> None:
        if event in ("c_call", "c_return"):
            mine = frame.f_code in codes
        else:
            mine = frame.f_back is not None and frame.f_back.f_code in codes and frame.f_code not in codes
        if mine:
            seen[0] += 1
            if seen[0] == n:
                raise Interrupt(n)

    return prof, seen


def _run(rec: Recorder, n: int, codes: set[CodeType]) -> int:
    """rec.flush(), interrupted at its n-th call or return in `codes` (0: never); the calls and returns seen."""
    prof, seen = _interrupt_at(n, codes)
    sys.setprofile(prof)
    try:
        rec.flush()
    except Interrupt:
        pass
    finally:
        sys.setprofile(None)
    return seen[0]


def _recorder(tmp_path: Path) -> Recorder:
    return Recorder(CodeFilter(tmp_path), Summariser(), R.SpillWriter(tmp_path / "spill"))


def _chunk(k: int) -> list[tuple[Any, ...]]:
    value = "v" * 40 + str(k)  # referenced once (by the summary): marshal writes no reference flag for it
    return [(R.CALL, 0, 1, 1000 + k, {"a": {"type": "str", "value": value}}, 0), (R.RETURN, 0, 1, 2000 + k, None, 0)]


def test_an_interrupted_spill_write_loses_and_repeats_nothing(tmp_path: Path) -> None:
    (tmp_path / "count").mkdir()
    rec = _recorder(tmp_path / "count")
    rec.buf.extend(_chunk(0))
    points = _run(rec, 0, WRITER_CODE)
    rec.spill.close()
    assert points >= 4
    for n, m in [(n, m) for n in range(1, points + 1) for m in range(1, points + 1)]:
        folder = tmp_path / f"at{n}-{m}"
        folder.mkdir()
        rec = _recorder(folder)
        spill = folder / "spill"
        expected = []
        rec.buf.extend(_chunk(0))
        rec.flush()
        expected.append(_chunk(0))
        for k, point in ((1, n), (2, m)):  # interrupted at point n, then the next write at point m
            rec.buf.extend(_chunk(k))
            _run(rec, point, WRITER_CODE)
            expected.append(_chunk(k))
            # a reader of the growing file (the post-processing worker) has read these bytes
            seen_before = spill.read_bytes()
            rec.buf.extend(_chunk(10 + k))
            rec.flush()
            expected.append(_chunk(10 + k))
            assert spill.read_bytes().startswith(seen_before), f"interrupted at {n}, {m}: bytes read changed"
        rec.spill.close()
        got = [[tuple(r) for r in c] for c in R.read_spill(spill)]
        assert got == expected, f"interrupted at {n}, {m} of {points}"
        assert rec.spill.bytes_written == spill.stat().st_size


@pytest.mark.parametrize("left", [1, 4])
def test_a_torn_chunk_is_written_again_with_the_same_bytes(tmp_path: Path, left: int) -> None:
    """The retry writes the bytes a reader may already have read, not a new marshal of the records."""
    spill = R.SpillWriter(tmp_path / "spill")
    records = _chunk(1)
    real = spill._f
    torn: list[bytes] = []

    class AlarmMidWrite:  # the alarm goes off after the first bytes of the chunk are in the file
        def write(self, view: memoryview) -> int:
            torn.append(bytes(view[: len(view) - left]))  # all but the last bytes
            real.write(view[: len(view) - left])
            raise Interrupt

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    spill._f = AlarmMidWrite()  # type: ignore[assignment]
    with pytest.raises(Interrupt):
        spill.write(records)
    spill._f = real
    hold = records[0][4]["a"]["value"]  # its reference count changes between the writes: marshal's flags would too
    spill.write(records)
    spill.close()
    data = (tmp_path / "spill").read_bytes()[len(R.SPILL_MAGIC):]
    assert data.startswith(torn[0])
    assert list(R.read_spill(tmp_path / "spill")) == [records]
    del hold


def test_a_flush_interrupted_anywhere_leaves_the_next_flush_working(tmp_path: Path) -> None:
    """An exception raised just after the flush took its lock left the lock held: every later flush returned at
    once ("another thread is flushing"), and the rest of the run's records were never written, silently (a 3.13
    run of the signals test with the setprofile C paths: 74,269 events recorded, an empty trace)."""
    codes = {Recorder.flush.__code__}
    (tmp_path / "count2").mkdir()
    rec = _recorder(tmp_path / "count2")
    rec.buf.extend(_chunk(0))
    points = _run(rec, 0, codes)
    rec.spill.close()
    assert points >= 5
    for n in range(1, points + 1):
        folder = tmp_path / f"flush{n}"
        folder.mkdir()
        rec = _recorder(folder)
        rec.buf.extend(_chunk(1))
        _run(rec, n, codes)
        rec.buf.extend(_chunk(2))
        rec.flush()
        rec.spill.close()
        got = [r for c in R.read_spill(folder / "spill") for r in c if r[0] >= 0]
        assert got == _chunk(1) + _chunk(2), f"interrupted at call {n} of {points} in flush: {len(got)} records"
