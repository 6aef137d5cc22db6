"""What `skeleton pytest` costs beyond the recording itself (issue 16, bench/pytest_suite.py).

The artifacts are built with the cyclic GC off (each full collection walked the whole model and the
pytest session's objects), and a test file's path is resolved once per file, not once per test.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import pytest

from skeleton_replay.integrations.pytest_recording import SkeletonPytest
from skeleton_replay.options import Options


class FakeLive:
    """The two calls SkeletonPytest._finish makes on its RunLifecycle, noting whether the GC ran."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.fail = fail

    def stop(self) -> None:
        self.seen.append(("stop", gc.isenabled()))

    def finish(self, status: str, exit_code: int | None, error: dict[str, Any] | None) -> None:
        self.seen.append(("finish", gc.isenabled()))
        if self.fail:
            raise RuntimeError("post-processing failed")


def _plugin(live: FakeLive) -> SkeletonPytest:
    plugin = SkeletonPytest(Options())
    plugin.live = live  # type: ignore[assignment]
    return plugin


@pytest.fixture
def gc_enabled() -> Any:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_artifacts_are_built_without_the_cyclic_gc(gc_enabled: None) -> None:
    live = FakeLive()
    _plugin(live)._finish(0)
    assert live.seen == [("stop", False), ("finish", False)]
    assert gc.isenabled()  # the program's GC as it was, afterwards


def test_the_gc_comes_back_when_post_processing_fails(gc_enabled: None) -> None:
    live = FakeLive(fail=True)
    with pytest.raises(RuntimeError):
        _plugin(live)._finish(1)
    assert live.seen == [("stop", False), ("finish", False)]
    assert gc.isenabled()


def test_a_gc_the_host_turned_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        _plugin(FakeLive())._finish(0)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


def test_a_test_file_is_resolved_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_a.py").write_text("")
    outside = tmp_path / "elsewhere.py"
    outside.write_text("")
    link = root / "tests" / "test_link.py"
    link.symlink_to(outside)
    resolved: list[str] = []
    real_resolve = Path.resolve

    def counting_resolve(self: Path, strict: bool = False) -> Path:
        resolved.append(str(self))
        return real_resolve(self, strict)

    monkeypatch.setattr(Path, "resolve", counting_resolve)
    plugin = SkeletonPytest(Options())
    a = os.fspath(root / "tests" / "test_a.py")
    names = [plugin._test_file(a, root) for _ in range(50)]
    assert names == ["tests/test_a.py"] * 50
    # a link out of the project: named by where it leads, as before
    assert plugin._test_file(os.fspath(link), root) == real_resolve(outside).as_posix()
    assert sorted(resolved) == sorted([str(root), a, os.fspath(link)])  # once each, not once per test


SUITE = """
from lib import work


def test_one():
    for _ in range(300):
        work(1)


def test_two():
    for _ in range(300):
        work(2)


def test_three():
    for _ in range(300):
        work(3)
"""


def _capped_suite_decoded(tmp_path: Path) -> Any:
    """A Decoder that has read the kept spill of `skeleton pytest --max-events 300` on SUITE (lib.helper() counted
    in several tests)."""
    from conftest import skeleton

    from skeleton_replay.capture.records import read_spill
    from skeleton_replay.events.decode import Decoder

    project = tmp_path / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "lib.py").write_text("def work(n):\n    return helper(n) + 1\n\n\ndef helper(n):\n    return n * 2\n")
    (project / "tests" / "test_work.py").write_text(SUITE)
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    out = tmp_path / "out"
    p = skeleton("pytest", "--no-open", "--out-dir", str(out), "--max-events", "300", "--", "-q", "-p", "no:randomly",
                 "-p", "no:cacheprovider", cwd=project, env={"SKELETON_KEEP_SPILL": "1"})
    assert p.returncode == 0, p.stderr
    decoder = Decoder(300)
    for _ in decoder.batches(read_spill(out / ".trace.spill")):
        pass
    return decoder


