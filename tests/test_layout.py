"""One definition of the record layout (capture/layout.py): the C header is generated from it, every Python
user names its positions instead of writing them as literals, the sampling rule's inlined copies match it,
and real runs (C fast paths and pure Python, each backend) write records that follow it."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import BACKENDS, REPO, skeleton

from skeleton_replay.capture import layout as L
from skeleton_replay.capture import records as R

CAPTURE = REPO / "skeleton_replay" / "capture"
# The Python users of the layout (the hot paths and the Recorder's state): no literal positions in them.
USERS = ["sysmon.py", "setprofile.py", "counting.py", "budget.py", "recorder.py", "speedups.py", "records.py"]
HOT = ["sysmon.py", "setprofile.py"]  # where the sampling rule is inlined
# The variables that hold a thread's state list (p), a table entry (entry) and an objects entry (ent).
INDEXED = {"p": "P_", "entry": "ENTRY_", "ent": "OBJECT_ENTRY_"}
EVENT_KINDS = {"CALL", "RETURN", "UNWIND", "YIELD", "RESUME", "kind"}


def _tree(name: str) -> ast.Module:
    return ast.parse((CAPTURE / name).read_text("utf-8"), name)


def _int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


# -- the header --------------------------------------------------------------------------------------------
def test_the_committed_header_is_the_one_layout_py_generates():
    # the generator writes next to layout.py (the installed package's own copy when the tests run on a wheel)
    assert Path(L.HEADER) == Path(L.__file__).with_name("_layout.h")
    assert (CAPTURE / "_layout.h").read_text("utf-8") == L.render_header(), (
        "capture/_layout.h is stale: run `python -m skeleton_replay.capture.layout` and commit it"
    )


def test_the_generator_reports_a_stale_header(tmp_path, monkeypatch):
    stale = tmp_path / "_layout.h"
    stale.write_text(L.render_header().replace("#define SK_P_SEEDED 4", "#define SK_P_SEEDED 5"), "utf-8")
    monkeypatch.setattr(L, "HEADER", str(stale))
    assert L.main(["--check"]) == 1
    assert L.main([]) == 0
    assert stale.read_text("utf-8") == L.render_header()
    assert L.main(["--check"]) == 0


def test_the_header_defines_every_name_of_the_layout_with_its_value():
    text = L.render_header()
    defined = dict(re.findall(r"^#define SK_(\w+) \(?(-?\d+)(?:LL)?\)?$", text, re.M))
    constants = {k: v for k, v in vars(L).items() if k.isupper() and type(v) is int}
    assert constants and set(defined) == set(constants)  # nothing left out of GROUPS, nothing extra
    assert {k: int(v) for k, v in defined.items()} == constants


def test_the_c_sampling_macro_computes_what_sampled_does(tmp_path):
    """SK_SAMPLED is compiled and run over a grid of values, against layout.sampled()."""
    cc = os.environ.get("CC", "cc")
    src = tmp_path / "rule.c"
    grid = [(c, n, f, p, e) for c in (0, 1, 5, 6) for n in (1, 2, 3, 4, 6) for f in (0, 5) for p in (0, 2)
            for e in (1, 2, 3)]
    src.write_text(
        f'#include "{CAPTURE / "_layout.h"}"\n#include <stdio.h>\nint main(void) {{\n'
        + "".join(f'    printf("%d\\n", SK_SAMPLED({c}LL, {n}LL, {f}LL, {p}LL, {e}LL) ? 1 : 0);\n'
                  for c, n, f, p, e in grid)
        + "    return 0;\n}\n",
        "utf-8",
    )
    try:
        subprocess.run([cc, "-Wall", "-Werror", "-o", str(tmp_path / "rule"), str(src)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no C compiler: {exc}")
    out = subprocess.run([str(tmp_path / "rule")], check=True, capture_output=True, text=True).stdout.split()
    assert [int(x) for x in out] == [int(L.sampled(*g)) for g in grid]
    assert len(set(out)) == 2  # the grid has both answers


# -- the C users ---------------------------------------------------------------------------------------------
def test_the_c_fast_paths_take_positions_and_the_rule_from_the_header():
    text = (CAPTURE / "_speedups.c").read_text("utf-8")
    assert '#include "_layout.h"' in text
    literal = [
        r"PyList_GET_ITEM\(p, \d+\)",  # a thread state's item
        r"PyList_GET_SIZE\(p\) [<>]=? \d+",
        r"PyList_SetItem\(p, \d+",
        r"PyTuple_GET_ITEM\((?:entry|ent), \d+\)",  # a table entry's, an objects entry's item
        r"PyTuple_GET_SIZE\((?:entry|ent)\) [=!<>]=? \d+",
        r"PyTuple_Pack\(\d+, h->kind_",  # an event record's size
        r"#define EDGE_SHIFT",
        r"<< 32\b",
        r"% h->sample_every",  # the sampling rule, written out
    ]
    found = [m.group(0) for pattern in literal for m in re.finditer(pattern, text)]
    assert not found, f"_speedups.c writes layout positions as literals: {found}"
    assert text.count("SK_SAMPLED(") == 2  # a call and a return
    assert text.count("SK_P_") >= 10 and text.count("SK_ENTRY_") >= 10 and "SK_EDGE_SHIFT" in text


# -- the Python users ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", USERS)
def test_python_users_name_the_positions(name):
    tree = _tree(name)
    layout_names = {k for k, v in vars(L).items() if k.isupper() and type(v) is int}
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _int(node.slice):
            value = node.value
            if isinstance(value, ast.Name) and value.id in INDEXED:
                bad.append(f"line {node.lineno}: {value.id}[{node.slice.value}]")  # type: ignore[attr-defined]
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "_thread":
                bad.append(f"line {node.lineno}: self._thread()[{node.slice.value}]")  # type: ignore[attr-defined]
        elif isinstance(node, ast.Assign):  # e.g. EDGE_SHIFT = 32, CALL = 0: defined again instead of imported
            for target in node.targets:
                pairs = [(target, node.value)]
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs = list(zip(target.elts, node.value.elts, strict=False))
                for tgt, value in pairs:
                    if isinstance(tgt, ast.Name) and tgt.id in layout_names and _int(value):
                        bad.append(f"line {node.lineno}: {tgt.id} = {value.value}")  # type: ignore[attr-defined]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.LShift) and _int(node.right):
            shift = node.right.value  # type: ignore[attr-defined]
            left = node.left.value if _int(node.left) else None  # type: ignore[attr-defined]
            if shift == L.EDGE_SHIFT or (left is not None and left << shift == L.NODE_KEY_SPAN):
                bad.append(f"line {node.lineno}: a shift by a literal ({shift})")
        elif isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load) and node.elts:
            first = node.elts[0]
            is_event = isinstance(first, ast.Name) and first.id in EVENT_KINDS  # an event record built here
            if is_event and len(node.elts) not in (L.EV_SIZE, L.EV_SIZE_FRAME, L.EV_SIZE_CALLER):
                bad.append(f"line {node.lineno}: an event record of {len(node.elts)} items")
    assert not bad, f"capture/{name} writes the record layout as literals: {bad}"


def _unify(pattern: ast.AST, node: ast.AST, binding: dict[str, str]) -> bool:
    """Does `node` have pattern's shape, each parameter of sampled() standing for one expression throughout?"""
    if isinstance(pattern, ast.Name) and pattern.id in binding:
        seen = ast.dump(node)
        if binding[pattern.id] == "":
            binding[pattern.id] = seen
        return binding[pattern.id] == seen
    if type(pattern) is not type(node):
        return False
    for field, value in ast.iter_fields(pattern):
        other = getattr(node, field)
        if isinstance(value, list):
            if not isinstance(other, list) or len(value) != len(other):
                return False
            pairs = zip(value, other, strict=True)
            if not all(_unify(a, b, binding) if isinstance(a, ast.AST) else a == b for a, b in pairs):
                return False
        elif isinstance(value, ast.AST):
            if not isinstance(other, ast.AST) or not _unify(value, other, binding):
                return False
        elif field != "ctx" and value != other:
            return False
    return True


