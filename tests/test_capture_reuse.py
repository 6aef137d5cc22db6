"""Several captures in one process: what one capture switched off must not hide code from the next."""
from __future__ import annotations

import sys

import pytest

from skeleton_replay import trace


@pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring DISABLE")
def test_a_second_trace_with_another_project_root_sees_code_the_first_disabled(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        (d / "pyproject.toml").write_text("")
    (b / "bmod_reuse.py").write_text("def helper(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(b))
    import bmod_reuse

    with trace(out_dir=tmp_path / "out1", project_root=a) as first:
        bmod_reuse.helper(1)  # outside a: DISABLEd for the tool id
    with trace(out_dir=tmp_path / "out2", project_root=b) as second:
        bmod_reuse.helper(2)
    assert first["result"].event_count == 0
    assert second["result"].event_count == 2
