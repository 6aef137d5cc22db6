"""The spill's packed chunks (capture/layout.py: CHUNK_HEAD, ROW_*): the C packer (_speedups.pack_records, in
capture/_rows.h) writes the rows the pure-Python packer writes, unpacking gives back the very records that were
packed, as marshal gave them back before (types included: a bool, a str, an int past 64 bits or an unknown kind
is no row: it travels marshalled),
the C decoder reads a packed chunk as it reads the list, a damaged chunk is an error and not a wrong event, a
spill of the format before is still read, and a record marshal cannot store is still sorted out by the buffer."""
from __future__ import annotations

import importlib
import marshal
import random
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from native_runs import compiled_speedups, require_compiled

from skeleton_replay.capture import layout as L
from skeleton_replay.capture import records as R

try:
    _decode: ModuleType | None = importlib.import_module("skeleton_replay.events._decode")
except ImportError:  # not compiled
    _decode = None

BIG = 2**63 - 1
EDGY: list[Any] = [
    (R.CALL, 0, 0, 0, None, 0),
    (R.CALL, 7, 1, 10**18, b'{"x":{"type":"int","value":1}}', 42),
    (R.RETURN, 7, 1, 10**18 + 5, b"", 0),  # an empty summary is not None
    (R.UNWIND, 2**32 - 1, 2**32 - 1, -BIG - 1, b"\x00\xff" * 300, -1),
    (R.YIELD, 3, 2, BIG, None, 0, 140_000_000_000_000),
    (R.RESUME, 3, 2, 5, b"x", 0, None),
    (R.CALL, 4, 1, 6, None, 9, None, L.MODULE_KEY),
    (R.CALL, 4, 1, 6, None, 9, -5, -(2**40)),
    (R.DEF_CODE, ("m", "f", 1)),
    (R.DEF_THREAD, 1, "MainThread"),
    (R.GAP, "tracer_error", "x", 3),
    (R.AGGREGATE, {((1, 0), (2, 0)): 5}, {}, None, 0),
    # no rows: these travel in `others`, as they are
    (R.CALL, 2**32, 1, 1, None, 0),  # a code index past u32
    (R.CALL, 1, -1, 1, None, 0),  # a negative thread
    (R.CALL, 1, 1, 2**64, None, 0),  # a time past i64
    (R.CALL, 1, 1, 1, None, True),  # a bool is no int here
    (R.CALL, 1, 1, 1, "text", 0),  # a str summary
    (R.CALL, 1, 1, 1, bytearray(b"x"), 0),
    (R.RETURN, 1, 1, 1, None, 0, "frame"),
    (R.CALL, 1, 1, 1, None, 0, None, None),  # no caller key
    (R.CALL, 1, 1, 1, None),  # too short
    (R.CALL, 1, 1, 1, None, 0, 1, 2, 3),  # too long
    (7, 1, 1, 1, None, 0),  # no event kind
    [R.CALL, 1, 1, 1, None, 0],  # a list, not a tuple
]


def _random_records(seed: int, n: int = 3000) -> list[Any]:
    rng = random.Random(seed)
    out: list[Any] = []
    for _ in range(n):
        kind = rng.choice((R.CALL, R.RETURN, R.UNWIND, R.YIELD, R.RESUME, R.DEF_THREAD, 9))
        if kind == R.DEF_THREAD:
            out.append((kind, rng.randrange(5), f"t{rng.randrange(9)}"))
            continue
        detail = rng.choice((None, b"", rng.randbytes(rng.randrange(1, 80))))
        rec = [kind, rng.randrange(2**rng.choice((8, 20, 33))), rng.randrange(2**rng.choice((2, 32, 33))),
               rng.randrange(-(2**64), 2**64), detail, rng.randrange(-(2**64), 2**64)]
        if rng.random() < 0.3:
            rec.append(rng.choice((None, rng.randrange(2**63))))
            if rng.random() < 0.5:
                rec.append(rng.randrange(-(2**63), 2**63))
        out.append(tuple(rec))
    return out


