"""Spill records (capture) -> typed events, with per-thread stacks.

One streaming pass. Calls, returns, yields and resumes are matched on a stack per
thread; a generator or coroutine that yields leaves its thread's stack and is
parked by frame key until it resumes (on any thread), keeping its call_id. One resumed with no
parked frame (its call was only counted past a budget, or ran before tracing began) gets a frame
whose call order is None: its events have call_id None (`"call_id": null` in trace.jsonl).

The loop over a chunk's event records runs in C when events/_decode.c was built (native.py): the same
loop over the same Decoder state, calling back into the methods here for every rare record (definitions,
scenarios, boundaries, an endpoint not yet cached, the caller of an edge's first counted call), so
either loop can take over from the other between two chunks. `_chunk` is its pure-Python twin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any

from .. import native
from ..capture import records as R
from ..capture.filters import CodeInfo
from .boundaries import BoundaryLog
from .creations import CreationLog
from .types import CALL, EXCEPTION, RESUME, RETURN, YIELD, Endpoint, Event, closed

_KIND = {R.CALL: CALL, R.RETURN: RETURN, R.UNWIND: EXCEPTION, R.YIELD: YIELD, R.RESUME: RESUME}


def _native_loop() -> ModuleType | None:
    """events/_decode.c, told the event type and kinds (None: not built, or SKELETON_PURE_PYTHON)."""
    mod = native.load("events._decode")
    if mod is not None:
        mod.configure(Event, CALL, RETURN, EXCEPTION, YIELD, RESUME)
    return mod


class Decoder:
    def __init__(self, max_events: int = 0) -> None:
        self.max_events = max_events or 0  # 0 = unlimited
        self.codes: dict[int, CodeInfo] = {}
        self.thread_names: dict[int, str] = {}
        self._named: set[int] = set()
        self.objects: dict[int, tuple[str, str, bool]] = {}
        self._instance_nodes: dict[int, tuple[str, str]] = {}
        self._class_counters: dict[tuple[str, str], int] = {}
        self._endpoints: dict[tuple[int, int], Endpoint] = {}
        # a frame: [call order, code index, callee, start, frame key, caller]
        self.stacks: dict[int, list[list[Any]]] = {}
        self.parked: dict[int, list[Any]] = {}
        self.order = 0
        self.dropped = 0
        self.calls = 0
        self.t0: int | None = None
        self.gaps: list[dict[str, Any]] = []
        # (caller, callee, calls, raised, scenario) counted by the tracer past the event cap
        self.aggregates: list[tuple[Endpoint | None, Endpoint, int, int, str | None]] = []
        # calls past the cap that still reached the spill (decoded, not written): per (caller, callee, scenario)
        self.dropped_calls: dict[tuple[Endpoint | None, Endpoint, str | None], int] = {}
        self.dropped_raised: dict[tuple[Endpoint | None, Endpoint, str | None], int] = {}
        self.unmatched = 0
        self.thread_events: dict[int, int] = {}
        self.max_depth = 0
        self.last_t = 0
        self.scenario: str | None = None  # the scenario running at this point of the stream
        self.scenarios: dict[str, dict[str, Any]] = {}  # name -> begin and end info, in the order they began
        self.io = BoundaryLog()  # I/O boundaries (BOUNDARY records): the end record's `boundaries`
        self.made = CreationLog()  # who created whom (CREATION records): the end record's `creations`
        self._native = _native_loop()  # the C loop over a chunk, or None: _chunk

    # -- endpoints -----------------------------------------------------------
    def endpoint(self, idx: int, obj: int) -> Endpoint:
        key = (idx, obj)
        ep = self._endpoints.get(key)
        if ep is None:
            ep = self._endpoints[key] = self._make_endpoint(self.codes[idx], obj)
        return ep

    def _instance(self, obj: int) -> tuple[str, str]:
        """(node id, label) of the instance with run-local object id `obj`: numbered 1, 2, ... per class in
        order of first use as a receiver (stable: summaries past the cap or the sampling do not shift it).
        A value summary of the object ({"type", "id": obj}) links to it by the node's `instance_id`."""
        node = self._instance_nodes.get(obj)
        if node is None:
            module, qualname, is_class = self.objects.get(obj, ("?", "?", False))
            short = qualname.rsplit(".", 1)[-1]
            if is_class is None:  # the shared id of instances past the per-class limit
                node = (f"inst:{module}.{qualname}#*", f"{short} (other instances)")
            else:
                key = (module, qualname)
                n = self._class_counters[key] = self._class_counters.get(key, 0) + 1
                node = (f"inst:{module}.{qualname}#{n}", f"{short}#{n}")
            self._instance_nodes[obj] = node
        return node

    def _make_endpoint(self, c: CodeInfo, obj: int) -> Endpoint:
        kind = c.callable_kind
        class_name = c.class_name
        inst_node = label = None
        instance_id = None
        if kind == "instance_method" and obj:
            module, qualname, _ = self.objects.get(obj, (c.module, class_name or "?", False))
            inst_node, label = self._instance(obj)
            class_name = qualname
            node_id = f"meth:{inst_node[5:]}.{implementation(c, module, qualname)}"
            instance_id = obj
        elif kind == "class_method" and obj:
            module, qualname, _ = self.objects.get(obj, (c.module, class_name or "?", True))
            class_name = qualname
            inst_node = f"cls:{module}.{qualname}"
            label = qualname.rsplit(".", 1)[-1]
            node_id = f"clsm:{module}.{qualname}.{implementation(c, module, qualname)}"
        elif kind in ("class_method", "static_method") and class_name:
            inst_node = f"cls:{c.module}.{class_name}"
            label = class_name.rsplit(".", 1)[-1]
            node_id = f"clsm:{c.module}.{class_name}.{c.function}"
        else:
            node_id = f"fn:{c.module}:{c.qualified_name}"
        return Endpoint(
            node_id,
            c.module,
            class_name,
            c.function,
            c.qualified_name,
            c.file,
            c.line,
            kind,
            instance_id,
            c.internal,
            inst_node,
            label,
            c.role,
        )

    # -- the pass ------------------------------------------------------------
    def batches(self, chunks: Iterable[Any]) -> Iterator[list[Event]]:
        """The events of each spill chunk as one list (consumers loop over it with locals). A chunk is a list of
        records or a packed chunk (bytes, capture.records.read_chunks): the C loop reads its rows in place."""
        for chunk in chunks:
            batch: list[Event] = []
            if self._native is not None:
                self._native.decode_chunk(self, chunk, batch)
            else:
                self._chunk(R.load_chunk(chunk), batch.append)
            if batch:
                yield batch

    def _chunk(self, chunk: list[Any], out: Callable[[Event], None]) -> None:
        """Decode one chunk, passing each recorded event to out()."""
        # tuple.__new__ directly: Event(...) would run the named tuple's Python-level __new__
        new = tuple.__new__
        ev = Event
        stacks = self.stacks
        parked = self.parked
        cap = self.max_events
        order = self.order
        t0 = self.t0
        codes = self.codes
        endpoint = self.endpoint
        endpoints_get = self._endpoints.get
        thread_events = self.thread_events
        named = self._named
        find = self._find
        meta = self._meta
        kinds = _KIND
        dropped = calls = unmatched = 0
        dropped_calls, dropped_raised = self.dropped_calls, self.dropped_raised
        max_depth = self.max_depth
        last = self.last_t
        scen = self.scenario
        try:
            for rec in chunk:
                k = rec[0]
                if k < 0:
                    scen = meta(rec, order, scen)
                    continue
                idx, tid, t, detail = rec[1], rec[2], rec[3], rec[4]
                if t0 is None:
                    t0 = self.t0 = t
                t = last = t - t0
                stack = stacks.get(tid)
                if stack is None:
                    stack = stacks[tid] = []
                kind = kinds[k]
                frame: Any = None
                if kind != CALL and kind != RESUME:  # leaving a frame: find it first
                    fid: Any = rec[6] if len(rec) > 6 else None
                    top = stack[-1] if stack else None
                    if top is not None and top[1] == idx and (fid is None or top[4] == fid):
                        frame = stack.pop()
                    else:
                        pos = find(stack, idx, fid)
                        if pos is None:  # no matching call (it began before tracing): not an event
                            unmatched += 1
                            continue
                        unmatched += len(stack) - 1 - pos
                        frame = stack[pos]
                        del stack[pos:]
                thread_name = None
                if not cap or order < cap:
                    eo = order
                    order += 1
                    thread_events[tid] = thread_events.get(tid, 0) + 1
                    if tid not in named:
                        named.add(tid)
                        thread_name = self.thread_names.get(tid, f"thread-{tid}")
                else:
                    eo = -1
                    dropped += 1
                if kind == CALL:
                    callee = endpoints_get((idx, rec[5]))
                    if callee is None:
                        callee = endpoint(idx, rec[5])
                    depth = len(stack)
                    caller = stack[-1][2] if depth else None
                    # an edge's first call recorded while counting names its caller (capture/budget.py)
                    if len(rec) > 7:
                        caller = self._edge_caller(rec[7])
                    # frame: [call order, code, callee, start, frame key, caller (the edge its raise is credited to)]
                    stack.append([eo, idx, callee, t, rec[6] if len(rec) > 6 else None, caller])
                    calls += 1
                    if depth >= max_depth:
                        max_depth = depth + 1
                    # past the cap: only counted (counted() hands these to the model, like skeleton report)
                    if eo < 0:
                        key = (caller, callee, scen)
                        dropped_calls[key] = dropped_calls.get(key, 0) + 1
                        continue
                    out(
                        new(
                            ev,
                            (
                                eo,
                                CALL,
                                eo,
                                t,
                                depth,
                                tid,
                                caller,
                                callee,
                                detail,
                                detail is None and bool(codes[idx].arg_names),
                                thread_name,
                                0,
                                scen,
                            ),
                        )
                    )
                elif kind == RESUME:
                    fid = rec[6]
                    frame = parked.pop(fid, None)
                    if frame is None:  # its call was not recorded (counted, or before tracing): call_id None
                        frame = [None, idx, endpoint(idx, 0), t, fid, stack[-1][2] if stack else None]
                        unmatched += 1
                    depth = len(stack)
                    stack.append(frame)
                    if eo < 0:
                        continue
                    out(
                        new(
                            ev,
                            (
                                eo,
                                RESUME,
                                frame[0],
                                t,
                                depth,
                                tid,
                                stack[-2][2] if depth else None,
                                frame[2],
                                detail,
                                False,
                                thread_name,
                                0,
                                scen,
                            ),
                        )
                    )
                else:  # RETURN / EXCEPTION / YIELD: the frame was taken off the stack above
                    depth = len(stack)
                    caller = stack[-1][2] if depth else None
                    if (  # credited to the call's edge, as a recorded raise is (a close, GeneratorExit, is none)
                        kind == EXCEPTION and eo < 0 and not closed(detail)
                    ):
                        key = (frame[5], frame[2], scen)
                        dropped_raised[key] = dropped_raised.get(key, 0) + 1
                    if kind == YIELD:
                        parked[fid] = frame
                        if eo < 0:
                            continue
                        out(
                            new(
                                ev,
                                (
                                    eo,
                                    YIELD,
                                    frame[0],
                                    t,
                                    depth,
                                    tid,
                                    caller,
                                    frame[2],
                                    detail,
                                    False,
                                    thread_name,
                                    0,
                                    scen,
                                ),
                            )
                        )
                    elif eo >= 0:
                        out(
                            new(
                                ev,
                                (
                                    eo,
                                    kind,
                                    frame[0],
                                    t,
                                    depth,
                                    tid,
                                    caller,
                                    frame[2],
                                    detail,
                                    detail is None and kind == RETURN,
                                    thread_name,
                                    t - frame[3],
                                    scen,
                                ),
                            )
                        )
        finally:
            self.order = order
            self.dropped += dropped
            self.calls += calls
            self.unmatched += unmatched
            self.max_depth = max_depth
            self.last_t = last
            self.scenario = scen

    def _meta(self, rec: tuple[Any, ...], order: int, scen: str | None) -> str | None:
        """A record that is no event (negative kind), met with `order` events recorded and scenario `scen`
        running; returns the scenario running after it."""
        k = rec[0]
        if k == R.SCENARIO:
            scen = rec[1]
            self.scenarios[rec[1]] = {"name": rec[1], **rec[2]}
        elif k == R.SCENARIO_END:
            self.scenarios.setdefault(rec[1], {"name": rec[1]}).update(rec[2])
            scen = None
        elif k == R.BOUNDARY or k == R.BOUNDARY_COUNTS:
            self.io.add(rec, order, self.max_events, scen, self.endpoint)
        elif k == R.CREATION:
            self.made.add(rec, order, self.max_events, self.endpoint)
        else:
            self._definition(rec)
        return scen

    def _edge_caller(self, key: int) -> Endpoint | None:
        """The caller named by a CALL record's 8th item (capture/budget.py): None for a module body."""
        return None if key == R.MODULE_KEY else self.endpoint(*R.split_node_key(key))

    @staticmethod
    def _find(stack: list[list[Any]], idx: int, fid: int | None) -> int | None:
        for pos in range(len(stack) - 1, -1, -1):
            frame = stack[pos]
            if frame[1] == idx and (fid is None or frame[4] == fid):
                return pos
        return None

    def _definition(self, rec: tuple[Any, ...]) -> None:
        k = rec[0]
        if k == R.DEF_CODE:
            info = CodeInfo.from_record(rec[1])
            self.codes[info.index] = info
        elif k == R.DEF_THREAD:
            self.thread_names[rec[1]] = rec[2]
        elif k == R.DEF_OBJECT:
            self.objects[rec[1]] = (rec[2], rec[3], rec[4])
        elif k == R.GAP:
            self.gaps.append({"kind": rec[1], "message": rec[2], "count": rec[3]})
        elif k == R.AGGREGATE:
            counts, raised = rec[1], rec[2]
            scen = rec[3] if len(rec) > 3 else None
            known, endpoint, append = self._endpoints.get, self.endpoint, self.aggregates.append
            calls = 0
            for key in counts.keys() | raised.keys():  # (a real suite: tens of thousands, a callee in each test)
                n = counts.get(key, 0)
                a, b = key  # (idx, obj) each, as _endpoints is keyed; (): a module body (an import)
                caller = (known(a) or endpoint(*a)) if a else None
                append((caller, known(b) or endpoint(*b), n, raised.get(key, 0), scen))
                calls += n
            self.calls += calls
            self.dropped += 2 * calls
            if len(rec) > 4:  # the other events of counted generators: resumes and the exits after them
                self.dropped += rec[4]

    def open_frames(self) -> int:
        return sum(len(s) for s in self.stacks.values()) + len(self.parked)

    def counted(self) -> list[tuple[Endpoint | None, Endpoint, int, int, str | None]]:
        """Every call past the cap, whoever counted it: (caller or None, callee, calls, raised, scenario)."""
        # in the order the model first met them: decoded calls, then the tracer's counts
        out: dict[tuple[Endpoint | None, Endpoint, str | None], list[int]] = {}
        for key, n in self.dropped_calls.items():
            out.setdefault(key, [0, 0])[0] += n
        for key, r in self.dropped_raised.items():
            out.setdefault(key, [0, 0])[1] += r
        for caller, callee, n, r, scen in self.aggregates:
            c = out.setdefault((caller, callee, scen), [0, 0])
            c[0] += n
            c[1] += r
        return [(caller, callee, n, r, scen) for (caller, callee, scen), (n, r) in out.items()]

    def threads(self) -> list[dict[str, Any]]:
        return [
            {"id": tid, "name": self.thread_names.get(tid, f"thread-{tid}"), "events": n}
            for tid, n in sorted(self.thread_events.items())
        ]


def implementation(c: CodeInfo, module: str, qualname: str) -> str:
    """The last part of a method's node id: the function's name when the code is defined on the
    receiver's runtime class (module.qualname), else which code ran: the code's own qualname
    (`Command.invoke` on a `Group`: an inherited method or a super() call), with its module
    (`click.core:Command.invoke`) when the defining class has the same qualname in another module."""
    if c.class_name == qualname and c.module == module:
        return c.function
    if c.module == module or c.class_name != qualname:
        return c.qualified_name
    return f"{c.module}:{c.qualified_name}"
