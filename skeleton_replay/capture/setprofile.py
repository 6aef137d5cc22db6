"""sys.setprofile backend (Python 3.11, or forced with --backend setprofile).

Produces the same records as the sys.monitoring backend. setprofile reports a
generator resume as 'call' and a yield or an exception exit as 'return'; the
opcode at f_lasti tells them apart. setprofile cannot see the exception object of
an exception exit: those records carry an exception of type '?'.
"""

from __future__ import annotations

import dis
import sys
import threading
import time

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import BaseException, GeneratorExit, frozenset, hasattr, id, len, set, type
from types import FrameType
from typing import Any, Protocol, cast

from . import boundaries as _io
from . import records as R
from . import speedups
from .closing import silent_close
from .gate import Gate, gate_profiler

# Positions in a thread's state list, a table entry, an objects entry (layout.py), as module globals: a
# closure constant would add a free variable for each callback's frame to copy at every call.
from .layout import (
    ENTRY_GENERATOR,
    ENTRY_INDEX,
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
from .recorder import Entry, Recorder, as_json

_RETURN_OPS = frozenset(dis.opmap[n] for n in ("RETURN_VALUE", "RETURN_CONST") if n in dis.opmap)
_YIELD_OPS = frozenset(dis.opmap[n] for n in ("YIELD_VALUE",) if n in dis.opmap)
# When a C profile function fails (the program's exception passes through it), CPython reports the
# frame's exception exit next ('return'), except after a failed 'return' on 3.11. So a failed 'call'
# is recorded, and a failed 'return' is recorded only where no exit follows.
RETURN_FAILURE_UNWINDS = sys.version_info >= (3, 12)
_RERAISE_OPS = frozenset(dis.opmap[n] for n in ("RERAISE",) if n in dis.opmap)
# A generator closed (capture/closing.py): 3.11 cannot see the exception thrown in, taken for this one
SILENT, CLOSE, AT_ONCE = 0, 1, 2  # a close running none of its code, one running some, another exception leaving
# Their summaries, as records carry summaries (JSON bytes: recorder.as_json); compared by identity
GENERATOR_EXIT: bytes = as_json({"type": "GeneratorExit", "message": {"type": "str", "value": ""}})
UNKNOWN_EXCEPTION: bytes = as_json(
    {"type": "?", "message": {"type": "str", "value": "", "note": "not visible to the setprofile backend"}}
)


class Profiler(Protocol):
    """The profile function, with the frame ids of the generators suspended at a yield (shared with the C one)."""

    suspended: set[int]
    closing: set[int]
    thrown_in: dict[int, int]

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None: ...


class SetProfileBackend:
    name = "setprofile"

    def __init__(self, recorder: Recorder, gate: Gate | None = None) -> None:
        self.rec = recorder
        self.gate = gate  # None: every thread (skeleton run); else only this thread, in one request
        self._previous: tuple[Any, Any] | None = None
        self._stopped = [False]
        self._thread = 0
        self._gated: Any = None
        self._hooks: Any = None  # the C fast paths, when used

    def start(self) -> None:
        self.rec.remember_untraced = True  # setprofile cannot switch code off: remember the "no"
        fast = speedups.load() if self.gate is None else None
        fn = self._fn = _make_profiler(self.rec, fast is not None)
        if self.gate is not None:  # the thread handling the request; other threads are not touched
            self._previous = (sys.getprofile(), None)
            self._thread = threading.get_ident()
            self._gated = gate_profiler(fn, self.gate, self._stopped, self._previous[0])
            sys.setprofile(self._gated)
            return
        self._previous = (sys.getprofile(), threading.getprofile() if hasattr(threading, "getprofile") else None)
        if fast is not None:  # a C profile function drops C calls and untraced code before any Python runs
            # and records traced calls, returns, yields and resumes itself (the rest comes back to fn)
            self._hooks = speedups.hooks(self.rec, fn, fn)
            hook = self._fn = fast.ProfileHook(
                fn,
                self.rec.table,
                self.rec.untraced,
                hooks=self._hooks,
                return_ops=_RETURN_OPS,
                yield_ops=_YIELD_OPS,
                suspended=fn.suspended,
                closing=fn.closing,
                modules=self.rec.module_codes,
                c_watch=_io.C_WATCH,  # I/O probes: builtins whose calls go to C_WATCH[0] (capture/boundaries.py)
            )
            threading.setprofile(hook)  # a new thread's first event installs the C function there
            hook.install()
            return
        threading.setprofile(fn)
        sys.setprofile(fn)

    def stop(self) -> None:
        if self._previous is None:
            return
        prev_sys, prev_threading = self._previous
        self._previous = None
        if self.gate is not None:
            self._stopped[0] = True  # else the gated profiler uninstalls itself when it next runs on top
            if threading.get_ident() == self._thread and sys.getprofile() is self._gated:
                sys.setprofile(prev_sys)
            return
        try:
            if sys.getprofile() is not self._fn:  # CPython drops a profiler whose call raised (recursion limit)
                self.rec.gap(
                    "other",
                    "the profiler was removed from the thread that ended the run (by the program's "
                    "own sys.setprofile, or at the recursion limit): its later calls are not in the "
                    "trace",
                )
            if hasattr(threading, "getprofile") and threading.getprofile() is not self._fn:
                self.rec.gap(
                    "other",
                    "the program replaced the profiler for new threads (threading.setprofile): "
                    "threads started after that are not in the trace",
                )
            sys.setprofile(prev_sys)
            threading.setprofile(prev_threading)
        except Exception as exc:
            self.rec.gap("other", f"could not remove the profiler cleanly ({type(exc).__name__}: {exc})")
        finally:
            if self._hooks is not None:
                self._hooks.close()


def _make_profiler(rec: Recorder, fast: bool = False) -> Profiler:
    """Same records and the same two regimes as the sys.monitoring backend.

    fast: called by the C profile function (which stays installed when the program's exception
    passes through it) rather than installed with sys.setprofile (which CPython then removes).
    """
    buf = rec.buf
    append = buf.append
    table = rec.table
    untraced = rec.untraced
    counts = rec.counts
    tls = rec.tls
    new_thread = rec.new_thread
    now = time.perf_counter_ns
    objects = rec.objects
    object_id = rec.object_id
    overflow = rec.overflow
    inits = rec.inits
    reborn = rec.reborn
    summarise_args = rec.summarise_args
    summarise_return = rec.summarise_return  # (code index, value): a secret-named callable's is redacted
    budget = rec.budget
    first_calls, per_code, sample_every = budget.first_calls, budget.per_code, budget.sample_every
    limit = rec.limit  # [flush when the buffer holds this many records]
    flush = rec.flush
    module_codes = rec.module_codes  # module bodies being imported (rec.decide): their end ends the import
    importing = rec.importing  # [module bodies running now]
    import_ended = rec.import_ended
    reserve = rec.reserve  # [events left for the first calls of edges met while counting]
    first_per_edge = rec.budget.first_per_edge
    gap = rec.gap
    CALL, RETURN, UNWIND, YIELD, RESUME = R.CALL, R.RETURN, R.UNWIND, R.YIELD, R.RESUME
    suspended: set[int] = set()  # frame ids of generators suspended at a yield
    closing: set[int] = set()  # frame ids of generators an exception was thrown into: their exit comes here
    # (the C profile function hands it back), with what it is: SILENT, CLOSE or AT_ONCE (closing.py)
    thrown_in: dict[int, int] = {}
    summarise_exception = rec.summarise_exception
    foreign = rec.foreign
    holds, drop = rec.holds, rec.drop
    probes = _io.PROBES  # I/O probes (capture/boundaries.py, 3.11): code id -> probe(frame), e.g. os.environ reads
    c_watch = _io.C_WATCH  # [probe(frame, builtin), watched builtins...] while a capture probes C calls (3.11)

    def interrupted(exc: BaseException, event: str) -> None:
        """The program's exception passed through the profiler (a signal handler's): it is re-raised."""
        rec.passed_through(exc, event)
        if not fast:  # CPython removes a Python profile function that raises, for this thread
            gap(
                "other",
                "the program's exception passed through the profiler and CPython removed it from that "
                "thread (a Python profile function that raises is unset): that thread's later calls are "
                "not in the trace",
            )

    state = rec.state  # [calls recorded so far]
    mode = rec.mode  # [counting?]
    SPAN = R.NODE_KEY_SPAN  # node key past the cap: obj * SPAN + idx
    EDGE_SHIFT, EDGE_LIMIT = R.EDGE_SHIFT, 1 << R.EDGE_SHIFT

    receiver_id = rec.receiver_id  # rare paths (resumes); the hot path inlines the same look-up
    seed = rec.seed  # once per thread, at its first event past the cap
    gen_edges = rec.gen_edges  # frame id of a generator whose call was counted -> that call's edge (counting.py)

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        # (declarations only: no code at run time)
        record: tuple[Any, ...] | None
        pending: tuple[int, int, bool] | None
        if event == "call":
            code = frame.f_code
            entry = table.get(id(code))
            if entry is None:
                if id(code) in untraced:
                    return
                receiver = inits.get(id(code))
                if receiver is not None:  # a project __init__: not traced, only watched
                    try:
                        reborn(frame, receiver)
                    except BaseException as exc:
                        if not foreign(exc):
                            gap("tracer_error", f"call: {type(exc).__name__}: {exc}")
                            return
                        interrupted(exc, "call")
                        raise
                    return
                probe = probes.get(id(code))
                if probe is not None:  # never decided (so never untraced): each call comes here
                    try:
                        probe(frame)
                    except BaseException as exc:  # the probe contains its own errors: this is the program's
                        interrupted(exc, "call")
                        raise
                    return
                try:
                    entry = rec.decide(code, frame)
                except BaseException as exc:  # decide() contains its own errors: this is the program's
                    interrupted(exc, "call")
                    raise
                if entry is None:
                    return
            record = pending = None
            caller = None
            try:
                try:
                    p = tls.p
                except AttributeError:
                    p = new_thread()
                idx, receiver, generator, arg_names = entry
                if generator:
                    fid = id(frame)
                    if fid in suspended and _at_yield(frame):  # else: a new frame where a closed one was
                        suspended.discard(fid)
                        thrown = None  # resumed at the yield itself (3.11, 3.12): an exception thrown in
                        lasti = frame.f_lasti
                        if code.co_code[lasti] in _YIELD_OPS:
                            thrown = _thrown(frame, arg)
                            at_once = silent_close(code, lasti)
                            if thrown is GENERATOR_EXIT or at_once:
                                closing.add(fid)
                                thrown_in[fid] = (SILENT if at_once else CLOSE) if thrown is GENERATOR_EXIT else AT_ONCE
                                if at_once and thrown is GENERATOR_EXIT:  # no event, as on 3.13 (closing.py)
                                    if gen_edges:
                                        gen_edges.pop(fid, None)
                                    return
                            if thrown is None:
                                thrown = summarise_exception(arg)
                        if mode[0]:  # past the cap: the resumed frame is the caller of what it calls next
                            if not p[P_SEEDED]:
                                seed(p, frame.f_back)
                            key = (receiver_id(frame.f_locals[receiver]) if receiver else 0) * SPAN + idx
                            stack = p[P_STACK]
                            if stack:
                                stack.append(key)
                                p[P_RESUMED] += 2  # this resume and the exit that follows it: 2 events (counting.py)
                                return
                            stack.append(-1 - key)  # nothing traced below it: written as a record
                        append((RESUME, idx, p[P_TID], now(), thrown, 0, fid))
                        return
                    if frame.f_lasti == 0 and _thrown(frame, arg) is GENERATOR_EXIT:  # 3.11: one that never ran
                        closing.add(fid)  # closed: no event, as on 3.12+ (closing.py)
                        thrown_in[fid] = SILENT
                        return
                obj = 0
                if receiver is not None:
                    me = frame.f_locals[receiver]
                    ent = objects.get(id(me))
                    if ent is not None and ent[OBJECT_ENTRY_CLASS] is type(me):
                        obj = ent[OBJECT_ENTRY_ID]
                    else:
                        obj = overflow.get(id(type(me))) or object_id(me)
                if mode[0]:  # past the cap
                    if not p[P_SEEDED]:
                        seed(p, frame.f_back)
                    stack = p[P_STACK]
                    key = obj * SPAN + idx
                    summary = None
                    if stack:
                        top = stack[-1]
                        top = top if top >= 0 else -1 - top  # a record-written caller counts as its node
                        # one int when both keys fit, as the C code packs it (one count per edge, whoever counts it)
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
                                gen_edges[id(frame)] = edge
                            return
                        p[P_SEEN][edge] = p[P_SEEN].get(edge, 0) + 1
                        # One of the first calls of this edge: recorded (its return too), with its arguments
                        # and its caller (the decoder's nearest recorded frame may be further down).
                        reserve[0] -= 2
                        p[P_FIRSTS][edge] += 1
                        caller = top
                        pending = (idx, obj, generator)
                        stack.append(-1 - key)
                        if arg_names:
                            summary = summarise_args(frame, arg_names)
                    else:
                        stack.append(-1 - key)
                else:
                    calls = state[0] = state[0] + 1
                    n = counts[idx] = counts[idx] + 1
                    summary = None
                    pending = (idx, obj, generator)  # a record is due (see the except clause)
                    if arg_names and (calls <= first_calls or n <= per_code or n % sample_every == 0):
                        summary = summarise_args(frame, arg_names)
                if caller is not None:
                    if generator and gen_edges:  # recorded: an earlier generator's entry at this address goes
                        gen_edges.pop(id(frame), None)
                    record = (CALL, idx, p[P_TID], now(), summary, obj, id(frame) if generator else None, caller)
                elif generator:
                    if gen_edges:
                        gen_edges.pop(id(frame), None)
                    record = (CALL, idx, p[P_TID], now(), summary, obj, id(frame))
                else:
                    record = (CALL, idx, p[P_TID], now(), summary, obj)
                append(record)
                record = pending = None
                if len(buf) >= limit[0]:
                    flush()
            except BaseException as exc:
                if not foreign(exc):
                    gap("tracer_error", f"call: {type(exc).__name__}: {exc}")
                    return
                if fast:  # the frame's exception exit follows: its call must be on record
                    if record is not None:
                        if not holds(buf, record):
                            append(record)
                    elif pending is not None:
                        idx, obj, generator = pending
                        if caller is not None:
                            append((CALL, idx, p[P_TID], now(), None, obj, id(frame) if generator else None, caller))
                        else:
                            append(
                                (CALL, idx, p[P_TID], now(), None, obj, id(frame))
                                if generator
                                else (CALL, idx, p[P_TID], now(), None, obj)
                            )
                interrupted(exc, "call")
                raise
        elif event == "return":
            entry = table.get(id(frame.f_code))
            if entry is None:
                if importing[0] and id(frame.f_code) in module_codes:  # a module body being imported ends
                    try:
                        import_ended(id(frame.f_code))
                    except BaseException as exc:
                        if not foreign(exc):
                            gap("tracer_error", f"return: {type(exc).__name__}: {exc}")
                            return
                        interrupted(exc, "return")
                        raise
                return
            closed = unwinds = False  # an exit re-raising the GeneratorExit of a close: not counted as raised
            if closing and entry[ENTRY_GENERATOR] and id(frame) in closing:
                closing.discard(id(frame))
                how = thrown_in.pop(id(frame), CLOSE)
                if how == SILENT:  # the exit of a close that recorded nothing
                    return
                lasti = frame.f_lasti
                unwinds = how == AT_ONCE  # left at the yield it was thrown in at: not a yield
                closed = how == CLOSE and lasti >= 0 and frame.f_code.co_code[lasti] in _RERAISE_OPS
            record = None
            try:
                try:
                    p = tls.p
                except AttributeError:
                    p = new_thread()
                idx = entry[ENTRY_INDEX]
                lasti = frame.f_lasti
                op = frame.f_code.co_code[lasti] if lasti >= 0 else -1
                is_yield = (
                    entry[ENTRY_GENERATOR]
                    and not unwinds
                    and op not in _RETURN_OPS
                    and (op in _YIELD_OPS or _is_suspended(frame))
                )
                counting = mode[0]
                if is_yield:
                    suspended.add(id(frame))
                if counting:
                    if not p[P_SEEDED]:
                        seed(p, frame)
                    stack = p[P_STACK]
                    if stack:
                        key = stack.pop()
                        if key >= 0:
                            if op in _RETURN_OPS or is_yield:
                                return
                            # an exception left a counted call
                            if not entry[ENTRY_GENERATOR]:
                                if stack:
                                    p[P_RAISED][(stack[-1], key)] += 1
                                return
                            # A generator's raise: on the edge of its call, not of the frame that resumed it
                            edge = gen_edges.pop(id(frame), None) if gen_edges else None
                            if edge is not None:  # its call was counted
                                if not closed:
                                    p[P_RAISED][edge] += 1
                                return
                            # Its call was recorded: so are this resume and raise (2 events counted at the
                            # resume), so that the decoder closes the recorded frame and credits its call.
                            p[P_RESUMED] -= 2
                            append((RESUME, idx, p[P_TID], now(), None, 0, id(frame)))
                n = counts[idx]
                wanted = not counting and (state[0] <= first_calls or n <= per_code or n % sample_every == 0)
                if op in _RETURN_OPS:
                    detail = summarise_return(idx, arg) if wanted else None
                    record = (
                        (RETURN, idx, p[P_TID], now(), detail, 0, id(frame))
                        if entry[ENTRY_GENERATOR]
                        else (RETURN, idx, p[P_TID], now(), detail, 0)
                    )
                elif is_yield:
                    record = (YIELD, idx, p[P_TID], now(), summarise_return(idx, arg) if wanted else None, 0, id(frame))
                elif entry[ENTRY_GENERATOR]:
                    if gen_edges:  # resumed after its call was counted: the raise is counted on that call's edge
                        edge = gen_edges.pop(id(frame), None)
                        if edge is not None and not closed:
                            p[P_RAISED][edge] += 1
                    summary = GENERATOR_EXIT if closed else UNKNOWN_EXCEPTION
                    record = (UNWIND, idx, p[P_TID], now(), summary, 0, id(frame))
                else:
                    record = (UNWIND, idx, p[P_TID], now(), UNKNOWN_EXCEPTION, 0)
                append(record)
            except BaseException as exc:
                if not foreign(exc):
                    gap("tracer_error", f"return: {type(exc).__name__}: {exc}")
                    return
                if fast and RETURN_FAILURE_UNWINDS and record is not None:
                    drop(buf, record)  # the frame's exception exit follows and closes it
                elif fast and record is None and not RETURN_FAILURE_UNWINDS:  # nothing follows: record the exit
                    append(_exit_record(frame, entry, p))
                interrupted(exc, "return")
                raise
        elif event == "c_call" and c_watch:  # print, a stream's write, sqlite3's execute... (boundaries.py)
            try:
                c_watch[0](frame, arg)
            except BaseException as exc:  # the probe contains its own errors: this is the program's
                interrupted(exc, "c_call")
                raise

    out = cast("Profiler", profiler)  # (once per start)
    out.suspended = suspended  # shared with the C profile function (capture/_speedups.c)
    out.closing = closing
    out.thrown_in = thrown_in
    return out


def _exit_record(frame: FrameType, entry: Entry, p: list[Any]) -> tuple[Any, ...]:
    """The exit of a frame whose 'return' event the program's exception interrupted (summary left out)."""
    lasti = frame.f_lasti
    op = frame.f_code.co_code[lasti] if lasti >= 0 else -1
    detail: bytes | None
    if op in _RETURN_OPS:
        kind, detail = R.RETURN, None
    elif entry[ENTRY_GENERATOR] and (op in _YIELD_OPS or _is_suspended(frame)):
        kind, detail = R.YIELD, None
    else:
        kind, detail = R.UNWIND, UNKNOWN_EXCEPTION
    if entry[ENTRY_GENERATOR]:
        return (kind, entry[ENTRY_INDEX], p[P_TID], time.perf_counter_ns(), detail, 0, id(frame))
    return (kind, entry[ENTRY_INDEX], p[P_TID], time.perf_counter_ns(), detail, 0)


def _thrown(frame: FrameType, arg: Any) -> bytes | None:
    """An exception thrown in at a yield: GENERATOR_EXIT for a close, else None (3.12+: summarise ``arg``).

    3.12+ passes the exception. 3.11 does not: it is taken for a close (the garbage collector, close(),
    a ``for`` loop left early), unless a context manager's exit throws it (contextlib's ``__exit__``).
    """
    if arg is not None:
        return GENERATOR_EXIT if type(arg) is GeneratorExit else None
    back = frame.f_back
    if back is not None and back.f_code.co_name in ("__exit__", "__aexit__"):
        return UNKNOWN_EXCEPTION
    return GENERATOR_EXIT


def _at_yield(frame: FrameType) -> bool:
    """A resumed frame stands at (throw) or just after (send) a yield; a new one at its start."""
    i = frame.f_lasti
    return i >= 0 and (frame.f_code.co_code[i] in _YIELD_OPS or _is_suspended(frame))


def _is_suspended(frame: FrameType) -> bool:
    """3.13 reports a yield with f_lasti past YIELD_VALUE; look one instruction back."""
    code = frame.f_code.co_code
    i = frame.f_lasti
    for back in (2, 4):  # noqa: SIM110  (a loop: cheaper than any() over a generator, on the hot path)
        if i - back >= 0 and code[i - back] in _YIELD_OPS:
            return True
    return False