def _rows(chunk: bytes) -> bytes:
    """A packed chunk's rows (what follows `others`, whose marshal may differ in reference flags)."""
    _, size = struct.unpack_from("<II", chunk)
    return chunk[L.CHUNK_HEAD + size :]


def _same(a: list[Any], b: list[Any]) -> bool:
    """Equal, item types included (True == 1 and 1.0 == 1 would pass ==)."""
    return repr(a) == repr(b) and all(type(x) is type(y) for x, y in zip(a, b, strict=True))


@pytest.fixture
def native_decode(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """events/_decode.c, configured (the Decoder's loader does it), whatever SKELETON_PURE_PYTHON says."""
    from skeleton_replay.events.decode import _native_loop

    require_compiled(_decode, "events/_decode.c")
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    loop = _native_loop()
    assert loop is not None and loop is _decode
    return loop


@pytest.fixture
def speedups() -> ModuleType:
    return compiled_speedups()


@pytest.mark.parametrize("seed", [None, 1, 2, 3])
def test_packing_gives_back_the_records_and_c_writes_the_same_rows(speedups: ModuleType, seed: int | None) -> None:
    records = EDGY if seed is None else _random_records(seed)
    py, c = R.pack_records(records), speedups.pack_records(records)
    assert _rows(c) == _rows(py)
    assert marshal.loads(c[L.CHUNK_HEAD : len(c) - len(_rows(c))]) == marshal.loads(
        py[L.CHUNK_HEAD : len(py) - len(_rows(py))]
    )
    before = marshal.loads(marshal.dumps(records))  # what the spill gave back before packing (a bytearray: bytes)
    for packed in (py, c):
        assert _same(R.unpack_records(packed), before)
    n_rows = sum(1 for r in records if R._row(r) is not None)
    assert 0 < n_rows < len(records)  # both ways taken
    assert len(marshal.loads(py[L.CHUNK_HEAD : len(py) - len(_rows(py))])) == len(records) - n_rows


def test_edgy_records_take_the_way_they_should() -> None:
    rows = [R._row(r) is not None for r in EDGY]
    assert rows == [True] * 8 + [False] * (len(EDGY) - 8)


def test_an_empty_chunk(speedups: ModuleType) -> None:
    for pack in (R.pack_records, speedups.pack_records):
        assert R.unpack_records(pack([])) == []


def test_the_c_decoder_reads_a_packed_chunk_as_the_list(native_decode: ModuleType) -> None:
    """Records as the tracer writes them: decoded from the packed chunk in C, from the list in Python: the same."""
    from skeleton_replay.events.decode import Decoder

    loop = native_decode
    records = [
        (R.DEF_THREAD, 1, "MainThread"),
        *[(R.DEF_CODE, rec) for rec in _code_records()],
        (R.CALL, 0, 1, 1000, None, 0),
        (R.CALL, 1, 1, 1001, b'{"a":{"type":"int","value":1}}', 0),
        (R.RETURN, 1, 1, 1003, b'{"type":"None"}', 0),
        (R.CALL, 2, 1, 1004, None, 0, 77),
        (R.YIELD, 2, 1, 1005, b'{"type":"int","value":2}', 0, 77),
        (R.RESUME, 2, 1, 1006, None, 0, 77),
        (R.RETURN, 2, 1, 1007, None, 0, 77),
        (R.RETURN, 0, 1, 1010, None, 0),
    ]
    got = []
    for chunk, native in ((records, None), (R.pack_records(records), loop)):
        d = Decoder(0)
        d._native = native
        got.append(repr([list(batch) for batch in d.batches([chunk])]))
    assert got[0] == got[1]
    assert got[0].count("Event(") == 8


def _code_records() -> list[Any]:
    """DEF_CODE payloads for three functions, as the tracer writes them (CodeInfo.as_record)."""
    from skeleton_replay.capture.filters import CodeInfo

    return [
        CodeInfo(i, "app", f"f{i}", f"f{i}", None, "app.py", i + 1, "module_function", False,
                 ("a",) if i == 1 else (), None, i == 2).as_record()
        for i in range(3)
    ]


@pytest.mark.parametrize("cut", [1, 7, 20, 40, -1])
def test_a_damaged_chunk_is_an_error_not_a_wrong_event(native_decode: ModuleType, cut: int) -> None:
    from skeleton_replay.events.decode import Decoder

    records = [(R.DEF_THREAD, 1, "T"), *[(R.DEF_CODE, rec) for rec in _code_records()],
               (R.CALL, 1, 1, 5, b'{"a":{"type":"int","value":1}}', 0), (R.RETURN, 1, 1, 6, None, 0)]
    packed = R.pack_records(records)
    damaged = packed[:cut]
    with pytest.raises((ValueError, EOFError, struct.error)):
        R.unpack_records(damaged)
    with pytest.raises((ValueError, EOFError)):
        native_decode.decode_chunk(Decoder(0), damaged, [])


def test_a_spill_of_the_format_before_is_still_read(tmp_path: Path) -> None:
    records = [[(R.DEF_THREAD, 1, "T"), (R.CALL, 0, 1, 5, None, 0)], [(R.RETURN, 0, 1, 6, None, 0)]]
    old = tmp_path / "old.spill"
    with open(old, "wb") as f:
        f.write(R.SPILL_MAGIC_MARSHAL)
        for chunk in records:
            data = marshal.dumps(chunk)
            f.write(struct.pack("<I", len(data)) + data)
    assert list(R.read_chunks(old)) == records
    assert list(R.read_spill(old)) == records
    new = tmp_path / "new.spill"
    w = R.SpillWriter(new)
    for chunk in records:
        w.write(chunk)
    w.close()
    packed = R._packer() is not None  # the C packer; the pure-Python callbacks write marshalled lists
    assert new.read_bytes()[: len(R.SPILL_MAGIC)] == (R.SPILL_MAGIC if packed else R.SPILL_MAGIC_MARSHAL)
    assert all(type(c) is (bytes if packed else list) for c in R.read_chunks(new))
    assert list(R.read_spill(new)) == records


def test_the_spill_is_packed_where_the_c_packer_runs(tmp_path: Path, speedups: ModuleType,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)
    for pure, magic in (("0", R.SPILL_MAGIC), ("1", R.SPILL_MAGIC_MARSHAL)):
        monkeypatch.setenv("SKELETON_PURE_PYTHON", pure)
        w = R.SpillWriter(tmp_path / f"spill-{pure}")
        w.write([(R.CALL, 0, 1, 5, None, 0)])
        w.close()
        assert (tmp_path / f"spill-{pure}").read_bytes()[: len(magic)] == magic
        assert list(R.read_spill(tmp_path / f"spill-{pure}")) == [[(R.CALL, 0, 1, 5, None, 0)]]


def test_a_record_marshal_cannot_store_is_left_out_alone(tmp_path: Path) -> None:
    """Packing raises marshal's ValueError for it; the buffer keeps every other record (capture/buffer.py)."""
    from skeleton_replay.capture.buffer import Buffer

    gaps: list[tuple[Any, ...]] = []
    b = Buffer()
    b.spill = R.SpillWriter(tmp_path / "spill")
    b.gap = lambda *a: gaps.append(a)
    good = [(R.CALL, 0, 1, 5, None, 0), (R.RETURN, 0, 1, 6, None, 0)]
    b._write([good[0], (R.GAP, "x", object(), 1), good[1]])
    b.spill.close()
    assert list(R.read_spill(tmp_path / "spill")) == [good]
    assert gaps and gaps[0][0] == "tracer_error"
