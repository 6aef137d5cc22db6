"""The step columns' encoding (model/steps.py): call_id and t delta-encoded, every column read back as written."""
from __future__ import annotations

import json
import random
from array import array
from pathlib import Path
from typing import Any

import pytest
from conftest import APPS, REPO, skeleton

from skeleton_replay import native
from skeleton_replay.events.types import CALL, RETURN, Endpoint, Event
from skeleton_replay.model.steps import StepColumns, decode, delta_u32, encode

_KINDS = ("call", "return", "exception", "yield", "resume")


def _naive_deltas(values: list[int], prev: int) -> bytes:
    return array("I", [(v - p) % 2**32 for p, v in zip([prev, *values], values, strict=False)]).tobytes()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 4096, 5000])
def test_delta_u32_is_each_value_minus_the_one_before_modulo_2_32(n: int) -> None:
    rng = random.Random(n)
    edges = [0, 1, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]
    values = [rng.choice(edges) if rng.random() < 0.3 else rng.randrange(2**32) for _ in range(n)]
    for prev in (0, 2**32 - 1, rng.randrange(2**32)):
        assert delta_u32(array("I", values).tobytes(), prev) == _naive_deltas(values, prev)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 4096, 5000])
def test_delta_u32_in_c_gives_the_python_bytes(n: int) -> None:
    mod = native.load("model._aggregate")
    if mod is None or not hasattr(mod, "delta_u32"):
        pytest.skip("model/_aggregate.c not compiled (or SKELETON_PURE_PYTHON)")
    rng = random.Random(n + 1)
    edges = [0, 1, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]
    values = [rng.choice(edges) if rng.random() < 0.3 else rng.randrange(2**32) for _ in range(n)]
    data = array("I", values).tobytes()
    for prev in (0, 1, 2**32 - 1, rng.randrange(2**32)):
        assert mod.delta_u32(data, prev) == delta_u32(data, prev) == _naive_deltas(values, prev)
        assert mod.delta_u32(bytearray(data), prev) == delta_u32(bytearray(data), prev)


def _ep() -> Endpoint:
    return Endpoint("fn:m:f", "m", None, "f", "f", "m.py", 1, "function", None)


def _events(start: int, n: int, rng: random.Random) -> list[Event]:
    out = []
    for order in range(start, start + n):
        call_id: int | None = rng.choice([order, max(order - rng.randrange(50), 0), None])
        t_ns = rng.choice([order * 1000, rng.randrange(2**33) * 1000, (2**32 + 9) * 1000])  # back, forth, clamped
        out.append(Event(order, rng.choice([CALL, RETURN]), call_id, t_ns, rng.randrange(70_000),
                         rng.randrange(70_000), None, _ep(), None, False))
    return out


def test_columns_read_back_across_batches_with_wraps_clamps_and_unrecorded_calls() -> None:
    rng = random.Random(16)
    cols = StepColumns()
    events: list[Event] = []
    for size in (1, 7, 4096, 3, 2500):
        batch = _events(len(events), size, rng)
        cols.extend(batch, [rng.randrange(2**32) for _ in batch], [rng.randrange(-1, 2**31) for _ in batch])
        events += batch
    data = json.loads(json.dumps(cols.as_json(_KINDS)))
    assert {k for k, c in data["columns"].items() if c.get("encoding") == "delta"} == {"call_id", "t"}
    assert all("encoding" not in c for k, c in data["columns"].items() if k not in ("call_id", "t"))
    got = {name: list(decode(col)) for name, col in data["columns"].items()}
    assert got["call_id"] == [e.order if e.call_id is None else e.call_id for e in events]
    assert got["t"] == [min(e.t_ns // 1000, 2**32 - 1) for e in events]
    assert got["depth"] == [min(e.depth, 65_535) for e in events]
    assert got["kind"] == [e.kind for e in events]


def test_extend_columns_writes_the_same_bytes_as_extend() -> None:
    """The C model loop hands StepColumns column bytes (extend_columns); the Python loop, events (extend)."""
    rng = random.Random(3)
    by_events, by_bytes = StepColumns(), StepColumns()
    order = 0
    for size in (5, 300, 1):
        batch = _events(order, size, rng)
        order += size
        node, edge = [rng.randrange(100) for _ in batch], [rng.randrange(-1, 100) for _ in batch]
        by_events.extend(batch, node, edge)
        raw = (array("B", [e.kind for e in batch]), array("I", node), array("i", edge),
               array("H", [min(e.thread, 65_535) for e in batch]), array("H", [min(e.depth, 65_535) for e in batch]),
               array("I", [e.order if e.call_id is None else e.call_id for e in batch]),
               array("I", [min(e.t_ns // 1000, 2**32 - 1) for e in batch]))
        by_bytes.extend_columns(size, tuple(a.tobytes() for a in raw))
    assert by_events.as_json(_KINDS) == by_bytes.as_json(_KINDS)


def test_a_column_without_encoding_reads_as_before() -> None:
    """Snapshots written before the delta encoding: plain arrays, no "encoding" field."""
    values = [0, 5, 3, 2**32 - 1, 7]
    assert list(decode({"dtype": "u32", "data": encode(array("I", values))})) == values
    assert list(decode({"dtype": "i32", "data": encode(array("i", [-1, 4, -1]))})) == [-1, 4, -1]


def test_an_unknown_encoding_is_refused_not_misread() -> None:
    with pytest.raises(ValueError, match="encoding 'rle' is unknown"):
        decode({"dtype": "u32", "data": encode(array("I", [1, 2])), "encoding": "rle"})


def _trace_columns(trace: Path, unit: int) -> dict[str, list[int]]:
    cols: dict[str, list[int]] = {"kind": [], "call_id": [], "t": [], "depth": [], "thread": []}
    for line in trace.read_text().splitlines():
        rec: dict[str, Any] = json.loads(line)
        if "event_type" not in rec:
            continue
        cols["kind"].append(_KINDS.index(rec["event_type"]) if not rec.get("exception") else 2)
        cols["call_id"].append(rec["order"] if rec["call_id"] is None else rec["call_id"])
        cols["t"].append(round(rec["timestamp"] * 1e9 / unit))
        cols["depth"].append(rec["depth"])
        cols["thread"].append(rec["thread"])
    return cols


@pytest.mark.parametrize("app", [APPS / "concurrency" / "app.py", REPO / "examples" / "async_pipeline" / "app.py"])
@pytest.mark.parametrize("pure", ["0", "1"])
def test_real_runs_decode_to_what_trace_jsonl_says(tmp_path: Path, app: Path, pure: str) -> None:
    out = tmp_path / "out"
    proc = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), "--project-root", str(app.parent),
                    str(app), env={"SKELETON_PURE_PYTHON": pure})
    assert proc.returncode == 0, proc.stderr
    steps = json.loads((out / "snapshot.json").read_text())["steps"]
    got = {name: list(decode(col)) for name, col in steps["columns"].items()}
    want = _trace_columns(out / "trace.jsonl", steps["time_unit_ns"])
    assert steps["count"] == len(want["kind"]) > 20
    assert steps["columns"]["t"]["encoding"] == steps["columns"]["call_id"]["encoding"] == "delta"
    for name in ("kind", "call_id", "depth", "thread"):
        assert got[name] == want[name], name
    # trace.jsonl's timestamp is a rounded float: within one unit
    assert all(abs(a - b) <= 1 for a, b in zip(got["t"], want["t"], strict=True))
