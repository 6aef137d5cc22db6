"""The cyclic GC around the post-processing (pipeline.no_cyclic_gc): off while it runs, on again as it was after,
without a collection due over everything it allocated (that scan cost ~0.15 s on a real suite's model), and
without keeping anything from being collected later."""
from __future__ import annotations

import gc
import weakref

import pytest

from skeleton_replay import process
from skeleton_replay.pipeline import no_cyclic_gc


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def gc_on(monkeypatch: pytest.MonkeyPatch):
    was = gc.isenabled()
    gc.enable()
    monkeypatch.setattr(process, "_OWN", [True])  # as under a `skeleton` command (3.12 starts with objects frozen)
    yield
    if not was:
        gc.disable()


def test_no_collection_is_due_when_it_ends() -> None:
    runs: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.collect()
    with no_cyclic_gc():
        assert not gc.isenabled()
        model = [[i] for i in range(50_000)]  # tracked objects that no collection has seen
        assert gc.get_count()[0] > 40_000
        gc.callbacks.append(seen)
    try:
        more = [[i] for i in range(100)]  # the next allocations: a collection due would run here
    finally:
        gc.callbacks.remove(seen)
    assert gc.isenabled()
    assert runs == []  # no collection scanned the 50,000 lists
    assert gc.get_count()[0] < 700
    assert len(model) == 50_000 and len(more) == 100


def test_a_cycle_of_the_host_is_still_collected_after() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    with no_cyclic_gc():
        kept = [[i] for i in range(1_000)]
    del a, b
    gc.collect()
    assert gone() is None  # not frozen for good: a full collection finds it
    assert kept


def test_a_host_that_froze_objects_keeps_them_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-forking server freezes its objects for copy-on-write: unfreezing them would undo that."""
    monkeypatch.setattr(process, "_OWN", [False])
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with no_cyclic_gc():
            [[i] for i in range(1_000)]
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_it_leaves_a_disabled_gc_disabled() -> None:
    gc.disable()
    with no_cyclic_gc():
        pass
    assert not gc.isenabled()
