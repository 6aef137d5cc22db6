"""sys.monitoring backend (Python 3.12+).

PY_START is global. The first time a code object starts we decide whether it is
traced; untraced code gets DISABLE, so it never calls us again. Traced code gets
PY_RETURN, PY_YIELD and PY_RESUME as local events. PY_UNWIND and PY_THROW can only
be global: they are filtered with one dict lookup (they only fire on exceptions).
"""

from __future__ import annotations

import sys
import time

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import BaseException, GeneratorExit, getattr, id, len, type
from collections.abc import Callable
from types import CodeType
from typing import Any

from . import NoFreeToolId, speedups
from . import records as R
from .closing import silent_close
from .gate import Gate, gated_getframe

# Positions in a thread's state list, a table entry, an objects entry (layout.py), as module globals: a
# closure constant would add a free variable for each callback's frame to copy at every call.
from .layout import (
    ENTRY_GENERATOR,
    ENTRY_INDEX,
    ENTRY_RECEIVER,
    OBJECT_ENTRY_CLASS,
    OBJECT_ENTRY_ID,
    P_COUNTS,
    P_FIRSTS,
    P_RAISED,
    P_RESUMED,
    P_SEEDED,
    P_SEEN,
    P_STACK,
    P_TID,
)
from .recorder import Recorder

# Imported on 3.12+ only (capture.select_backend); mypy checks the rest when told the Python is 3.12+.
assert sys.version_info >= (3, 12)

__all__ = ["NoFreeToolId", "SysMonitoringBackend", "gate_sysmon_callbacks"]

PREFERRED_TOOL_IDS = (4, 3, 2, 1, 0, 5)
# DISABLE outlives a tool id (free_tool_id does not undo it): the filter of the last capture in
# this process, so that a capture with another filter re-enables what the last one switched off.
_last_filter: list[tuple[object, ...] | None] = [None]


