"""Post-processing: the trace written by the helper process equals the one written in-process."""
from __future__ import annotations

import shutil

import orjson

from conftest import APPS
from skeleton_replay import pipeline
from skeleton_replay.session import TraceSession


def test_helper_process_and_in_process_write_the_same_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_KEEP_SPILL", "1")
    first = TraceSession(out_dir=tmp_path / "run", html=False, max_events=20).run_script(APPS / "basics" / "app.py")
    assert first.dropped_events > 0  # past the cap too: counted calls go into the end record
    spill = tmp_path / "run" / pipeline.SPILL
    header = orjson.loads((tmp_path / "run" / pipeline.HEADER_SIDECAR).read_bytes())
    end = {"duration_s": 1.0, "exit_code": 0, "status": "ok", "error": None, "gaps": []}
    outs = {}
    started: list = []
    for mode in ("serial", "helper"):
        out = tmp_path / mode
        out.mkdir()
        shutil.copy(spill, out / pipeline.SPILL)
        if mode == "serial":
            monkeypatch.setenv("SKELETON_SERIAL", "1")
        else:
            monkeypatch.delenv("SKELETON_SERIAL", raising=False)
            monkeypatch.setattr(pipeline, "PARALLEL_MIN_SPILL", 0)
            real_popen = pipeline.subprocess.Popen
            monkeypatch.setattr(pipeline.subprocess, "Popen", lambda *a, **k: started.append(a) or real_popen(*a, **k))
        arts = pipeline.from_spill(out / pipeline.SPILL, out, header, end, 20, False)
        assert arts.warnings == []  # the helper did not fail over to the in-process writer
        outs[mode] = out
    assert len(started) == 1  # the helper process wrote the second trace
    assert not (outs["helper"] / pipeline.WRITER_ARGS).exists()
    for name in (pipeline.TRACE, pipeline.SNAPSHOT, pipeline.WORKFLOW):
        assert (outs["serial"] / name).read_bytes() == (outs["helper"] / name).read_bytes(), name


def test_default_cap_runs_write_the_trace_in_process(monkeypatch):
    """The helper decodes the spill a second time: CPU a busy machine pays. A default-cap run's spill
    (200k events: 11.5 MB for the mixed benchmark, ~35 MB for text-heavy programs) is written in process;
    only runs recording millions of events (--max-events 0) use the other core."""
    monkeypatch.delenv("SKELETON_SERIAL", raising=False)
    assert not pipeline.use_trace_writer(12 << 20)
    assert not pipeline.use_trace_writer(40 << 20)
    assert pipeline.use_trace_writer(200 << 20)
    monkeypatch.setenv("SKELETON_SERIAL", "1")
    assert not pipeline.use_trace_writer(200 << 20)
