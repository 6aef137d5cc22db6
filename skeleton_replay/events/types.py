"""The event model of trace.jsonl.

FORMAT_VERSION history (the `schema_version` field of every trace.jsonl line):
  1  first version: header record, call/return/yield/resume events with caller and
     callee endpoints, exceptions on return events, threads, end record.
     Later additions (optional fields, readers ignore what they do not know): `scenario` on
     events and `scenario` records (pytest runs), `role` on endpoints, `scenarios` and
     `counted` in the end record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

FORMAT_VERSION = 1

# Step kinds (the `kinds` table of snapshot steps). An exception leaving a function
# is a "return" event with an "exception" field in trace.jsonl, kind "exception" here.
CALL, RETURN, EXCEPTION, YIELD, RESUME = 0, 1, 2, 3, 4
EVENT_KINDS = ("call", "return", "exception", "yield", "resume")
EVENT_TYPE = ("call", "return", "return", "yield", "resume")  # trace.jsonl event_type


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

    def as_json(self) -> dict:
        d = {
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
    def from_json(cls, d: dict) -> "Endpoint":
        node_id = d["node_id"]
        instance_node = None
        label = None
        if node_id.startswith("meth:") and d.get("callable_kind") == "instance_method":
            owner = node_id[5:].rsplit(".", 1)[0]
            instance_node = "inst:" + owner
            label = owner.rsplit(".", 1)[-1]
            if label.endswith("#*"):  # the shared node of instances past the per-class limit
                label = label[:-2] + " (other instances)"
        elif node_id.startswith("clsm:"):
            owner = node_id[5:].rsplit(".", 1)[0]
            instance_node = "cls:" + owner
            label = owner.rsplit(".", 1)[-1]
        return cls(node_id, d["module"], d.get("class_name"), d["function"], d["qualified_name"], d["file"],
                   d["line"], d["callable_kind"], d.get("instance_id"), bool(d.get("internal", False)),
                   instance_node, label, d.get("role"))


class Event(NamedTuple):
    order: int  # global, gap-free among recorded events; -1 past the cap
    kind: int  # CALL / RETURN / EXCEPTION / YIELD / RESUME
    call_id: int  # order of the matching call (-1 past the cap)
    t_ns: int  # since the run started
    depth: int
    thread: int
    caller: Endpoint | None
    callee: Endpoint
    detail: Any  # args (call), return value, exception, yielded value, or None
    skipped: bool  # summary skipped by the budget
    thread_name: str | None = None  # set on the first event of each thread
    ns: int = 0  # duration of the call (return/exception events)
    scenario: str | None = None  # the scenario (pytest test, traced block) running when it happened


@dataclass
class TraceHeader:
    skeleton_version: str
    python_version: str
    backend: str
    backend_reason: str
    project_root: str
    command: list[str]
    target: dict
    app_name: str
    started_at: str
    options: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"record": "header", "schema_version": FORMAT_VERSION, **self.__dict__}


@dataclass
class TraceEnd:
    events: int = 0  # recorded
    dropped_events: int = 0
    calls: int = 0
    duration_s: float = 0.0
    exit_code: int | None = None
    status: str = "ok"
    error: dict | None = None
    threads: list[dict] = field(default_factory=list)
    gaps: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"record": "end", "schema_version": FORMAT_VERSION, **self.__dict__}