class SysMonitoringBackend:
    name = "sysmon"

    def __init__(self, recorder: Recorder, gate: Gate | None = None) -> None:
        self.rec = recorder
        self.gate = gate  # None: record everything (skeleton run); else one request (integrations)
        self.tool_id: int | None = None
        self._hooks: Any = None  # the C fast paths, when used
        self._callbacks: dict[str, Any] = {}
        self._events = 0

    def start(self) -> None:
        mon = sys.monitoring
        for tool in PREFERRED_TOOL_IDS:
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "skeleton")
                self.tool_id = tool
                break
        else:
            held = ", ".join(f"{i}={mon.get_tool(i)}" for i in range(6))
            raise NoFreeToolId(
                f"no free sys.monitoring tool id (held: {held}); stop the other tool or use --backend setprofile"
            )
        f = self.rec.filter
        key = (str(f.root), f.include, f.exclude, f.include_private, f.main_module, f._main_file)
        if _last_filter[0] is not None and _last_filter[0] != key:
            mon.restart_events()  # an earlier capture here DISABLEd code this one may trace
        _last_filter[0] = key
        ev = mon.events
        if self.gate is None:
            callbacks = _make_callbacks(self.rec, tool)
            # PY_START, PY_RETURN, PY_YIELD and PY_RESUME through the C fast paths when compiled: they
            # hand every case they do not handle (a new code object, a new thread, an error) to these
            # Python callbacks.
            self._hooks = speedups.hooks(
                self.rec, callbacks["PY_START"], callbacks["PY_RETURN"], callbacks["PY_YIELD"], callbacks["PY_RESUME"]
            )
            if self._hooks is not None:
                callbacks = {
                    **callbacks,
                    "PY_START": self._hooks.start,
                    "PY_RETURN": self._hooks.ret,
                    "PY_YIELD": self._hooks.yield_,
                    "PY_RESUME": self._hooks.resume,
                }
                # An exception exit at the recursion limit: the Python callbacks run with frames lent
                # (_speedups.c, headroom_open), so that the frame's exit is recorded
                guard = getattr(speedups.load(), "Guard", None)
                if guard is not None:
                    callbacks["PY_UNWIND"] = guard(callbacks["PY_UNWIND"])
                    callbacks["PY_THROW"] = guard(callbacks["PY_THROW"])
                    # PY_UNWIND in C first: untraced frames (it is a global event) and counted calls past the
                    # cap; the rest goes to the Python callback above
                    self._hooks.set_unwind(callbacks["PY_UNWIND"])
                    callbacks["PY_UNWIND"] = self._hooks.unwind
        else:  # the wrappers add one Python frame between the event and the callback
            callbacks = gate_sysmon_callbacks(_make_callbacks(self.rec, tool, gated_getframe(1)), self.gate, self.rec)
        for event, fn in callbacks.items():
            mon.register_callback(tool, getattr(ev, event), fn)
        self._callbacks = callbacks  # stop() tells whether the program replaced them
        self._events = ev.PY_START | ev.PY_UNWIND | ev.PY_THROW
        mon.set_events(tool, self._events)

    def stop(self) -> None:
        """Unregister everything; never raises (the program may have freed the tool id or replaced callbacks)."""
        if self.tool_id is None:
            return
        mon = sys.monitoring
        tool, self.tool_id = self.tool_id, None
        gap = self.rec.gap
        try:
            holder = mon.get_tool(tool)
            if holder != "skeleton":  # freed by the program (and maybe taken by another tool): not ours to touch
                gap(
                    "other",
                    f"the program freed sys.monitoring tool id {tool}, which Skeleton was using"
                    f"{f' (now held by {holder!r})' if holder else ''}: calls after that may be missing "
                    "from the trace",
                )
                return
            if mon.get_events(tool) != self._events:
                gap(
                    "other",
                    "the program changed the sys.monitoring events of Skeleton's tool id: calls after "
                    "that may be missing from the trace",
                )
            mon.set_events(tool, 0)
            for code in self.rec.keep_alive:
                mon.set_local_events(tool, code, 0)
            for name, ours in self._callbacks.items():
                if mon.register_callback(tool, getattr(mon.events, name), None) is not ours:
                    gap(
                        "other",
                        f"the program replaced Skeleton's sys.monitoring {name} callback: calls after "
                        "that may be missing from the trace",
                    )
            mon.free_tool_id(tool)
        except Exception as exc:
            gap("other", f"could not stop sys.monitoring cleanly ({type(exc).__name__}: {exc})")
        finally:
            if self._hooks is not None:
                self._hooks.close()


