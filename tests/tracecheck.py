"""Validate trace.jsonl files against skeleton_replay/schema/trace.schema.json.

check_trace(path) is called by every helper that reads a trace (conftest.Run, hostile/_checks.read_trace)
and, after each test, on every trace.jsonl left in the test's tmp_path (conftest.py).

The suite validates the closed world: every `"additionalProperties": true` of the published schema (which
lets readers of a newer trace ignore what they do not know) is false here, so a field Skeleton writes but
the schema does not name fails.

jsonschema costs ~0.5 ms per event on this machine, and tests write traces of 200,000 events. Events are
therefore grouped by their shape (see `shape`): the JSON structure, the sign of every number, and the value
of every property the schema constrains by value (enum/const). One event of each shape is validated; two
events of the same shape pass or fail together because the schema only uses keywords that `shape` keeps
(tests/test_trace_schema.py checks that list). Header and end records are always validated whole.
"""
from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA = json.loads(resources.files("skeleton_replay").joinpath("schema/trace.schema.json").read_text("utf-8"))

# The keywords `shape` accounts for, in the schemas an event is checked against. A new one there (pattern,
# maximum, maxLength, ...) needs `shape` to keep what it depends on: tests/test_trace_schema.py fails until
# it is listed here. Header and end records are validated whole: any keyword works for them.
SHAPE_SAFE_KEYWORDS = {"$ref", "description", "type", "properties", "required", "additionalProperties", "items",
                       "prefixItems", "enum", "const", "oneOf", "allOf", "if", "then", "minimum"}
SHAPE_SAFE_MINIMUMS = {0, 1}  # `shape` keeps the sign of numbers: below 0, 0, above 0


