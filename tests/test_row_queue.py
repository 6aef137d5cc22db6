"""The rows the C hooks write (capture/_rows.h SkRowQueue): an event record goes into the queue as the row the packer
would have made of its tuple, and the queue itself holds the record's place in the buffer. Packing a buffer of
places and records gives the bytes that packing the tuples gives; a failed pack takes no row, a pack repeated
on the same list gives the same chunk, lost records drop their rows and nothing else; and a traced program's
garbage collector no longer sees an object per recorded event."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from native_runs import compiled_speedups

from skeleton_replay.capture import records as R

@pytest.fixture
def speedups() -> ModuleType:
    return compiled_speedups()


CALLS: list[Any] = [
    (R.CALL, 3, 1, 100, None, 0),
    (R.CALL, 4, 1, 101, b'{"a":{"type":"int","value":1}}', 7),
    (R.RETURN, 4, 1, 102, b"", 0),
    (R.YIELD, 5, 2, 103, None, 0, 140_000_000_000_000),
    (R.CALL, 6, 1, 104, None, 9, None, -(2**40)),
    (R.RETURN, 3, 1, 105, None, 0),
]
OTHER = (R.DEF_THREAD, 2, "worker")


def _rows(chunk: bytes) -> bytes:
    """A chunk's rows (its `others` are marshalled: marshal's reference flags may differ from one call to the next)."""
    n_others = int.from_bytes(chunk[4:8], "little")
    return chunk[:4] + chunk[8 + n_others :]


def _queued(speedups: ModuleType, records: list[Any]) -> tuple[Any, list[Any]]:
    """A queue holding the plain event records of `records` as rows, and the buffer with their places."""
    q = speedups.RowQueue()
    buf = [q if q.put(r) else r for r in records]
    return q, buf


def test_places_pack_to_the_bytes_of_the_tuples(speedups: ModuleType) -> None:
    records = [CALLS[0], OTHER, *CALLS[1:]]
    q, buf = _queued(speedups, records)
    assert len(q) == len(CALLS) and buf[1] is OTHER and sum(x is q for x in buf) == len(CALLS)
    chunk = speedups.pack_records(buf)
    assert _rows(chunk) == _rows(R.pack_records(records)) == _rows(speedups.pack_records(list(records)))
    assert len(q) == 0
    assert R.unpack_records(chunk) == records


def test_a_prefix_packs_its_own_rows_oldest_first(speedups: ModuleType) -> None:
    q, buf = _queued(speedups, CALLS)
    first, rest = buf[:2], buf[2:]
    assert R.unpack_records(speedups.pack_records(first)) == CALLS[:2]
    assert len(q) == len(CALLS) - 2
    assert q.put(CALLS[0])  # appended while the first chunk was written
    assert R.unpack_records(speedups.pack_records([*rest, q])) == [*CALLS[2:], CALLS[0]]
    assert len(q) == 0


def test_packing_the_same_list_again_gives_the_same_chunk(speedups: ModuleType) -> None:
    """Buffer.flush writes the records again when a signal handler's exception interrupted the write."""
    q, buf = _queued(speedups, CALLS)
    chunk = speedups.pack_records(buf)
    assert speedups.packed_last(buf) and not speedups.packed_last(list(buf))
    assert speedups.pack_records(buf) == chunk
    assert len(q) == 0
    speedups.drop_rows(buf)  # packed: nothing more goes
    q.put(CALLS[0])
    assert len(q) == 1
    speedups.forget_chunk()
    assert not speedups.packed_last(buf)


def test_a_failed_pack_takes_no_row(speedups: ModuleType) -> None:
    q, buf = _queued(speedups, CALLS[:2])
    with pytest.raises(ValueError):  # marshal cannot store an object(): the buffer sorts it out
        speedups.pack_records([buf[0], (R.GAP, "x", object(), 1), buf[1]])
    assert len(q) == 2
    assert R.unpack_records(speedups.pack_records(buf)) == CALLS[:2]


def test_more_places_than_rows_is_an_error_not_a_wrong_event(speedups: ModuleType) -> None:
    q, buf = _queued(speedups, CALLS[:1])
    with pytest.raises(RuntimeError, match="outnumber"):
        speedups.pack_records([q, q])
    assert len(q) == 1  # untouched


def test_lost_records_drop_their_rows_only(speedups: ModuleType) -> None:
    q, buf = _queued(speedups, CALLS)
    speedups.drop_rows(buf[:3])
    assert len(q) == 3
    assert R.unpack_records(speedups.pack_records(buf[3:])) == CALLS[3:]
    q.put(CALLS[0])
    q.clear()
    assert len(q) == 0


def test_the_buffer_keeps_places_when_it_sorts_out_a_bad_record(tmp_path: Path, speedups: ModuleType,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from skeleton_replay.capture.buffer import Buffer

    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    gaps: list[tuple[Any, ...]] = []
    b = Buffer()
    b.spill = R.SpillWriter(tmp_path / "spill")
    b.gap = lambda *a: gaps.append(a)
    q = b.spill.row_queue()
    assert q is not None
    q.put(CALLS[0])
    q.put(CALLS[2])
    b._write([q, OTHER, (R.GAP, "x", object(), 1), q])
    b.spill.close()
    assert list(R.read_spill(tmp_path / "spill")) == [[CALLS[0], OTHER, CALLS[2]]]
    assert gaps and gaps[0][0] == "tracer_error"
    assert len(q) == 0


def test_a_failed_spill_drops_the_rows_of_the_records_it_loses(tmp_path: Path, speedups: ModuleType,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    w = R.SpillWriter(tmp_path / "spill")
    q = w.row_queue()
    assert q is not None
    for r in CALLS[:3]:
        q.put(r)
    w.error = OSError(28, "No space left on device")
    w.write([q, OTHER, q])
    assert w.records_lost == 3 and len(q) == 1
    w.close()


GC_PROGRAM = """
    import gc, json, sys

    def leaf(i):
        return i

    def loop(n):
        for i in range(n):
            leaf(i)

    loop(10)  # warm: the code is decided
    gc.disable()
    gc.collect()
    before = gc.get_count()[0]
    loop(4000)
    after = gc.get_count()[0]
    print(json.dumps({"grew": after - before}), file=sys.stderr)
"""


def test_the_program_gc_sees_no_object_per_recorded_event(tmp_path: Path, speedups: ModuleType) -> None:
    """8,000 recorded events (call and return of leaf() 4,000 times): the program's generation-0 count grows by
    what the program allocates, not by a record per event (it grew by 8,000 with tuples)."""
    if sys.version_info < (3, 12):
        pytest.skip("3.11's profile hook hands frame objects to the profiler: the GC sees those anyway")
    (tmp_path / "pyproject.toml").write_text("[project]\nname='gcprog'\n")
    (tmp_path / "prog.py").write_text(textwrap.dedent(GC_PROGRAM))
    env = {k: v for k, v in os.environ.items() if k != "SKELETON_PURE_PYTHON"}
    out = subprocess.run(
        [sys.executable, "-m", "skeleton_replay", "run", "--no-open", "--no-html", "--max-events", "0",
         "--out-dir", str(tmp_path / "out"), str(tmp_path / "prog.py")],
        capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    grew = json.loads(next(line for line in out.stderr.splitlines() if line.startswith('{"grew"')))["grew"]
    trace = (tmp_path / "out" / "trace.jsonl").read_text().splitlines()
    leaf_calls = sum(1 for line in trace if '"event_type":"call"' in line and '"function":"leaf"' in line)
    assert leaf_calls == 4010  # every call recorded (--max-events 0)
    assert grew < 400, grew
