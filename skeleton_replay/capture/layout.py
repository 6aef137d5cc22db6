"""The record layout: ONE definition for the tracer (Python and C) and the decoder.

What the hot paths and the decoder agree on by position lives here, and only here:
  * the record kinds and the position of each field in each kind of record (the spill, records.py);
  * the positions in a traced code object's table entry and in a thread's state list (the Recorder's
    state that sysmon.py, setprofile.py, counting.py, budget.py and _speedups.c read by index);
  * the node keys of the counting regime (NODE_KEY_SPAN, MODULE_KEY) and the packed edges (EDGE_SHIFT/MASK);
  * the sampling rule: which calls get their argument/return summaries (sampled()).

`python -m skeleton_replay.capture.layout` writes _layout.h (the same names with an SK_ prefix, and the
sampling rule as the macro SK_SAMPLED, translated from sampled()'s expression) for the C code that
includes it. tests/test_layout.py fails when the header is stale, when a Python user writes one of these
positions as a literal, and when an inlined copy of the sampling rule differs from sampled()
(the pure-Python hot paths inline it: a function call per event would cost more than the rule).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:  # the generator's imports are made when it runs: importing the layout stays cheap
    import ast

# -- record kinds ------------------------------------------------------------------------------
# event records (non-negative)
CALL: Final = 0
RETURN: Final = 1
UNWIND: Final = 2
YIELD: Final = 3
RESUME: Final = 4
# definition records (negative)
DEF_CODE: Final = -1
DEF_THREAD: Final = -2
DEF_OBJECT: Final = -3
GAP: Final = -4
AGGREGATE: Final = -5
SCENARIO: Final = -6
SCENARIO_END: Final = -7
BOUNDARY: Final = -8
BOUNDARY_COUNTS: Final = -9
CREATION: Final = -10

# -- positions in an event record: (kind, code index, thread, t_ns, detail, object[, frame[, caller]]) -----------
EV_KIND: Final = 0  # every record's kind is its first item
EV_CODE: Final = 1  # the code index (DEF_CODE)
EV_THREAD: Final = 2  # the thread number (DEF_THREAD)
EV_TIME: Final = 3  # perf_counter_ns()
EV_DETAIL: Final = 4  # a summary (arguments, value, exception) or None
EV_OBJECT: Final = 5  # CALL: the receiver's run-local id (0: none); the others: 0
EV_FRAME: Final = 6  # generators and coroutines: id(frame); an edge's first call while counting: that or None
EV_CALLER: Final = 7  # an edge's first call while counting: its caller's node key (MODULE_KEY: a module body)
EV_SIZE: Final = 6  # a record without the frame
EV_SIZE_FRAME: Final = 7  # with the frame
EV_SIZE_CALLER: Final = 8  # with the frame (or None) and the caller

# -- positions in the definition records -------------------------------------------------------------
DEF_CODE_RECORD: Final = 1  # (DEF_CODE, CodeInfo.as_record())
DEF_THREAD_ID: Final = 1  # (DEF_THREAD, thread, name)
DEF_THREAD_NAME: Final = 2
DEF_OBJECT_ID: Final = 1  # (DEF_OBJECT, object_id, module, qualname, is_class)
DEF_OBJECT_MODULE: Final = 2
DEF_OBJECT_QUALNAME: Final = 3
DEF_OBJECT_IS_CLASS: Final = 4
GAP_KIND: Final = 1  # (GAP, kind, message, count)
GAP_MESSAGE: Final = 2
GAP_COUNT: Final = 3
AGGREGATE_COUNTS: Final = 1  # (AGGREGATE, counts, raised, scenario, resumed)
AGGREGATE_RAISED: Final = 2
AGGREGATE_SCENARIO: Final = 3
AGGREGATE_RESUMED: Final = 4
SCENARIO_NAME: Final = 1  # (SCENARIO or SCENARIO_END, name, info)
SCENARIO_INFO: Final = 2
BOUNDARY_N: Final = 1  # (BOUNDARY, n, code_index, object_id, kind, target, op, detail)
BOUNDARY_CODE: Final = 2
BOUNDARY_OBJECT: Final = 3
BOUNDARY_KIND: Final = 4
BOUNDARY_TARGET: Final = 5
BOUNDARY_OP: Final = 6
BOUNDARY_DETAIL: Final = 7
BOUNDARY_COUNTS_MAP: Final = 1  # (BOUNDARY_COUNTS, {n: times seen after the first})
CREATION_OP: Final = 1  # (CREATION, op, ...): the rest per op (capture/creations.py)

# -- a traced code object's entry in Recorder.table: (index, receiver, generator, arg_names) ------------
ENTRY_INDEX: Final = 0  # its code index
ENTRY_RECEIVER: Final = 1  # "self", "cls" or None
ENTRY_GENERATOR: Final = 2  # a generator or coroutine?
ENTRY_ARG_NAMES: Final = 3  # the names of the arguments to summarise
ENTRY_SIZE: Final = 4

# -- an object's entry in Recorder.objects: {id(obj): (object id, class)} -------------------------------
OBJECT_ENTRY_ID: Final = 0
OBJECT_ENTRY_CLASS: Final = 1
OBJECT_ENTRY_SIZE: Final = 2

# -- a thread's state list p (counting.py: Counting.new_thread) -----------------------------------------
P_TID: Final = 0  # its thread number
P_STACK: Final = 1  # node keys of its open traced frames while counting (-1 - key: written as a record)
P_COUNTS: Final = 2  # {edge: calls} while counting
P_RAISED: Final = 3  # {edge: calls that raised}
P_SEEDED: Final = 4  # the stack holds the frames open when the thread began counting
P_FIRSTS: Final = 5  # {edge: counted calls that were recorded (an edge's first calls)}
P_SEEN: Final = 6  # {edge: first calls recorded in the whole run} (never reset)
P_RESUMED: Final = 7  # events of counted generators past their call
P_GEN_EDGES: Final = 8  # the Recorder's {id(frame) of a counted generator: its call's edge}
P_SIZE: Final = 9

# -- node keys and edges past the cap ------------------------------------------------------------------
# Past the event cap the tracers count calls per caller -> callee node. A node is one int,
# obj * NODE_KEY_SPAN + code index (no tuple to build or hash on the hot path); frames that are
# written as records sit on the per-thread stack as -1 - key. Code indexes stay below the span
# (Recorder._decide); keys of objects below 4096 fit in 32 bits.
NODE_KEY_SPAN: Final = 1 << 20
# The key of a module body being imported (capture/budget.py): calls it makes are counted with no caller
# (AGGREGATE keys ((), callee)); a CALL record's caller (EV_CALLER) may be it.
MODULE_KEY: Final = NODE_KEY_SPAN - 1
# An edge of two keys below 2**32 is packed into one int: caller << EDGE_SHIFT | callee.
EDGE_SHIFT: Final = 32
EDGE_MASK: Final = (1 << EDGE_SHIFT) - 1


# -- the packed spill chunk (records.pack_records/unpack_records, _speedups.c, events/_decode.c) -------------
# The spill holds the records chunk by chunk, each packed: CHUNK_HEAD bytes (u32 records, u32 length of `others`),
# `others` (marshal of the list of records that are no plain event record, in their order), then one row per
# record, little-endian: u8 tag (ROW_OTHER: the next record of `others`; else the event record's kind), and for an
# event u8 flags, u32 code index, u32 thread, i64 t_ns, i64 object (ROW_HEAD bytes with the tag), then the
# frame (i64) if ROW_FRAME and not ROW_FRAME_NONE, the caller (i64) if ROW_CALLER, and the detail (u32 n, n bytes)
# if ROW_DETAIL (else it is None). Unpacked, a row is the very tuple that was packed.
CHUNK_HEAD: Final = 8
ROW_HEAD: Final = 26
ROW_OTHER: Final = 255
ROW_DETAIL: Final = 1  # a summary (bytes) follows; without it the detail is None
ROW_FRAME: Final = 2  # the record has its EV_FRAME item
ROW_FRAME_NONE: Final = 4  # ... and it is None
ROW_CALLER: Final = 8  # the record has its EV_CALLER item (then ROW_FRAME too)


def split_node_key(key: int) -> tuple[int, int]:
    """(code index, object id) of a node key; a negative (record-written) key counts as its node."""
    if key < 0:
        key = -1 - key
    obj, idx = divmod(key, NODE_KEY_SPAN)
    return idx, obj


def sampled(calls: int, n: int, first_calls: int, per_code: int, sample_every: int) -> bool:
    """Does a call (or its return) get a summary? The sampling rule (budget.Budget, docs/trace-format.md).

    calls: calls recorded so far in the run (or scenario); n: calls of this function so far.
    Every call among the first `first_calls`, the first `per_code` of each function, then one in
    `sample_every`. One expression, no other statement: _layout.h's SK_SAMPLED is translated from it,
    and the pure-Python hot paths inline it (tests/test_layout.py checks each copy against it).
    """
    return calls <= first_calls or n <= per_code or n % sample_every == 0


# -- the C header ----------------------------------------------------------------------------------------
# (title, names): what _layout.h defines, in this order, each as SK_<name>.
GROUPS: Final = (
    (
        "record kinds",
        (
            "CALL",
            "RETURN",
            "UNWIND",
            "YIELD",
            "RESUME",
            "DEF_CODE",
            "DEF_THREAD",
            "DEF_OBJECT",
            "GAP",
            "AGGREGATE",
            "SCENARIO",
            "SCENARIO_END",
            "BOUNDARY",
            "BOUNDARY_COUNTS",
            "CREATION",
        ),
    ),
    (
        "positions in an event record",
        (
            "EV_KIND",
            "EV_CODE",
            "EV_THREAD",
            "EV_TIME",
            "EV_DETAIL",
            "EV_OBJECT",
            "EV_FRAME",
            "EV_CALLER",
            "EV_SIZE",
            "EV_SIZE_FRAME",
            "EV_SIZE_CALLER",
        ),
    ),
    (
        "positions in the definition records",
        (
            "DEF_CODE_RECORD",
            "DEF_THREAD_ID",
            "DEF_THREAD_NAME",
            "DEF_OBJECT_ID",
            "DEF_OBJECT_MODULE",
            "DEF_OBJECT_QUALNAME",
            "DEF_OBJECT_IS_CLASS",
            "GAP_KIND",
            "GAP_MESSAGE",
            "GAP_COUNT",
            "AGGREGATE_COUNTS",
            "AGGREGATE_RAISED",
            "AGGREGATE_SCENARIO",
            "AGGREGATE_RESUMED",
            "SCENARIO_NAME",
            "SCENARIO_INFO",
            "BOUNDARY_N",
            "BOUNDARY_CODE",
            "BOUNDARY_OBJECT",
            "BOUNDARY_KIND",
            "BOUNDARY_TARGET",
            "BOUNDARY_OP",
            "BOUNDARY_DETAIL",
            "BOUNDARY_COUNTS_MAP",
            "CREATION_OP",
        ),
    ),
    (
        "a traced code object's table entry",
        ("ENTRY_INDEX", "ENTRY_RECEIVER", "ENTRY_GENERATOR", "ENTRY_ARG_NAMES", "ENTRY_SIZE"),
    ),
    ("an object's entry in Recorder.objects", ("OBJECT_ENTRY_ID", "OBJECT_ENTRY_CLASS", "OBJECT_ENTRY_SIZE")),
    (
        "a thread's state list",
        (
            "P_TID",
            "P_STACK",
            "P_COUNTS",
            "P_RAISED",
            "P_SEEDED",
            "P_FIRSTS",
            "P_SEEN",
            "P_RESUMED",
            "P_GEN_EDGES",
            "P_SIZE",
        ),
    ),
    ("node keys and packed edges", ("NODE_KEY_SPAN", "MODULE_KEY", "EDGE_SHIFT", "EDGE_MASK")),
    (
        "the packed spill chunk",
        ("CHUNK_HEAD", "ROW_HEAD", "ROW_OTHER", "ROW_DETAIL", "ROW_FRAME", "ROW_FRAME_NONE", "ROW_CALLER"),
    ),
)

HEADER: Final = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_layout.h")

_C_OPS: Final = {
    "Or": "||",
    "And": "&&",
    "LtE": "<=",
    "Lt": "<",
    "GtE": ">=",
    "Gt": ">",
    "Eq": "==",
    "NotEq": "!=",
    "Mod": "%",
    "Add": "+",
    "Sub": "-",
    "Mult": "*",
}


def rule_expression() -> tuple[list[str], ast.expr]:
    """sampled()'s parameter names and the expression it returns (the one definition of the rule)."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(sampled))
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise ValueError("sampled() must be one return of one expression")
    return [a.arg for a in fn.args.args], body[0].value


