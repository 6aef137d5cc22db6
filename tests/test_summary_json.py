"""Summaries travel as JSON bytes, from capture to the artifacts (issue 16: the compact record format).

The recorder turns each summary into the JSON text trace.jsonl holds for it, once (capture/recorder.as_json); the
records carry those bytes, the decoder hands them on, the trace writer copies them into the line and the model
parses only the few it keeps. The artifacts are the ones the records of parsed summaries (the former record format)
give, in C and in pure Python.
"""

from __future__ import annotations

import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import BACKENDS, REPO, skeleton
from native_runs import SQLPARSE, real_command

from skeleton_replay import pipeline
from skeleton_replay.capture.recorder import as_json
from skeleton_replay.capture.records import read_spill
from skeleton_replay.events.types import closed, summary

ARTIFACTS = ("trace.jsonl", "snapshot.json", "workflow.md")

# threads, generators closed and thrown into, exceptions, odd and huge values, secrets, recursion, a dict subclass
PROGRAM = textwrap.dedent(
    '''
    import threading

    class Odd(dict):
        def __repr__(self):
            raise RuntimeError("never called")

    def echo(x, *rest, **kw):
        return x

    def fails(n):
        raise ValueError(f"bad {n}\\n\\u2028</script>")

    def gen(n):
        try:
            for i in range(n):
                yield {"i": i, "f": i / 3, "big": 10 ** 30 * i, "neg": -2 ** 63}
        finally:
            pass

    def thrown():
        try:
            yield 1
        except KeyError:
            yield 2

    def get_password():
        return "hunter2-very-secret"

    def deep(n):
        return deep(n - 1) if n else [[[[["bottom"]]]]]

    def work(k):
        echo("caf\\u00e9 \\ud83d\\ude00 \\x00\\x1f\\"'\\\\", b"\\xff\\x00" * 40, None, True, 1.5e300, float("nan"),
             k=float("-inf"), big=2 ** 64, small=-2 ** 63, t=(1, 2), s={3}, fs=frozenset({4}), c=1j)
        echo("x" * 5000, list(range(50)), {i: str(i) for i in range(20)}, Odd(a=1), {(1, 2): 3}, echo, type)
        for _ in gen(3):
            pass
        g = gen(5)
        next(g)
        g.close()
        t = thrown()
        next(t)
        t.throw(KeyError("k"))
        t.close()
        try:
            fails(k)
        except ValueError:
            pass
        get_password()
        deep(20)

    threads = [threading.Thread(target=work, args=(k,), name=f"w\\u00f6rker-{k}") for k in range(3)]
    for t in threads:
        t.start()
    work(9)
    for t in threads:
        t.join()
    '''
)


def _record(tmp_path: Path, backend: str, pure: bool, *extra: str) -> Path:
    script = tmp_path / "odd_summaries.py"
    script.write_text(PROGRAM)
    out = tmp_path / f"out-{backend}-{pure}-{len(extra)}"
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out), *extra, str(script),
                 env={"SKELETON_KEEP_SPILL": "1", "SKELETON_PURE_PYTHON": "1" if pure else ""})
    assert p.returncode == 0 and (out / ".trace.spill").exists(), p.stdout + p.stderr
    return out


def _details(out: Path) -> list[tuple[int, Any]]:
    """(kind, summary) of every event record of the run's spill."""
    return [(r[0], r[4]) for chunk in read_spill(out / ".trace.spill") for r in chunk if r[0] >= 0]


