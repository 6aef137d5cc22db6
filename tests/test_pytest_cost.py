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