def test_the_end_records_counted_calls_share_one_dict_per_endpoint(tmp_path: Path) -> None:
    """A callee counted in every test is one dict in the end record, not one per test (the end record is
    alive while the snapshot is built: peak memory); the record's content is unchanged."""
    from skeleton_replay.events.write_trace import end_record

    decoder = _capped_suite_decoded(tmp_path)
    counted = end_record({"duration_s": 1.0, "exit_code": 0, "status": "ok"}, decoder, 300)["counted"]
    by_node: dict[str, list[dict[str, Any]]] = {}
    for c in counted:
        for side in ("caller", "callee"):
            if c[side] is not None:
                by_node.setdefault(c[side]["node_id"], []).append(c[side])
    scenarios = {c.get("scenario") for c in counted if c["callee"]["node_id"] == "fn:lib:helper"}
    assert len(scenarios) >= 2  # helper() was counted in several tests
    for node, dicts in by_node.items():
        assert all(d is dicts[0] for d in dicts), node  # one shared dict
    # the same content as each endpoint's own as_json()
    expected = [(ca.as_json() if ca is not None else None, ce.as_json()) for ca, ce, *_ in decoder.counted()]
    assert [(c["caller"], c["callee"]) for c in counted] == expected


def test_a_chunked_list_is_written_as_orjson_writes_the_whole_list(tmp_path: Path) -> None:
    """TraceWriter.record writes a ChunkedList value a chunk at a time: the bytes of orjson.dumps(the record),
    whatever the chunking (none, empty chunks, one item, many), with strings around it that look like JSON."""
    import orjson

    from skeleton_replay.events.jsonl import TraceWriter
    from skeleton_replay.events.types import ChunkedList

    items = [{"caller": None, "callee": {"node_id": f"fn:m:f{i}"}, "calls": i, "raised": 0} for i in range(7)]
    cases = [[], [[]], [items[:1]], [items[:3], [], items[3:]], [[x] for x in items]]
    tricky = {"record": "end", "note": '"counted":[]', "nul": "\x00", "counted": None, "gaps": [{"m": "]"}]}
    for n, chunks in enumerate(cases):
        whole = [x for c in chunks for x in c]
        record = {**tricky, "counted": ChunkedList(lambda chunks=chunks: iter(chunks), len(whole))}
        writer = TraceWriter(tmp_path / f"t{n}.jsonl")
        writer.record(record)
        writer.record({"plain": 1})
        path = writer.close()
        assert path.read_bytes() == orjson.dumps({**tricky, "counted": whole}) + b"\n" + b'{"plain":1}\n', n
        assert writer.lines == 2


def test_the_written_end_record_makes_its_counted_entries_a_chunk_at_a_time(tmp_path: Path) -> None:
    """end_record for writing (endpoint_json given): `counted` is a ChunkedList of COUNTED_CHUNK entries per
    chunk, written as the entries as_json() gives (a pytest run's end record: 44k entries, 35 MB on sqlparse)."""
    import orjson

    from skeleton_replay.events import write_trace
    from skeleton_replay.events.jsonl import TraceWriter
    from skeleton_replay.events.types import ChunkedList

    decoder = _capped_suite_decoded(tmp_path)
    run_end = {"duration_s": 1.0, "exit_code": 0, "status": "ok"}
    as_data = write_trace.end_record(run_end, decoder, 300)
    assert len(as_data["counted"]) > 3
    writer = TraceWriter(tmp_path / "t.jsonl")
    old = write_trace.COUNTED_CHUNK
    write_trace.COUNTED_CHUNK = 2  # several chunks, the last one short
    try:
        for_writing = write_trace.end_record(run_end, decoder, 300, endpoint_json=writer.endpoint_json)
        counted = for_writing["counted"]
        assert type(counted) is ChunkedList and len(counted) == len(as_data["counted"])
        assert [len(c) for c in counted.chunks()][:-1] == [2] * ((len(counted) - 1) // 2)
        writer.record(for_writing)
    finally:
        write_trace.COUNTED_CHUNK = old
    assert writer.close().read_bytes() == orjson.dumps(as_data) + b"\n"
