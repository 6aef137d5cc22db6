"""The C hooks' superset of the keys of Recorder.objects (_speedups.AddrSet): an object created at an address
not in it skips the dict. It must hold every address added and not removed (else an object at a reused address
would keep a dead object's id); removals keep every other address findable (backward shift), growth keeps them
all, and a set that may no longer grow says "maybe" for every address. Address reuse end to end, C hooks against
the pure-Python callbacks: tests/test_counting_cost.py."""
from __future__ import annotations

import random
from types import ModuleType

import pytest
from native_runs import compiled_speedups

@pytest.fixture
def speedups() -> ModuleType:
    return compiled_speedups()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_answers_as_a_set_through_adds_removals_and_growth(speedups: ModuleType, seed: int) -> None:
    rnd = random.Random(seed)
    a, model = speedups.AddrSet(), set()
    # addresses as CPython hands them out: 16-byte aligned, clustered, often the same ones again
    pool = [0x7F00_0000_0000 + 16 * rnd.randrange(40_000) for _ in range(20_000)]
    for step in range(60_000):
        x = rnd.choice(pool)
        if rnd.random() < 0.6:
            a.add(x)
            model.add(x)
        else:
            a.discard(x)
            model.discard(x)
        if step % 5_000 == 0:
            assert len(a) == len(model)
            assert all(a.maybe(y) for y in model)
            assert not any(a.maybe(y) for y in set(pool) - model)
    assert len(a) == len(model) and a.full == 0
    assert all(a.maybe(y) for y in model)
    assert not any(a.maybe(y) for y in set(pool) - model)


def test_an_empty_set_knows_no_address(speedups: ModuleType) -> None:
    a = speedups.AddrSet()
    assert len(a) == 0 and not a.maybe(0x1000)
    a.discard(0x1000)  # nothing there: nothing happens
    a.add(0x1000)
    a.add(0x1000)
    assert len(a) == 1 and a.maybe(0x1000)


def test_the_hooks_start_from_the_entries_made_before(speedups: ModuleType, tmp_path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Hooks made over a Recorder whose `objects` already has entries keep their addresses."""
    monkeypatch.delenv("SKELETON_PURE_PYTHON", raising=False)  # (the pure-Python lane sets it: no hooks then)
    from skeleton_replay.capture import records as R
    from skeleton_replay.capture import speedups as S
    from skeleton_replay.capture.filters import CodeFilter
    from skeleton_replay.capture.recorder import Recorder
    from skeleton_replay.capture.summarise import Summariser

    rec = Recorder(CodeFilter(tmp_path), Summariser(), R.SpillWriter(tmp_path / "spill"))
    kept = [object() for _ in range(50)]
    for o in kept:
        rec.objects[id(o)] = (1, type(o))
    h = S.hooks(rec, lambda *a: None, lambda *a: None)
    assert h is not None and rec.object_addrs is not None
    assert all(rec.object_addrs.maybe(id(o)) for o in kept)
    other = object()
    rec.object_id(other)  # a new entry: its address goes in first
    assert rec.object_addrs.maybe(id(other))
    h.close()
    rec.spill.close()