def closed(schema):
    """The schema with every open object closed (what the test suite checks)."""
    if isinstance(schema, dict):
        return {k: (False if k == "additionalProperties" and v is True else closed(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [closed(v) for v in schema]
    return schema


def _validator(definition: str) -> Draft202012Validator:
    """Lines are checked against the definition their place calls for: clearer errors than the top-level oneOf."""
    strict = closed(SCHEMA)
    return Draft202012Validator({**{k: v for k, v in strict.items() if k != "oneOf"}, "$ref": f"#/$defs/{definition}"})


Draft202012Validator.check_schema(SCHEMA)
HEADER, EVENT, END = _validator("Header"), _validator("Event"), _validator("End")


def _value_keys(schema) -> set[str]:
    """Names of the properties whose schema constrains the value itself (enum/const)."""
    out: set[str] = set()
    if isinstance(schema, dict):
        for name, sub in (schema.get("properties") or {}).items():
            while isinstance(sub, dict) and "$ref" in sub:
                sub = SCHEMA["$defs"][sub["$ref"].rsplit("/", 1)[-1]]
            if isinstance(sub, dict) and ("enum" in sub or "const" in sub):
                out.add(name)
        for v in schema.values():
            out |= _value_keys(v)
    elif isinstance(schema, list):
        for v in schema:
            out |= _value_keys(v)
    return out


VALUE_KEYS = frozenset(_value_keys(SCHEMA["$defs"]))


def shape(value, key: str | None = None, memo: dict | None = None):
    """What the schema can tell apart in a value: structure, key names, number signs, enum/const values.

    memo: shapes of flat objects (endpoints, most summaries) by their items, to skip recomputing them."""
    t = type(value)
    if t is dict:
        if memo is not None:
            try:
                items = tuple(value.items())
                key_ = (items, tuple(map(type, value.values())))  # 1 == 1.0 == True as dict keys
                return memo[key_]
            except TypeError:  # nested: not hashable
                pass
            except KeyError:
                out = memo[key_] = tuple([(k, shape(v, k)) for k, v in items])
                return out
        return tuple([(k, shape(v, k, memo)) for k, v in value.items()])
    if t is list:
        return ("[", *[shape(v, None, memo) for v in value])
    if value is None or t is bool:
        return value
    if key in VALUE_KEYS:
        return t, value
    if t is str:
        return str
    if t is float:
        return t, (value > 0) - (value < 0), value.is_integer()  # 2.0 is an integer to JSON Schema, 2.5 is not
    return t, (value > 0) - (value < 0)


def _problem(validator: Draft202012Validator, record: dict) -> str | None:
    error = best_match(validator.iter_errors(record))
    if error is None:
        return None
    if error.validator in ("oneOf", "anyOf"):  # its message starts with the whole instance
        how = "valid under more than one" if "valid under each of" in error.message else "not valid under any"
        rule = "/".join(str(p) for p in error.absolute_schema_path)
        return f"{error.json_path}: {how} of {error.validator} ({rule})"
    if error.validator is None and error.schema is False:  # a forbidden property: not in jsonschema's path
        parent = record
        for step in error.absolute_path:
            parent = parent[step]
        names = [k for k, v in parent.items() if v is error.instance] if isinstance(parent, dict) else []
        if names:
            return f"{error.json_path}.{names[0]}: not allowed here"
    return f"{error.json_path}: {error.message[:300]}"


def check_lines(lines: list[dict], name: str = "trace.jsonl") -> None:
    """Raise AssertionError naming the first line that breaks the format."""
    assert len(lines) >= 2, f"{name}: {len(lines)} line(s); a trace has a header and an end record at least"
    header, end = lines[0], lines[-1]
    assert isinstance(header, dict) and header.get("record") == "header", f"{name}:1: the first line is not a header"
    assert isinstance(end, dict) and end.get("record") == "end", \
        f"{name}:{len(lines)}: the last line is not an end record"
    for lineno, record, validator in ((1, header, HEADER), (len(lines), end, END)):
        problem = _problem(validator, record)
        assert problem is None, f"{name}:{lineno}: {problem}"
    seen: set = set()
    memo: dict = {}
    calls: set[int] = set()  # orders of the call events so far
    unrecorded: set[str] = set()  # callees resumed with call_id null (their call was not recorded)
    for order, record in enumerate(lines[1:-1]):
        lineno = order + 2
        assert isinstance(record, dict) and "record" not in record, \
            f"{name}:{lineno}: a {record.get('record')!r} record between the header and the end"
        s = shape(record, None, memo)
        if s not in seen:
            problem = _problem(EVENT, record)
            assert problem is None, f"{name}:{lineno}: {problem}"
            seen.add(s)
        assert record["order"] == order, f"{name}:{lineno}: order {record['order']}, expected {order}"
        call_id = record["call_id"]
        kind = record["event_type"]
        if kind == "call":
            assert call_id == order, f"{name}:{lineno}: a call's call_id {call_id} is not its order {order}"
            calls.add(order)
        elif call_id is None:  # a generator/coroutine whose call was not recorded: first seen resuming
            callee = record["callee"]["node_id"]
            if kind == "resume":
                unrecorded.add(callee)
            assert callee in unrecorded, \
                f"{name}:{lineno}: a {kind} with call_id null before any resume of {callee} with call_id null"
        else:
            assert call_id in calls, f"{name}:{lineno}: call_id {call_id} is not the order of an earlier call"
    assert end["events"] == len(lines) - 2, \
        f"{name}: the end record says {end['events']} events, the file has {len(lines) - 2}"


_checked: dict[str, tuple[int, int]] = {}  # path -> (mtime_ns, size) of the version that passed
_handled: dict[str, tuple[int, int]] = {}  # ... of versions that failed (reported once) or are not to be checked


def _version(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def check_trace(path: str | os.PathLike[str]) -> list[dict]:
    """The trace's lines, after checking them (once per version of the file)."""
    path = Path(path)
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    version = _version(path)
    if _checked.get(str(path)) != version:
        try:
            check_lines(lines, str(path))
        except AssertionError:
            _handled[str(path)] = version
            raise
        _checked[str(path)] = version
    return lines


def seen(path: Path) -> bool:
    """Checked, reported or skipped already in this version."""
    version = _version(path)
    return version in (_checked.get(str(path)), _handled.get(str(path)))


def skip(path: Path) -> None:
    """Do not check this version of the file (a test rewrote it on purpose)."""
    _handled[str(path)] = _version(path)


def traces_under(folder: Path) -> list[Path]:
    """Every trace.jsonl Skeleton may have written under folder (regular files: a planted link is not one)."""
    out = []
    for root, dirs, files in os.walk(folder):
        if "trace.jsonl" in files:
            p = Path(root) / "trace.jsonl"
            if p.is_file() and not p.is_symlink():
                out.append(p)
    return out
