"""The event model of trace.jsonl.

FORMAT_VERSION history (the `schema_version` field of every trace.jsonl line):
  1  first version: header record, call/return/yield/resume events with caller and
     callee endpoints, exceptions on return events, threads, end record.
     Later additions (optional fields, readers ignore what they do not know): `scenario` on
     events (pytest runs, trace(scenario=...)), `role` on endpoints, `scenarios` (one entry per
     scenario; there are no scenario lines) and `counted` in the end record, `request` in the
     header (web requests).
The published schema of every line: skeleton_replay/schema/trace.schema.json (docs/trace-format.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, NamedTuple

import orjson

FORMAT_VERSION = 1

# Step kinds (the `kinds` table of snapshot steps). An exception leaving a function
# is a "return" event with an "exception" field in trace.jsonl, kind "exception" here.
CALL, RETURN, EXCEPTION, YIELD, RESUME = 0, 1, 2, 3, 4
EVENT_KINDS = ("call", "return", "exception", "yield", "resume")
EVENT_TYPE = ("call", "return", "return", "yield", "resume")  # trace.jsonl event_type


class ChunkedList:
    """A record's list value made and written a chunk of items at a time (TraceWriter.record): the end record's
    counted entries, 44k on sqlparse's suite (35 MB of JSON), are never all alive as dicts nor as one bytes
    object. chunks(): lists of JSON-ready items, in order; the JSON written is orjson's of the whole list."""

    __slots__ = ("_chunks", "_json", "_len")

    def __init__(
        self,
        chunks: Callable[[], Iterator[list[Any]]],
        length: int,
        json_chunks: Callable[[], Iterator[bytes | list[Any]]] | None = None,
    ) -> None:
        self._chunks = chunks
        self._len = length
        self._json = json_chunks

    def __len__(self) -> int:
        return self._len

    def chunks(self) -> Iterator[list[Any]]:
        return self._chunks()

    def json_chunks(self) -> Iterator[bytes | list[Any]]:
        """The chunks as they are written: each the JSON of its items joined by commas (bytes), or a list of
        JSON-ready items where there is no faster way (json_chunks not given, or a chunk it left to orjson)."""
        return self._json() if self._json is not None else self._chunks()

    def as_list(self) -> list[Any]:
        return [item for chunk in self._chunks() for item in chunk]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One callable as it ran: a function, or a method on one receiver."""

    node_id: str
    module: str
    class_name: str | None
    function: str
    qualified_name: str
    file: str
    line: int
    callable_kind: str
    instance_id: int | None
    internal: bool = False
    instance_node: str | None = None  # inst:/cls: node that holds a method
    instance_label: str | None = None
    role: str | None = None  # "harness": test code (pytest runs)

    def __hash__(self) -> int:
        # Equal endpoints have equal node ids: hashing the id alone is enough, and the dataclass's own hash (a
        # 13-field tuple, built on every call) was most of the cost of the decoder's counted-call dicts
        # (sqlparse's suite: 88k hashes, ~40 ms). Kept by @dataclass: an explicit __hash__ is not replaced.
        return hash(self.node_id)

    def as_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "module": self.module,
            "class_name": self.class_name,
            "function": self.function,
            "qualified_name": self.qualified_name,
            "file": self.file,
            "line": self.line,
            "node_id": self.node_id,
            "instance_id": self.instance_id,
            "callable_kind": self.callable_kind,
        }
        if self.internal:
            d["internal"] = True
        if self.role:
            d["role"] = self.role
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Endpoint:
        node_id = d["node_id"]
        instance_node = None
        label = None
        if node_id.startswith("meth:") and d.get("callable_kind") == "instance_method":
            rest = node_id[5:]  # <instance>#<n>.<function, or the code's qualname: decode.implementation>
            owner = rest[: rest.find(".", rest.rfind("#"))]
            instance_node = "inst:" + owner
            label = owner.rsplit(".", 1)[-1]
            if label.endswith("#*"):  # the shared node of instances past the per-class limit
                label = label[:-2] + " (other instances)"
        elif node_id.startswith("clsm:"):
            owner = _class_owner(node_id[5:], d)
            instance_node = "cls:" + owner
            label = owner.rsplit(".", 1)[-1]
        return cls(
            node_id,
            d["module"],
            d.get("class_name"),
            d["function"],
            d["qualified_name"],
            d["file"],
            d["line"],
            d["callable_kind"],
            d.get("instance_id"),
            bool(d.get("internal", False)),
            instance_node,
            label,
            d.get("role"),
        )


def _class_owner(rest: str, d: dict[str, Any]) -> str:
    """The class part of a clsm: id: `<module>.<Class>.<function>`, or with the code's qualname
    (`module:qualname` too) when the code is defined on another class (decode.implementation)."""
    cls = d.get("class_name") or ""
    q = d["qualified_name"]
    for tail in (f"{d['module']}:{q}", q, d["function"]):
        owner = rest[: -len(tail) - 1]
        if rest.endswith("." + tail) and (owner == cls or owner.endswith("." + cls)):
            return owner
    return rest.rsplit(".", 1)[0]


# An event's summary (detail) is the JSON text trace.jsonl holds for it, as bytes: made once at capture
# (capture/recorder.as_json), copied into the line by the trace writer, parsed (summary()) only where it is kept.
_CLOSE_HEAD = b'{"type":"GeneratorExit",'  # an exception summary's "type" comes first (Summariser.exception)


def summary(detail: Any) -> Any:
    """An event's summary as data: its JSON bytes parsed (other values as they are: events built by hand)."""
    return orjson.loads(detail) if type(detail) is bytes else detail


