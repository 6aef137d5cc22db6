"""Who created whom: a project __init__ starting for a new object is recorded as that object's creation,
attributed to the nearest traced project frame below it (capture/creations.py -> end record `creations`
-> snapshot `creations` and instance nodes' `created_by` -> workflow.md actors)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from conftest import APPS, BACKENDS, skeleton

APP = APPS / "creations"
# every backend, with the C fast paths and with the pure-Python callbacks
CONFIGS = [(b, pure) for b in BACKENDS for pure in (False, True)]


def _run(tmp_path: Path, backend: str, pure: bool, *args: str, extra: tuple[str, ...] = ()) -> Path:
    out = tmp_path / f"out-{backend}-{int(pure)}-{'-'.join(args)}-{len(extra)}"
    env = {"SKELETON_PURE_PYTHON": "1"} if pure else {"SKELETON_PURE_PYTHON": "0"}
    p = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--out-dir", str(out),
                 "--project-root", str(APP), *extra, str(APP / "app.py"), *args, env=env)
    assert p.returncode == 0, p.stderr
    return out


def _made(snap: dict) -> dict[tuple[str, str], dict]:
    return {(c["creator"], c["qualname"]): c for c in snap.get("creations") or []}


@pytest.mark.parametrize("backend,pure", CONFIGS)
def test_creators_and_counts(tmp_path, backend, pure):
    out = _run(tmp_path, backend, pure, "4")
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    made = _made(snap)
    build = "meth:shop.models.Service#1.build"
    assert set(made) == {
        ("mod:shop.models", "Cart"),  # DEFAULT = Cart() in the module body
        ("mod:shop.models", "Item"),
        ("fn:app:main", "Cart"),  # cart and spare
        ("fn:app:main", "Service"),
        ("fn:app:main", "Item"),  # Item("x", 2)
        (build, "Item"),  # inside a method of an instance
    }
    # Item.__init__ calls super().__init__(): one creation per Item, not two
    assert made[(build, "Item")]["count"] == 4
    assert made[("fn:app:main", "Cart")]["count"] == 2
    assert made[("mod:shop.models", "Item")]["count"] == 1
    # first_seen: the last event before it; the Items come after build's call
    events = [orjson.loads(line) for line in (out / "trace.jsonl").read_bytes().splitlines()]
    calls = {e["order"]: e for e in events if e.get("event_type") == "call"}
    first = made[(build, "Item")]["first_seen"]
    assert calls[first]["callee"]["node_id"] == build
    assert made[("fn:app:main", "Cart")]["first_seen"] == next(
        o for o, e in calls.items() if e["callee"]["node_id"] == "fn:app:main")
    # __init__ is still not traced: the event stream has no __init__ calls
    assert not any(e["callee"]["function"] == "__init__" for e in calls.values())
    # instance nodes carry their creator
    nodes = {n["id"]: n for n in snap["nodes"]}
    items = [n for n in nodes.values() if n["kind"] == "instance" and n["id"].startswith("inst:shop.models.Item#")]
    assert len(items) == 5  # 4 built, 1 by main (the module body's Item never gets a traced method)
    assert sorted(n["created_by"]["creator"] for n in items) == sorted([build] * 4 + ["fn:app:main"])
    built = sorted(n["id"] for n in items if n["created_by"]["creator"] == build)
    assert sorted(made[(build, "Item")]["instances"]) == built
    carts = sorted((n["id"], n["created_by"]["creator"]) for n in nodes.values()
                   if n["id"].startswith("inst:shop.models.Cart#"))
    assert carts == [("inst:shop.models.Cart#1", "mod:shop.models"), ("inst:shop.models.Cart#2", "fn:app:main"),
                     ("inst:shop.models.Cart#3", "fn:app:main")]
    # the end record holds it all: `skeleton report` rebuilds the same snapshot from trace.jsonl alone
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    (rebuilt / "trace.jsonl").write_bytes((out / "trace.jsonl").read_bytes())
    p = skeleton("report", "--no-html", str(rebuilt))
    assert p.returncode == 0, p.stderr
    again = orjson.loads((rebuilt / "snapshot.json").read_bytes())
    assert again["creations"] == snap["creations"]
    # workflow.md's actors say who created the instances
    md = (out / "workflow.md").read_text("utf-8")
    assert f"created by `{build}` (4)" in md
    cart_line = next(line for line in md.splitlines() if "instance `inst:shop.models.Cart#2`" in line)
    at = nodes["inst:shop.models.Cart#2"]["created_by"]["first_seen"]
    assert cart_line.endswith(f"; created by `fn:app:main` at E{at}")


@pytest.mark.parametrize("backend,pure", CONFIGS)
def test_counts_exact_past_the_event_cap(tmp_path, backend, pure):
    full = orjson.loads((_run(tmp_path, backend, pure, "3000") / "snapshot.json").read_bytes())
    capped_out = _run(tmp_path, backend, pure, "3000", extra=("--max-events", "300"))
    capped = orjson.loads((capped_out / "snapshot.json").read_bytes())
    assert capped["stats"]["dropped_events"] > 0
    build = "meth:shop.models.Service#1.build"
    assert _made(full)[(build, "Item")]["count"] == 3000
    assert {k: c["count"] for k, c in _made(capped).items()} == {k: c["count"] for k, c in _made(full).items()}
    # first_seen: the last event recorded before it (the Items were made before the cap was reached)
    recorded = capped["stats"]["recorded_events"]
    assert _made(capped)[(build, "Item")]["first_seen"] == _made(full)[(build, "Item")]["first_seen"]
    late = _made(capped)[("fn:app:main", "Item")]["first_seen"]
    assert late is None or _made(full)[(build, "Item")]["first_seen"] < late < recorded


def test_creations_bounded(monkeypatch):
    """Distinct (creator, class) keys and objects waiting for an id are capped; counts stay exact in a gap."""
    from skeleton_replay.capture import creations as C

    monkeypatch.setattr(C, "MAX_KEYS", 2)
    monkeypatch.setattr(C, "PER_RUN", 3)

    class Rec:
        def __init__(self):
            self.buf: list = []
            self.definitions = 0
            self.table = {id(sys._getframe().f_code): (7, None, False, ())}
            self.gaps: list = []
            self.filter = None

        def gap(self, kind, message, count=1):
            self.gaps.append((kind, count))

    def maker(made, objs):
        for o in objs:
            made.created(sys._getframe(), o)

    rec = Rec()
    made = C.Creations(rec)
    rec.table = {id(maker.__code__): (7, None, False, ())}
    classes = [type(f"K{k}", (), {}) for k in range(4)]
    objs = [cls() for cls in classes for _ in range(3)]
    maker(made, objs)
    assert len(made.keys) == 2 and made.counts == [3, 3]
    assert len(made.waiting) <= 3 and made.seq == 3
    made.stop()
    assert rec.gaps == [("other", 6)]  # the two classes past MAX_KEYS
    assert [r for r in rec.buf if r[1] == C.COUNTS] == [(C.R.CREATION, C.COUNTS, {0: 2, 1: 2})]


@pytest.mark.skipif(importlib.util.find_spec("rich") is None, reason="rich is not installed in this venv")
def test_real_library_rich(tmp_path):
    """rich as the project: Tree.add builds the child trees. Independent check: a plain profiler counts
    Tree.__init__ calls made directly by Tree.add, per receiver, without Skeleton."""
    import rich

    driver = Path(__file__).parent.parent / "e2e" / "real_programs" / "rich_render.py"
    root = Path(rich.__file__).parent
    check = f"""