@pytest.mark.parametrize("pure", [pytest.param(False, id="C"), pytest.param(True, id="pure")])
@pytest.mark.parametrize("backend", BACKENDS)
def test_records_carry_each_summary_as_the_json_trace_jsonl_holds(tmp_path: Path, backend: str, pure: bool) -> None:
    out = _record(tmp_path, backend, pure)
    details = _details(out)
    kinds = {k for k, d in details if d is not None}
    assert {0, 1, 2} <= kinds  # calls' arguments, returns, exceptions (and yields where seen)
    lines = [orjson.loads(line) for line in (out / "trace.jsonl").read_bytes().splitlines()[1:-1]]
    written = [line for line in lines if any(k in line for k in ("args", "return_value", "exception", "value"))]
    assert len([d for _, d in details if d is not None]) == len(written) > 50
    for kind, d in details:
        if d is not None:
            assert type(d) is bytes, (kind, d)
            assert orjson.dumps(orjson.loads(d)) == d  # orjson's own text, nothing else
    raw = (out / "trace.jsonl").read_bytes()
    assert b'"hunter2' not in raw and b"\\u2028" not in raw  # secrets redacted; U+2028 written as UTF-8
    if backend == "sysmon" or sys.version_info < (3, 13):  # 3.13's setprofile shows a throw as a plain resume
        assert any(closed(d) for k, d in details if k in (2, 4))  # a close (GeneratorExit) is told apart
    raised = [summary(d) for k, d in details if k == 2 and d is not None]  # exception summaries: {"type", ...}
    assert raised and all(type(s) is dict and type(s["type"]) is str for s in raised)


def test_as_json_copies_orjson_text_into_a_small_object() -> None:
    value = {"a": {"type": "int", "value": 1}}
    text = as_json(value)
    assert text == orjson.dumps(value) and type(text) is bytes
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = [as_json(value) for _ in range(1000)]
        per = (tracemalloc.get_traced_memory()[0] - before) / len(kept)
    finally:
        tracemalloc.stop()
    assert per < 200  # orjson's own result holds a 4 KiB buffer: a buffer of 32k records would hold 128 MiB


def _parsed(chunks: list[list[Any]]) -> list[list[Any]]:
    """The same records as the former record format held them: each summary parsed."""
    return [[(*r[:4], orjson.loads(r[4]), *r[5:]) if r[0] >= 0 and type(r[4]) is bytes else r for r in c]
            for c in chunks]


def _rebuild(
    chunks: list[list[Any]], out: Path, src: Path, pure: bool, monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    header = orjson.loads((src / ".trace-header.json").read_bytes())
    end = orjson.loads((src / ".trace-end.json").read_bytes())
    with monkeypatch.context() as m:
        m.setenv("SKELETON_PURE_PYTHON", "1" if pure else "")
        pipeline.from_records(iter(chunks), out, header, lambda: end, header["options"]["max_events"], False)
    return {name: (out / name).read_bytes() for name in ARTIFACTS}


REAL = ("rich", "sqlparse", "jinja2-capped", "async_pipeline", "pytest-shop", "odd", "odd-capped")


@pytest.mark.parametrize("name", REAL)
def test_json_summaries_give_the_artifacts_parsed_summaries_gave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 name: str) -> None:
    """The same records with summaries as JSON bytes and as parsed values (the former record format): the same
    trace.jsonl, snapshot.json and workflow.md, in C and in pure Python; trace.jsonl is the one the run wrote."""
    if name.startswith("odd"):
        src = _record(tmp_path, BACKENDS[0], False, *(["--max-events", "400"] if name == "odd-capped" else []))
    else:
        script = tmp_path / "sqlparse_run.py"
        script.write_text(SQLPARSE)
        args = real_command(name, script)
        src = tmp_path / "run"
        cwd = REPO / "examples" / "shop" if args[0] == "pytest" else None
        p = skeleton(args[0], "--no-open", "--no-html", "--out-dir", str(src), *args[1:], cwd=cwd,
                     env={"SKELETON_KEEP_SPILL": "1", "SKELETON_PURE_PYTHON": ""})
        assert (src / ".trace.spill").exists(), p.stdout + p.stderr
    chunks = list(read_spill(src / ".trace.spill"))
    assert sum(type(r[4]) is bytes for c in chunks for r in c if r[0] >= 0) > 20
    results = {}
    for pure in (False, True):
        for fmt, cs in (("json", chunks), ("parsed", _parsed(chunks))):
            out = tmp_path / f"{fmt}-{pure}"
            out.mkdir()
            results[(fmt, pure)] = _rebuild(cs, out, src, pure, monkeypatch)
    want = results[("parsed", True)]
    for key, got in results.items():
        for artifact in ARTIFACTS:
            assert got[artifact] == want[artifact], (key, artifact)
    ran = (src / "trace.jsonl").read_bytes().split(b"\n")
    assert b"\n".join(ran[1:-2]) == b"\n".join(want["trace.jsonl"].split(b"\n")[1:-2])
