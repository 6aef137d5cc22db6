"""Post-processing a `skeleton pytest` run (issue 16, bench/pytest_suite.py).

The per-test counted entries (a callee counted in each of hundreds of tests) are added to the model with
inline look-ups: only a new node or edge goes through the builder's slow path. report.html's data (the
snapshot's JSON, 30 MB on sqlparse's suite) is escaped a part at a time as it is written: the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import skeleton

from skeleton_replay import pipeline
from skeleton_replay.events.decode import Decoder
from skeleton_replay.model.build import SnapshotBuilder

CLEAN_ENV = {"SKELETON_OUT_DIR": "", "SKELETON_HOME": "", "SKELETON_KEEP_SPILL": "1"}


LIB = """
import threading


class Item:
    def __init__(self, n):
        self.n = n

    def weight(self):
        return self.n * 2


def total(items):
    return sum(i.weight() for i in items)


def walk(n):
    for i in range(n):
        yield Item(i)


def fails(n):
    if n % 3 == 0:
        raise ValueError(f"bad {n}")
    return n


def in_threads(n):
    out = []
    ts = [threading.Thread(target=lambda k=k: out.append(total(walk(k)))) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sorted(out)
"""
TESTS = """
import pytest

import lib


@pytest.mark.parametrize("n", range(12))
def test_total(n):
    assert lib.total(lib.walk(n * 5)) == sum(2 * i for i in range(n * 5))


@pytest.mark.parametrize("n", range(6))
def test_fails(n):
    errors = 0
    for k in range(n * 4):
        try:
            lib.fails(k)
        except ValueError:
            errors += 1
    assert errors == len(range(0, n * 4, 3))


def test_threads():
    assert len(lib.in_threads(4)) == 4


def test_odd_ids_\u00e9():
    assert lib.Item(1).weight() == 2
"""


@pytest.fixture(scope="module")
def pytest_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `skeleton pytest` run of a small suite with loops, generators, exceptions and threads, capped low
    (most calls counted per test), its raw records kept."""
    tmp = tmp_path_factory.mktemp("pytest-run")
    project = tmp / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "lib.py").write_text(LIB, encoding="utf-8")
    (project / "tests" / "test_lib.py").write_text(TESTS, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n", encoding="utf-8")
    out = tmp / "out"
    p = skeleton(
        "pytest", "--no-open", "--max-events", "300", "--out-dir", str(out), "--", "-q", "-p", "no:randomly",
        cwd=project, env=CLEAN_ENV,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert (out / pipeline.SPILL).is_file()
    return out


def _header(run: Path) -> dict[str, Any]:
    header: dict[str, Any] = orjson.loads((run / pipeline.HEADER_SIDECAR).read_bytes())
    return header


def _built(run: Path) -> tuple[SnapshotBuilder, Decoder]:
    from skeleton_replay.capture.records import read_spill

    header = _header(run)
    decoder = Decoder(header["options"]["max_events"])
    builder = SnapshotBuilder(header, None)
    for batch in decoder.batches(read_spill(run / pipeline.SPILL)):
        builder.add_batch(batch)
    return builder, decoder


def test_counted_entries_take_the_slow_path_only_for_new_edges(
    pytest_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder, decoder = _built(pytest_run)
    rows = decoder.counted()
    assert sum(1 for r in rows if r[4] is not None) > 10  # calls counted per test
    rows = rows + rows  # each (caller, callee, test) a second time: every edge is known by then
    made: list[tuple[int, int]] = []
    real_edge = builder._edge

    def edge(src: int, dst: int, order: int) -> int:
        made.append((src, dst))
        return real_edge(src, dst, order)

    monkeypatch.setattr(builder, "_edge", edge)
    builder.add_counted_all(rows)
    assert len(rows) > len(set(made))
    assert len(made) == len(set(made))  # once per new edge, never for a known one
    assert builder.counted_calls == sum(r[2] for r in rows)
    one_by_one, _ = _built(pytest_run)
    for row in rows:
        one_by_one.add_counted(*row)
    snap = builder.snapshot({}, [], [], 0)
    assert orjson.dumps(snap) == orjson.dumps(one_by_one.snapshot({}, [], [], 0))
    assert all(len(set(n["scenarios"])) == len(n["scenarios"]) for n in snap["nodes"] if "scenarios" in n)


def test_report_data_is_escaped_a_part_at_a_time_with_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    from skeleton_replay.render import html

    text = "a<b>c&d\u2028e\u2029f é 𝄞 </script><!-- x -->"
    snapshot = {"nodes": [{"id": f"n{i}->{text[: i % len(text)]}", "label": text} for i in range(200)]}
    raw = orjson.dumps(snapshot)
    whole = b"".join(html.report_parts(snapshot, raw))  # the data in one part (EMBED_CHUNK: 1 MiB)
    parts = list(html.report_parts(snapshot, raw))
    assert len(parts) == 5  # template, <script ...>, the data, </script>, template
    for char in (b"<", b">", b"&", "\u2028".encode(), "\u2029".encode()):
        assert char not in parts[2]  # nothing in the data can end the element
    for chunk in (1, 2, 3, 5, 7, 64):  # cuts fall inside every escaped character's bytes
        monkeypatch.setattr(html, "EMBED_CHUNK", chunk)
        parts = list(html.report_parts(snapshot, raw))
        assert b"".join(parts) == whole
        data = parts[2:-2]
        assert len(data) > 1 and max(len(p) for p in data) <= 6 * (chunk + 3)  # escaped: 1 byte -> 6 at most
    assert orjson.loads(html._embed(snapshot)) == snapshot  # \uXXXX escapes read back as the characters


def test_skeleton_pytest_keeps_its_startup_objects_out_of_the_suites_collections(tmp_path: Path) -> None:
    """As `skeleton run` does: what exists before pytest starts (Skeleton, click, orjson, pytest) is frozen,
    so the suite's full collections do not walk it; the suite's own objects are not (frozen before it loads)."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_gc.py").write_text(
        "import gc, pathlib, sys\n\n"
        "KEPT = [[] for _ in range(5000)]\n\n\n"
        "def test_frozen():\n"
        "    pathlib.Path('frozen.txt').write_text(\n"
        "        f'{gc.get_freeze_count()} {gc.is_tracked(KEPT[0])} {any(o is KEPT for o in gc.get_objects())}')\n",
        encoding="utf-8",
    )
    p = skeleton("pytest", "--no-open", "--out-dir", str(tmp_path / "out"), "--", "-q", "-p", "no:randomly",
                 "-p", "no:cacheprovider", cwd=tmp_path, env=CLEAN_ENV)
    assert p.returncode == 0, p.stdout + p.stderr
    count, tracked, collectable = (tmp_path / "frozen.txt").read_text(encoding="utf-8").split()
    assert int(count) > 10_000  # Skeleton's and pytest's modules, classes, functions
    assert tracked == "True" and collectable == "True"  # the suite's own objects are still collected