import sys, runpy
from collections import Counter
import rich.tree
made = Counter()
def prof(frame, event, arg):
    if event == "call" and frame.f_code is rich.tree.Tree.__init__.__code__:
        back = frame.f_back
        if back.f_code is rich.tree.Tree.add.__code__:
            made[id(back.f_locals["self"])] += 1
sys.setprofile(prof)
runpy.run_path({str(driver)!r}, run_name="__main__")
sys.setprofile(None)
print(sorted(made.values()))
"""
    expected = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    counts = orjson.loads(expected.strip().splitlines()[-1])
    out = tmp_path / "rich"
    p = skeleton("run", "--no-open", "--no-html", "--out-dir", str(out), "--project-root", str(root), str(driver))
    assert p.returncode == 0, p.stderr
    snap = orjson.loads((out / "snapshot.json").read_bytes())
    by_tree_add = sorted(
        c["count"] for c in snap["creations"]
        if c["qualname"] == "Tree" and c["creator"].startswith("meth:rich.tree.Tree#") and c["creator"].endswith(".add")
    )
    assert by_tree_add == counts and sum(counts) == 20  # 10 branches of the root, a leaf under each
    # each child tree that became a node names the root's add as its creator
    nodes = {n["id"]: n for n in snap["nodes"]}
    root_add = next(c["creator"] for c in snap["creations"] if c["qualname"] == "Tree" and c["count"] == 10)
    children = [n for n in nodes.values() if n.get("created_by", {}).get("creator") == root_add]
    assert children and all(n["id"].startswith("inst:rich.tree.Tree#") for n in children)


# Every way an __init__ meets its object: super() and explicit base calls (the same object: one creation), a
# receiver captured by a closure (a cell), a receiver deleted, creations by a C caller (map), a class method,
# a module body, another thread, and classes past their per-class limit.
SHAPES = '''
import threading

class Base:
    def __init__(self, n):
        self.n = n

class Child(Base):
    def __init__(self, n):
        super().__init__(n)

class Other(Base):
    def __init__(self, n):
        Base.__init__(self, n)
        self.get = lambda: self.n

class Deleting:
    def __init__(self):
        del self

class Wrapped:
    def __init__(self, inner):
        self.inner = inner

def factory(k):
    return [Child(i) for i in range(k)]

class Maker:
    def make(self, k):
        return [Other(i) for i in range(k)] + [Wrapped(Child(i)) for i in range(k)]

    @classmethod
    def build(cls):
        return cls()

def via_builtin(k):
    return list(map(Child, range(k)))

def in_thread(out):
    out.extend(factory(50))

AT_IMPORT = [Child(i) for i in range(3)]

def main():
    out = factory(300)
    maker = Maker()
    out += maker.make(200)
    out.append(Maker.build())
    out += [Deleting() for _ in range(50)]
    out += via_builtin(100)
    t = threading.Thread(target=in_thread, args=(out,))
    t.start()
    t.join()
    print(len(out))

main()
'''


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the frame mirror is read on 3.12 and 3.13 only")
@pytest.mark.parametrize("cap", ["0", "300"])
def test_the_frame_mirror_finds_what_frame_objects_find(tmp_path, monkeypatch, cap):
    """3.12/3.13: a watched __init__ reads its receiver and its caller through the frame mirror (_speedups.c,
    reborn_mirror) unless SKELETON_NO_FAST_LOCALS is set: the same trace, objects and creations either way."""
    (tmp_path / "app.py").write_text(SHAPES)
    monkeypatch.delenv("SKELETON_NO_FAST_LOCALS", raising=False)  # set at all (even empty), it turns the mirror off
    got = []
    for mirror in (True, False):
        out = tmp_path / f"out-{mirror}"
        p = skeleton("run", "--no-open", "--no-html", "--backend", "sysmon", "--max-events", cap, "--out-dir",
                     str(out), "--project-root", str(tmp_path), str(tmp_path / "app.py"),
                     env={"SKELETON_PURE_PYTHON": "0", **({} if mirror else {"SKELETON_NO_FAST_LOCALS": "1"})})
        assert p.returncode == 0, p.stderr
        lines = [orjson.loads(line) for line in (out / "trace.jsonl").read_bytes().splitlines()]
        for e in lines:  # the clock's readings and the command lines differ from run to run
            for key in ("timestamp", "duration_ns", "duration_s", "started_at", "invocation", "command"):
                e.pop(key, None)
        snap = orjson.loads((out / "snapshot.json").read_bytes())
        got.append((lines, snap["creations"], sorted(n["id"] for n in snap["nodes"]),
                    sorted((n["id"], n.get("created_by")) for n in snap["nodes"] if n.get("created_by"))))
    assert got[0] == got[1]
    made = {(c["creator"], c["qualname"]): c["count"] for c in got[0][1]}
    assert made[("fn:app:factory", "Child")] == 350  # one per object, super().__init__() not counted again
    assert made[("fn:app:via_builtin", "Child")] == 100  # map (C) calls Child: its caller below is via_builtin
    assert sum(n for (creator, q), n in made.items() if q == "Other" and ".make" in creator) == 200
    assert sum(n for (_, q), n in made.items() if q == "Deleting") == 50