def c_expression(node: ast.expr) -> str:
    """A Python expression of names, ints, comparisons, `or`/`and` and arithmetic, as C (fully parenthesised)."""
    import ast

    def op(o: ast.AST) -> str:
        name = type(o).__name__
        if name not in _C_OPS:
            raise ValueError(f"no C translation for {name}")
        return _C_OPS[name]

    if isinstance(node, ast.Name):
        return f"({node.id})"
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return str(node.value)
    if isinstance(node, ast.BoolOp):
        return "(" + f" {op(node.op)} ".join(c_expression(v) for v in node.values) + ")"
    if isinstance(node, ast.BinOp):
        return f"({c_expression(node.left)} {op(node.op)} {c_expression(node.right)})"
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return f"({c_expression(node.left)} {op(node.ops[0])} {c_expression(node.comparators[0])})"
    raise ValueError(f"no C translation for {ast.dump(node)}")


def _c_int(value: int) -> str:
    text = str(value) if -(2**31) <= value < 2**31 else f"{value}LL"
    return f"({text})" if value < 0 else text


def render_header() -> str:
    """The text of _layout.h."""
    lines = [
        "/* The record layout (skeleton_replay/capture/layout.py), for the C code: GENERATED, do not edit.",
        " * Regenerate with `python -m skeleton_replay.capture.layout`; tests/test_layout.py fails when stale. */",
        "#ifndef SKELETON_LAYOUT_H",
        "#define SKELETON_LAYOUT_H",
    ]
    values = vars(sys.modules[__name__])
    for title, names in GROUPS:
        lines.append("")
        lines.append(f"/* {title} */")
        for name in names:
            lines.append(f"#define SK_{name} {_c_int(values[name])}")
    params, expr = rule_expression()
    lines += [
        "",
        "/* the sampling rule: does a call (or its return) get a summary? (layout.sampled) */",
        f"#define SK_SAMPLED({', '.join(params)}) \\",
        f"    {c_expression(expr)}",
        "",
        "#endif /* SKELETON_LAYOUT_H */",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write _layout.h (--check: only say whether it is current; exit 1 when stale)."""
    args = sys.argv[1:] if argv is None else argv
    text = render_header()
    try:
        with open(HEADER, encoding="utf-8") as f:
            current = f.read()
    except FileNotFoundError:
        current = None
    if args == ["--check"]:
        if current != text:
            print(f"{HEADER} is stale: run `python -m skeleton_replay.capture.layout`", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m skeleton_replay.capture.layout [--check]", file=sys.stderr)
        return 2
    if current != text:
        with open(HEADER, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(HEADER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