def test_the_inlined_sampling_rule_is_layout_sampled():
    """The pure-Python hot paths inline the rule (a call per event would cost more): each copy must be sampled()'s
    expression, its thresholds the Budget's (bound under the same names). A changed rule fails here until each
    copy is changed the same way."""
    params, rule = L.rule_expression()

    def matches(node: ast.AST) -> dict[str, str] | None:
        binding = dict.fromkeys(params, "")
        return binding if _unify(rule, node, binding) else None

    copies = 0
    for name in HOT:
        for node in ast.walk(_tree(name)):
            if not isinstance(node, ast.BoolOp):
                continue
            words = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            if not words & {"sample_every", "per_code", "first_calls"}:
                continue
            binding = matches(node)
            if binding is None:  # the rule may be one clause of a larger condition (`arg_names and (rule)`)
                inner = [n for n in ast.walk(node) if n is not node and isinstance(n, ast.BoolOp) and matches(n)]
                assert inner, f"capture/{name} line {node.lineno}: not layout.sampled()'s rule: {ast.unparse(node)}"
                continue  # counted when the walk reaches it
            for p in params[2:]:  # the thresholds: the Budget's, under their own names
                assert binding[p] == ast.dump(ast.Name(p, ast.Load())), (name, node.lineno, p)
            copies += 1
    assert copies == 4  # a call and a return in each backend