def _make_callbacks(rec: Recorder, tool_id: int, getframe: Any = sys._getframe) -> dict[str, Any]:
    """Closures over locals: the hot path does no attribute look-ups it can avoid.

    Two regimes. Until the event cap, every event is appended to the record buffer.
    Past it (mode[0] is True) calls are only counted per caller -> callee on a per-thread
    stack of node keys (a resume pushes, a yield pops). A thread's first event past the cap
    seeds that stack with its open (recorded) frames; their returns, and calls made with
    nothing traced below them, are still written as records (their keys negative on that
    stack) so the decoder's stacks stay whole.

    The program's exceptions (a signal handler's, raised while a callback runs) are re-raised
    unchanged. CPython then raises them in the monitored frame and reports its PY_UNWIND, so the
    state is left as that expects: a start or resume is recorded (or pushed), a return or yield
    is not (or not popped).
    """
    mon = sys.monitoring
    DISABLE = mon.DISABLE
    set_local_events = mon.set_local_events
    local_events = mon.events.PY_RETURN | mon.events.PY_YIELD | mon.events.PY_RESUME
    module_events = mon.events.PY_RETURN  # a module body being imported: its end ends the import (budget.py)
    module_codes = rec.module_codes
    importing = rec.importing  # [module bodies running now]
    import_ended = rec.import_ended
    reserve = rec.reserve  # [events left for the first calls of edges met while counting]
    first_per_edge = rec.budget.first_per_edge
    buf = rec.buf
    append = buf.append
    table = rec.table
    inits = rec.inits
    reborn = rec.reborn
    counts = rec.counts
    tls = rec.tls
    new_thread = rec.new_thread
    now = time.perf_counter_ns
    objects = rec.objects
    object_id = rec.object_id
    overflow = rec.overflow
    summarise_args = rec.summarise_args
    summarise_return = rec.summarise_return  # (code index, value): a secret-named callable's is redacted
    summarise_exception = rec.summarise_exception
    budget = rec.budget
    first_calls = budget.first_calls
    per_code = budget.per_code
    sample_every = budget.sample_every
    limit = rec.limit  # [flush when the buffer holds this many records]
    flush = rec.flush
    gap = rec.gap
    passed_through = rec.passed_through
    holds, drop = rec.holds, rec.drop
    CALL, RETURN, UNWIND, YIELD, RESUME = R.CALL, R.RETURN, R.UNWIND, R.YIELD, R.RESUME
    state = rec.state  # [calls recorded so far]
    mode = rec.mode  # [counting?]: set by the recorder once max_events records are written
    SPAN = R.NODE_KEY_SPAN  # node key past the cap: obj * SPAN + idx
    EDGE_SHIFT, EDGE_LIMIT = R.EDGE_SHIFT, 1 << R.EDGE_SHIFT

    receiver_id = rec.receiver_id  # rare paths (resumes); the hot path inlines the same look-up
    seed = rec.seed  # once per thread, at its first event past the cap
    gen_edges = rec.gen_edges  # frame id of a generator whose call was counted -> that call's edge (counting.py)
    closing: set[int] = set()  # frame ids of generators closed where none of their code runs (closing.py)

    def on_start(code: CodeType, offset: int) -> object:  # None or DISABLE
        # (declarations only: no code at run time)
        record: tuple[Any, ...] | None
        pending: tuple[int, int, bool, Any, int | None] | None
        key: int | None
        stack: list[int] | None
        caller: int | None
        record = pending = key = stack = caller = None
        depth = -1
        try:
            entry = table.get(id(code))
            if entry is None:
                receiver = inits.get(id(code))
                if receiver is not None:  # a project __init__: not traced, only watched
                    reborn(getframe(1), receiver)
                    return None
                entry = rec.decide(code, getframe(1))
                if entry is None:
                    if id(code) in module_codes:  # an import began (rec.decide): see its end
                        set_local_events(tool_id, code, module_events)
                    return None if id(code) in inits else DISABLE
                set_local_events(tool_id, code, local_events)
            try:
                p = tls.p
            except AttributeError:
                p = new_thread()
            idx, receiver, generator, arg_names = entry
            frame = None
            obj = 0
            if receiver is not None:
                frame = getframe(1)
                me = frame.f_locals[receiver]
                ent = objects.get(id(me))
                if ent is not None and ent[OBJECT_ENTRY_CLASS] is type(me):
                    obj = ent[OBJECT_ENTRY_ID]
                else:
                    obj = overflow.get(id(type(me))) or object_id(me)
            if mode[0]:  # past the cap
                if not p[P_SEEDED]:
                    seed(p, (frame or getframe(1)).f_back)
                stack = p[P_STACK]
                key = obj * SPAN + idx
                depth = len(stack)
                if depth:
                    top = stack[-1]
                    top = top if top >= 0 else -1 - top  # a record-written caller counts as its node
                    # one int when both keys fit, as the C fast paths pack it (one count per edge, whoever counts it)
                    edge = top << EDGE_SHIFT | key if top < EDGE_LIMIT and key < EDGE_LIMIT else (top, key)
                    c = p[P_COUNTS]
                    n = c[edge] = c[edge] + 1  # a defaultdict(int): no switch of threads inside
                    if (
                        n > first_per_edge
                        or reserve[0] <= 0
                        or importing[0]
                        or p[P_SEEN].get(edge, 0) >= first_per_edge
                    ):  # (p[P_SEEN]: the run's firsts, kept)
                        stack.append(key)
                        if generator:  # its raise, wherever it is resumed from, belongs to this edge
                            gen_edges[id(frame or getframe(1))] = edge
                        return None
                    p[P_SEEN][edge] = p[P_SEEN].get(edge, 0) + 1
                    # One of the first calls of this edge: recorded (its return too), with its arguments and
                    # its caller (the decoder's nearest recorded frame may be further down).
                    reserve[0] -= 2
                    p[P_FIRSTS][edge] += 1
                    caller = top
                    pending = (idx, obj, generator, frame, caller)  # a record is due (see the except clause)
                    stack.append(-1 - key)
                    summary = None
                    if arg_names:
                        if frame is None:
                            frame = getframe(1)
                        summary = summarise_args(frame, arg_names)
                    if generator and gen_edges:  # recorded: an earlier generator's entry at this address goes
                        gen_edges.pop(id(frame or getframe(1)), None)
                    record = (
                        CALL,
                        idx,
                        p[P_TID],
                        now(),
                        summary,
                        obj,
                        id(frame or getframe(1)) if generator else None,
                        caller,
                    )
                    append(record)
                    record = pending = None
                    if len(buf) >= limit[0]:
                        flush()
                    return None
                pending = (idx, obj, generator, frame, None)  # a record is due (see the except clause)
                stack.append(-1 - key)  # written as a record: its return will be too
                if generator:
                    if gen_edges:
                        gen_edges.pop(id(frame or getframe(1)), None)
                    record = (CALL, idx, p[P_TID], now(), None, obj, id(frame or getframe(1)))
                else:
                    record = (CALL, idx, p[P_TID], now(), None, obj)
                append(record)
                record = pending = None
                if len(buf) >= limit[0]:
                    flush()
                return None
            calls = state[0] = state[0] + 1
            n = counts[idx] = counts[idx] + 1
            summary = None
            pending = (idx, obj, generator, frame, None)
            if arg_names and (calls <= first_calls or n <= per_code or n % sample_every == 0):
                if frame is None:
                    frame = getframe(1)
                summary = summarise_args(frame, arg_names)
            if generator:
                if gen_edges:  # recorded: an earlier generator's entry at this address goes
                    gen_edges.pop(id(frame or getframe(1)), None)
                record = (CALL, idx, p[P_TID], now(), summary, obj, id(frame or getframe(1)))
            else:
                record = (CALL, idx, p[P_TID], now(), summary, obj)
            append(record)
            record = pending = None
            if len(buf) >= limit[0]:
                flush()
            return None  # (as falling off the end: the same code)
        except BaseException as exc:
            if not rec.foreign(exc):
                gap("tracer_error", f"PY_START: {type(exc).__name__}: {exc}")
                return None
            # The program's: the frame unwinds next (PY_UNWIND), so its call must be on record.
            if depth >= 0 and stack is not None and key is not None and len(stack) == depth:  # (set with depth)
                stack.append(key if depth else -1 - key)
            if record is not None:
                if not holds(buf, record):
                    append(record)
            elif pending is not None:
                idx, obj, generator, frame, caller = pending
                fid = id(frame or getframe(1)) if generator else None
                if caller is not None:
                    append((CALL, idx, p[P_TID], now(), None, obj, fid, caller))
                elif generator:
                    append((CALL, idx, p[P_TID], now(), None, obj, fid))
                else:
                    append((CALL, idx, p[P_TID], now(), None, obj))
            passed_through(exc, "PY_START")
            raise

    def leave(code: CodeType, value: object, kind: int, event: str) -> None:
        """PY_RETURN, PY_YIELD: the frame leaves normally or suspends."""
        record: tuple[Any, ...] | None
        stack: list[int] | None
        top: int | None
        record = stack = top = None
        depth = -1
        try:
            entry = table.get(id(code))
            if entry is None:  # not traced: a module body being imported ends
                if importing[0]:
                    import_ended(id(code))
                return
            try:
                p = tls.p
            except AttributeError:
                p = new_thread()
            counting = mode[0]
            if counting:
                if not p[P_SEEDED]:
                    seed(p, getframe(2))
                stack = p[P_STACK]
                depth = len(stack)
                if depth:
                    top = stack[-1]
                    del stack[-1]
                    if top >= 0:
                        return  # a counted call (a counted generator: suspended, nothing recorded)
            idx = entry[ENTRY_INDEX]
            detail = None
            if not counting:
                n = counts[idx]
                if state[0] <= first_calls or n <= per_code or n % sample_every == 0:
                    detail = summarise_return(idx, value)
            if entry[ENTRY_GENERATOR] or kind == YIELD:
                record = (kind, idx, p[P_TID], now(), detail, 0, id(getframe(2)))
            else:
                record = (kind, idx, p[P_TID], now(), detail, 0)
            append(record)
        except BaseException as exc:
            if not rec.foreign(exc):
                gap("tracer_error", f"{event}: {type(exc).__name__}: {exc}")
                return
            # The program's: the frame unwinds next (PY_UNWIND), which closes it; undo this exit.
            if stack is not None and top is not None and depth > 0 and len(stack) < depth:  # (top: popped)
                stack.append(top)
            if record is not None:
                drop(buf, record)
            passed_through(exc, event)
            raise

    def on_return(code: CodeType, offset: int, retval: object) -> None:
        return leave(code, retval, RETURN, "PY_RETURN")

    def on_yield(code: CodeType, offset: int, value: object) -> None:
        return leave(code, value, YIELD, "PY_YIELD")

    def _resumed(code: CodeType, exc_summary: bytes | None) -> None:
        try:
            p = tls.p
        except AttributeError:
            p = new_thread()
        entry = table[id(code)]
        frame = getframe(2)
        interrupted = None
        if mode[0]:  # past the cap: the resumed frame is the caller of what it calls next
            if not p[P_SEEDED]:
                seed(p, frame.f_back)
            obj = 0
            if entry[ENTRY_RECEIVER] is not None:
                try:
                    obj = receiver_id(frame.f_locals[entry[ENTRY_RECEIVER]])
                except BaseException as exc:
                    if not rec.foreign(exc):
                        raise
                    interrupted = exc  # the program's: the frame still goes on the stack, then it is raised
            key = obj * SPAN + entry[ENTRY_INDEX]
            stack = p[P_STACK]
            if stack:
                stack.append(key)
                p[P_RESUMED] += 2  # this resume and the exit that follows it: 2 events of the run (counting.py)
                if interrupted is not None:
                    raise interrupted
                return
            stack.append(-1 - key)  # nothing traced below it: written as a record
        append((RESUME, entry[ENTRY_INDEX], p[P_TID], now(), exc_summary, 0, id(frame)))
        if interrupted is not None:
            raise interrupted
        if len(buf) >= limit[0]:
            flush()

    def on_resume(code: CodeType, offset: int) -> None:
        try:
            _resumed(code, None)
        except BaseException as exc:
            if rec.foreign(exc):
                passed_through(exc, "PY_RESUME")
                raise
            gap("tracer_error", f"PY_RESUME: {type(exc).__name__}: {exc}")

    def on_throw(code: CodeType, offset: int, exc: BaseException) -> None:
        if id(code) not in table:  # PY_THROW is global-only: filter here
            return
        try:
            if type(exc) is GeneratorExit and silent_close(code, offset):  # no event, as on 3.13 (closing.py)
                fid = id(getframe(1))
                closing.add(fid)
                if gen_edges:  # ended: its counted call's entry goes
                    gen_edges.pop(fid, None)
                return
            try:
                summary = summarise_exception(exc)
            except BaseException as err:  # the program's, interrupting the summary: record the resume, then raise
                if rec.foreign(err):
                    _resumed(code, None)
                raise
            _resumed(code, summary)
        except BaseException as err:
            if rec.foreign(err):
                passed_through(err, "PY_THROW")
                raise
            gap("tracer_error", f"PY_THROW: {type(err).__name__}: {err}")

    def on_unwind(code: CodeType, offset: int, exc: BaseException) -> None:
        entry = table.get(id(code))
        if entry is None:  # PY_UNWIND is global-only: one dict look-up for untraced code
            if importing[0] and id(code) in module_codes:  # an import failed: it ends all the same
                try:
                    import_ended(id(code))
                except BaseException as err:
                    if rec.foreign(err):
                        passed_through(err, "PY_UNWIND")
                        raise
                    gap("tracer_error", f"PY_UNWIND: {type(err).__name__}: {err}")
            return
        if closing and type(exc) is GeneratorExit and id(getframe(1)) in closing:
            closing.discard(id(getframe(1)))  # its PY_THROW recorded nothing: nor does this
            return
        closed = type(exc) is GeneratorExit  # a close, not a failure: never counted as raised
        record = None
        try:
            try:
                p = tls.p
            except AttributeError:
                p = new_thread()
            if mode[0]:
                if not p[P_SEEDED]:
                    seed(p, getframe(1))
                stack = p[P_STACK]
                if stack:
                    key = stack.pop()
                    if key >= 0:
                        if not entry[ENTRY_GENERATOR]:
                            if stack and not closed:
                                p[P_RAISED][(stack[-1], key)] += 1
                            return
                        # A generator's raise: on the edge of its call, not of the frame that resumed it
                        edge = gen_edges.pop(id(getframe(1)), None) if gen_edges else None
                        if edge is not None:  # its call was counted
                            if not closed:
                                p[P_RAISED][edge] += 1
                            return
                        # Its call was recorded: so are this resume and raise (2 events counted at the resume),
                        # so that the decoder closes the recorded frame and credits the raise to its call.
                        p[P_RESUMED] -= 2
                        append((RESUME, entry[ENTRY_INDEX], p[P_TID], now(), None, 0, id(getframe(1))))
            if entry[ENTRY_GENERATOR] and gen_edges:  # recorded, resumed after a counted call: its raise is counted
                edge = gen_edges.pop(id(getframe(1)), None)
                if edge is not None and not closed:
                    p[P_RAISED][edge] += 1
            t = now()
            try:
                summary = summarise_exception(exc)
            except BaseException as err:  # the program's: the frame leaves anyway, recorded without it
                if not rec.foreign(err):
                    raise
                summary, record = None, err
            if entry[ENTRY_GENERATOR]:
                append((UNWIND, entry[ENTRY_INDEX], p[P_TID], t, summary, 0, id(getframe(1))))
            else:
                append((UNWIND, entry[ENTRY_INDEX], p[P_TID], t, summary, 0))
            if record is not None:
                raise record
        except BaseException as err:
            if not rec.foreign(err):
                gap("tracer_error", f"PY_UNWIND: {type(err).__name__}: {err}")
                return
            passed_through(err, "PY_UNWIND")
            raise

    return {
        "PY_START": on_start,
        "PY_RETURN": on_return,
        "PY_YIELD": on_yield,
        "PY_RESUME": on_resume,
        "PY_THROW": on_throw,
        "PY_UNWIND": on_unwind,
    }


def gate_sysmon_callbacks(callbacks: dict[str, Any], gate: Gate, rec: Recorder) -> dict[str, Any]:
    """Wrap the sys.monitoring callbacks (gate.py): a closed gate returns None (never DISABLE for project code)."""
    get = gate.var.get
    token = gate.token
    DISABLE = sys.monitoring.DISABLE
    table = rec.table
    outside_project = rec.filter.relative_file  # None: the file is outside the project (cached by name)
    start = callbacks["PY_START"]

    def on_start(code: CodeType, offset: int) -> object:
        if get(None) is token:
            return start(code, offset)
        if id(code) not in table and outside_project(code.co_filename) is None:
            return DISABLE  # no request ever traces it: the ungated callback would say the same
        return None

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        def gated(*args: Any) -> Any:
            if get(None) is token:
                return fn(*args)
            return None

        return gated

    out = {name: wrap(fn) for name, fn in callbacks.items()}
    out["PY_START"] = on_start
    return out