def closed(detail: Any) -> bool:
    """Is this exception summary a close's (GeneratorExit: a generator or coroutine closed, not a failure)?"""
    if type(detail) is bytes:
        return detail.startswith(_CLOSE_HEAD) or detail == b'{"type":"GeneratorExit"}'
    return type(detail) is dict and detail.get("type") == "GeneratorExit"


class Event(NamedTuple):
    order: int  # global, gap-free among recorded events; -1 past the cap
    kind: int  # CALL / RETURN / EXCEPTION / YIELD / RESUME
    call_id: int | None  # order of the matching call (-1 past the cap, None: the call was not recorded)
    t_ns: int  # since the run started
    depth: int
    thread: int
    caller: Endpoint | None
    callee: Endpoint
    detail: Any  # JSON bytes (summary()): args (call), return value, exception, yielded value; or None
    skipped: bool  # summary skipped by the budget
    thread_name: str | None = None  # set on the first event of each thread
    ns: int = 0  # duration of the call (return/exception events)
    scenario: str | None = None  # the scenario (pytest test, traced block) running when it happened


# The end record's `status` (docs/cli.md#runresult). snapshot.json adds "incomplete" for a trace
# that has no end record; no trace.jsonl carries it.
STATUSES = ("ok", "exception", "exit", "interrupted", "killed")
# Gap kinds written today (the `kind` of a gap is an open string: readers must accept new ones;
# docs/trace-format.md and the schema's Gap description list these, tests/test_trace_schema.py checks).
GAP_KINDS = ("cap", "tracer_error", "unmatched", "child_process", "truncated", "interrupted", "sampling", "other")


@dataclass
class TraceHeader:
    """The first line of trace.jsonl: `$defs/Header` in schema/trace.schema.json."""

    skeleton_version: str
    python_version: str
    backend: str  # "sysmon" or "setprofile"
    backend_reason: str
    project_root: str
    command: list[str]
    target: dict[str, Any]  # {"kind": script|module|pytest|api|request, "path": str, "args": [str]}
    app_name: str
    started_at: str  # UTC, ISO 8601, seconds
    options: dict[str, Any]  # {"max_events": int, "include": [str], "exclude": [str], "include_private": bool}
    invocation: list[str] | None = None  # written only when known
    request: dict[str, Any] | None = None  # web requests only ($defs/RequestInfo)

    def as_json(self) -> dict[str, Any]:
        return {"record": "header", "schema_version": FORMAT_VERSION, **_fields_json(self, ("invocation", "request"))}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TraceHeader:
        """From a header record; fields this version does not know are ignored."""
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass
class TraceEnd:
    """The last line of trace.jsonl: `$defs/End` in schema/trace.schema.json.

    The run's part (RUN_FIELDS) is known when the traced program ends; the totals (events ... scenarios)
    come from decoding its records (events/write_trace.end_record)."""

    duration_s: float
    exit_code: int | None
    status: str  # one of STATUSES
    error: dict[str, Any] | None = None  # {"type": str, "message": str}
    gaps: list[dict[str, Any]] = field(default_factory=list)  # {"kind": str, "message": str, "count": int}
    events: int = 0  # written to the file
    dropped_events: int = 0
    calls: int = 0
    threads: list[dict[str, Any]] = field(default_factory=list)  # {"id", "name", "events"}
    # {"caller", "callee", "calls", "raised"[, "scenario"]}; a ChunkedList in an end record made for writing
    counted: list[dict[str, Any]] | ChunkedList = field(default_factory=list)
    scenarios: list[dict[str, Any]] | None = None  # pytest runs and trace(scenario=...) only
    boundaries: list[dict[str, Any]] | None = None  # I/O boundary uses (events/boundaries.py); runs that did I/O only
    creations: list[dict[str, Any]] | None = None  # who created whom (events/creations.py); runs that made objects
    # what the recording budgets recorded per phase (capture/budget.py); capped runs
    sampling: dict[str, Any] | None = None

    RUN_FIELDS: ClassVar[tuple[str, ...]] = ("duration_s", "exit_code", "status", "error", "gaps", "sampling")

    def run_end(self) -> dict[str, Any]:
        """The run's part only, as the pipeline takes it (and .trace-end.json holds it)."""
        return {
            name: getattr(self, name) for name in self.RUN_FIELDS if name != "sampling" or self.sampling is not None
        }

    def as_json(self) -> dict[str, Any]:
        optional = ("scenarios", "boundaries", "creations", "sampling")
        return {"record": "end", "schema_version": FORMAT_VERSION, **_fields_json(self, optional)}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TraceEnd:
        """From an end record (or a run end); fields this version does not know are ignored."""
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


def _fields_json(record: TraceHeader | TraceEnd, omit_when_none: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(record):
        value = getattr(record, f.name)
        if value is not None or f.name not in omit_when_none:
            out[f.name] = value
    return out