# -- the Recorder's state follows the layout ---------------------------------------------------------------
def test_the_recorder_builds_its_state_in_the_layout(tmp_path):
    from collections import defaultdict

    from skeleton_replay.capture.filters import CodeFilter
    from skeleton_replay.capture.recorder import Recorder
    from skeleton_replay.capture.summarise import Summariser

    rec = Recorder(CodeFilter(tmp_path, (), (), False, "__main__", None), Summariser(), R.SpillWriter(tmp_path / "s"))
    p = rec.new_thread()
    assert len(p) == L.P_SIZE
    assert type(p[L.P_TID]) is int and p[L.P_TID] == 1
    assert p[L.P_STACK] == [] and p[L.P_SEEDED] is False and p[L.P_RESUMED] == 0 and p[L.P_SEEN] == {}
    for i in (L.P_COUNTS, L.P_RAISED, L.P_FIRSTS):
        assert type(p[i]) is defaultdict
    assert p[L.P_GEN_EDGES] is rec.gen_edges
    assert rec.buf[-1][L.EV_KIND] == L.DEF_THREAD and rec.buf[-1][L.DEF_THREAD_ID] == p[L.P_TID]
    # a traced code object's table entry
    src = "class Box:\n    def get(self, extra=0):\n        yield extra\n"
    (tmp_path / "m.py").write_text(src, "utf-8")
    ns: dict[str, Any] = {"__name__": "m"}
    exec(compile(src, str(tmp_path / "m.py"), "exec"), ns)
    entry = rec.decide(ns["Box"].get.__code__, None)
    assert entry is not None and len(entry) == L.ENTRY_SIZE
    assert entry[L.ENTRY_INDEX] == 0 and entry[L.ENTRY_RECEIVER] == "self" and entry[L.ENTRY_GENERATOR] is True
    assert entry[L.ENTRY_ARG_NAMES] == ("extra",)
    assert rec.buf[-1][L.EV_KIND] == L.DEF_CODE and rec.buf[-1][L.DEF_CODE_RECORD][0] == entry[L.ENTRY_INDEX]
    rec.spill.close()


# -- real runs write records in the layout ------------------------------------------------------------------
PROGRAM = """
import threading

class Box:
    def __init__(self, v):
        self.v = v
    def get(self, extra=0):
        return self.v + extra

def gen(n):
    for i in range(n):
        yield Box(i).get(i)

def boom(x):
    raise ValueError(x)

def work():
    total = sum(gen(5))
    for i in range(60):
        total += Box(i).get()
        try:
            boom(i)
        except ValueError:
            pass
    return total

t = threading.Thread(target=work)
t.start(); t.join()
print(work())
"""


def _check_records(spill: Path) -> dict[int, int]:
    kinds: dict[int, int] = {}
    threads, codes = set(), set()
    for chunk in R.read_spill(spill):
        for rec in chunk:
            k = rec[L.EV_KIND]
            kinds[k] = kinds.get(k, 0) + 1
            if k == L.DEF_THREAD:
                threads.add(rec[L.DEF_THREAD_ID])
                assert type(rec[L.DEF_THREAD_NAME]) is str
            elif k == L.DEF_CODE:
                codes.add(rec[L.DEF_CODE_RECORD][0])
            elif k >= 0:
                assert k in (L.CALL, L.RETURN, L.UNWIND, L.YIELD, L.RESUME)
                assert len(rec) in (L.EV_SIZE, L.EV_SIZE_FRAME, L.EV_SIZE_CALLER), rec
                assert rec[L.EV_CODE] in codes and rec[L.EV_THREAD] in threads, rec
                assert type(rec[L.EV_TIME]) is int
                detail = rec[L.EV_DETAIL]  # a summary travels as its JSON text (recorder.as_json)
                assert detail is None or (type(detail) is bytes and type(orjson.loads(detail)) is dict), rec
                assert type(rec[L.EV_OBJECT]) is int and (k == L.CALL or rec[L.EV_OBJECT] == 0)
                if len(rec) > L.EV_FRAME:
                    assert rec[L.EV_FRAME] is None or type(rec[L.EV_FRAME]) is int
                if len(rec) > L.EV_CALLER:
                    idx, _obj = L.split_node_key(rec[L.EV_CALLER])
                    assert rec[L.EV_CALLER] == L.MODULE_KEY or idx in codes
    return kinds


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pure", ["", "1"], ids=["C", "pure"])
@pytest.mark.parametrize("max_events", ["0", "300"], ids=["all", "capped"])
def test_real_runs_write_records_in_the_layout(tmp_path, backend, pure, max_events):
    (tmp_path / "app.py").write_text(PROGRAM, "utf-8")
    out = tmp_path / "out"
    env: dict[str, Any] = {"SKELETON_KEEP_SPILL": "1", "SKELETON_PURE_PYTHON": pure}
    proc = skeleton("run", "--no-open", "--no-html", "--backend", backend, "--max-events", max_events,
                    "--out-dir", str(out), "--project-root", str(tmp_path), str(tmp_path / "app.py"), env=env)
    assert proc.returncode == 0, proc.stderr
    kinds = _check_records(out / ".trace.spill")
    assert kinds[L.CALL] > 100 and kinds[L.RETURN] and kinds[L.UNWIND] and kinds[L.YIELD]
    if max_events != "0":
        assert kinds.get(L.AGGREGATE)  # past the cap: calls counted


def test_records_py_reexports_the_layout():
    for name in ("CALL", "RETURN", "UNWIND", "YIELD", "RESUME", "DEF_CODE", "CREATION", "NODE_KEY_SPAN", "MODULE_KEY",
                 "EDGE_SHIFT", "EDGE_MASK"):
        assert getattr(R, name) == getattr(L, name)
    assert R.split_node_key is L.split_node_key
    assert sys.modules["skeleton_replay.capture.layout"] is L
