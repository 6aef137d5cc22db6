"""State shared by both tracer backends: code decisions, threads, objects, budgets, spill."""
from __future__ import annotations

import marshal
import os
import sys
from collections import defaultdict
import threading
import time
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import BaseException, Exception, dict, id, issubclass, len, max, min, range, str, type

from . import records as R
from .filters import CodeFilter
from .origin import foreign
from .summarise import Summariser, class_path

_type = type
INSTANCE_LIMIT = 50  # distinct objects tracked per class; later ones share one id
# While tracemalloc traces, the record buffer is flushed every SMALL_CHUNK records: records are Python
# objects, and a program that bounds its own memory growth with tracemalloc must not see them pile up.
SMALL_CHUNK = 256
_dict_get = dict.get
_threads = threading._active  # type: ignore[attr-defined]  # ident -> Thread, the dict threading keeps
_thread_dict = threading.Thread.__dict__["__dict__"].__get__  # the instance dict, never the object's attributes
_get_ident = threading.get_ident
try:
    from _tracemalloc import is_tracing as _tracemalloc_on
except ImportError:  # pragma: no cover - CPython always has it
    def _tracemalloc_on() -> bool:
        return False


@dataclass
class Budget:
    """When argument/return summaries are taken (they cost more than the tracing)."""

    first_calls: int = 10_000  # every call among the first N calls of the run
    per_code: int = 20  # the first K calls of each function
    sample_every: int = 1_000  # then one call in N per function
    max_events: int = 1_000_000  # once this many records are written, later calls are only counted


@dataclass
class Gap:
    kind: str
    message: str
    count: int = 1


def _thread_stacks() -> dict[int, list[tuple[int, int]]]:
    """thread ident -> its stack now, bottom first, as (id(frame), id(code)) pairs."""
    out: dict[int, list[tuple[int, int]]] = {}
    try:
        frames = sys._current_frames()
    except Exception as exc:
        if foreign(exc):
            raise
        return out
    for ident, frame in frames.items():
        stack = []
        while frame is not None:
            stack.append((id(frame), id(frame.f_code)))
            frame = frame.f_back
        stack.reverse()
        out[ident] = stack
    return out


class Recorder:
    """Everything the hot path touches lives here, prepared for fast access."""

    def __init__(self, code_filter: CodeFilter, summariser: Summariser, spill: R.SpillWriter,
                 budget: Budget | None = None) -> None:
        self.filter = code_filter
        self.summariser = summariser
        self.secret_codes: set[int] = set()  # indexes of secret-named code: its results are redacted (_decide)
        self.spill = spill
        self.budget = budget or Budget()
        self.buf: list = []
        # id(code) -> (index, receiver, generator, arg_names) for traced code. Keyed by id():
        # code objects do not cache their hash, and hashing one costs hundreds of instructions.
        # The code objects are kept alive (keep_alive, untraced) so an id is never reused.
        self.table: dict[int, tuple] = {}
        self.untraced: dict[int, CodeType] = {}  # setprofile only (sysmon uses DISABLE instead)
        self.remember_untraced = False
        self.keep_alive: list[CodeType] = []
        self.counts: list[int] = []  # calls per code index
        self.calls = 0
        self.records = 0  # written to the spill so far (events and definitions)
        self.definitions = 0  # DEF_* records appended so far
        self.tls = threading.local()
        self.state = [0]  # [calls recorded so far], shared by the hot-path closures
        # [counting?]: set at flush time once max_events records are written; from then on
        # the hot path counts calls per caller -> callee instead of recording them.
        self.mode = [False]
        # [buffer length that triggers a flush]: a whole chunk, or what is left until the cap, so
        # that recording stops at the cap and not up to a chunk later (with summaries, the most
        # expensive events to record and then to decode, only to be dropped)
        self.limit = [max(1, min(R.CHUNK, self.budget.max_events))]
        self.thread_states: list[list] = []  # per thread: see new_thread()
        self.threads = 0
        self._thread_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._decide_lock = threading.Lock()
        # A forked child runs other at-fork hooks (traced) before capture/forks.py stops its tracer;
        # meanwhile it must neither wait for a lock held by a thread that was not copied nor write.
        self.pid = os.getpid()
        # id(obj) -> (run-local id, class). No reference to the object (a weak reference would show in
        # weakref.getweakrefcount): an address reused by a new object of the same class is told apart
        # by its __init__ (see reborn()), else it gets the old id.
        self.objects: dict[int, tuple] = {}
        # id(__init__ code) -> receiver name, for the project's __init__ methods: their PY_START drops
        # the object's entry above when a new object is initialised at an address seen before.
        self.inits: dict[int, str] = {}
        self.next_object = 0
        # Keyed by id(class), never by the class: a metaclass may define __hash__/__eq__.
        self.per_class: dict[int, int] = {}
        # id(class) -> object id shared by its instances past INSTANCE_LIMIT (the hot path checks it)
        self.overflow: dict[int, int] = {}
        self.gaps: dict[str, Gap] = {}
        self.scenario: str | None = None  # the scenario running now (see begin_scenario)
        self.scenario_names: set[str] = set()
        self.t0 = time.perf_counter_ns()
        self.summariser._object_id = self.object_id
        self.summariser.main_module = code_filter.main_module
        # Each thread's stack when the capture began: those frames' calls were never recorded, so
        # seed() leaves them out (ids only: keeping the frames would keep their locals alive).
        self.preexisting: dict[int, list[tuple[int, int]]] = _thread_stacks()

    # -- decisions (once per code object) ----------------------------------
    def decide(self, code: CodeType, frame: FrameType | None) -> tuple | None:
        # Two threads may meet a new code object at once: decide under a lock, once.
        if os.getpid() != self.pid:
            return None  # a forked child, about to stop tracing
        with self._decide_lock:
            entry = self.table.get(id(code))
            if entry is not None or id(code) in self.untraced:
                return entry
            return self._decide(code, frame)

    def _decide(self, code: CodeType, frame: FrameType | None) -> tuple | None:
        try:
            g = frame.f_globals if frame is not None else None
            module = _dict_get(g, "__name__") if _type(g) is dict else None  # never a dict subclass's .get
            info = self.filter.describe(code, module if _type(module) is str else None)
            if info is None and code.co_name == "__init__":
                receiver = self.filter.init_receiver(code)
                if receiver is not None:  # not traced, but tells a new object from an old one at its address
                    self.inits[id(code)] = receiver
                    self.keep_alive.append(code)
        except Exception as exc:  # a filter bug must not break the program
            if foreign(exc):
                raise
            self.gap("tracer_error", f"deciding {code.co_name}: {_type(exc).__name__}")
            info = None
        if info is not None and info.index >= R.NODE_KEY_SPAN:  # node keys past the cap need room for it
            self.gap("other", f"more than {R.NODE_KEY_SPAN:,} traced functions: the later ones are not traced")
            info = None
        if info is None:
            if self.remember_untraced and id(code) not in self.inits:
                self.untraced[id(code)] = code
            return None
        self.keep_alive.append(code)
        try:  # get_password(), Settings.database_password: what it returns or yields is redacted
            if self.summariser.secret_callable(code.co_qualname):
                self.secret_codes.add(info.index)
        except Exception as exc:
            if foreign(exc):
                raise
            self.secret_codes.add(info.index)  # when in doubt, redact
        entry = (info.index, info.receiver, info.generator, info.arg_names)
        self.table[id(code)] = entry
        self.counts.append(0)
        self.buf.append((R.DEF_CODE, info.as_record()))
        self.definitions += 1
        return entry

    # -- threads and objects -------------------------------------------------
    def new_thread(self) -> list:
        """Per-thread state: [tid, stack of node keys past the cap, edge counts, raised counts, seeded].

        seeded: the stack holds this thread's frames that were open at the switch to counting (see
        seed()). A thread first met past the cap has no recorded frame open: nothing to seed.
        """
        name = None
        try:  # the Thread object's own _name: never a subclass's `name` property or __getattribute__
            t = _threads.get(_get_ident())
            if t is not None:
                name = _dict_get(_thread_dict(t), "_name")
        except Exception as exc:
            if foreign(exc):
                raise
        with self._thread_lock:
            self.threads += 1
            tid = self.threads
            p = [tid, [], defaultdict(int), defaultdict(int), self.mode[0]]
            self.thread_states.append(p)
            self.buf.append((R.DEF_THREAD, tid, name if _type(name) is str else f"thread-{tid}"))
            self.definitions += 1
            self.tls.p = p
        return p

    def object_id(self, obj: Any) -> int:
        """Run-local id, stable while the object lives (never calls user code, keeps no reference).

        Past INSTANCE_LIMIT objects of one class, the rest share one id per class:
        the map shows them as one "other instances" node instead of a million boxes.
        """
        key = id(obj)
        cls = _type(obj)
        ent = self.objects.get(key)
        if ent is not None and ent[1] is cls:
            return ent[0]
        shared = self.overflow.get(id(cls))
        if shared is not None:
            return shared
        is_class = issubclass(cls, type)  # a class receiver (classmethod); never folded
        seen = self.per_class[id(cls)] = self.per_class.get(id(cls), 0) + 1
        self.next_object += 1
        oid = self.next_object
        if seen > INSTANCE_LIMIT and not is_class:
            self.overflow[id(cls)] = oid
            module, qualname = class_path(cls)
            if module == "__main__":
                module = self.filter.main_module
            self.buf.append((R.DEF_OBJECT, oid, module, qualname, None))
            self.definitions += 1
            return oid
        module, qualname = class_path(obj if is_class else cls)
        if module == "__main__":
            module = self.filter.main_module
        self.buf.append((R.DEF_OBJECT, oid, module, qualname, is_class))
        self.definitions += 1
        self.objects[key] = (oid, cls)  # last: an interrupted definition is made again, never missing
        return oid

    def receiver_id(self, me: Any) -> int:
        """object_id() with the fast paths first; both backends inline this in their PY_START."""
        ent = self.objects.get(id(me))
        if ent is not None and ent[1] is _type(me):
            return ent[0]
        return self.overflow.get(id(_type(me))) or self.object_id(me)

    def reborn(self, frame: FrameType, receiver: str) -> None:
        """A project __init__ starts: a new object at an address seen before gets a new id.

        Not when the caller is an __init__ of the same object (super().__init__(), Base.__init__(self)).
        """
        try:
            me = frame.f_locals[receiver]
        except Exception as exc:
            if foreign(exc):
                raise
            return
        if id(me) not in self.objects:
            return
        back = frame.f_back
        if back is not None:
            name = self.inits.get(id(back.f_code))
            if name is not None:
                try:
                    if back.f_locals[name] is me:  # a dict, or the frame's own proxy (3.13): no user code
                        return
                except Exception as exc:
                    if foreign(exc):
                        raise
        self.objects.pop(id(me), None)

    def seed(self, p: list, frame: FrameType | None) -> None:
        """This thread's first event past the cap: its open traced frames go on its counting stack.

        Every traced frame on the stack at this point was recorded (the thread was still recording
        when it entered it), so each goes on as a record-written key (-1 - key): its return is
        still written, and the calls it makes from now on are counted on edges from it instead
        of being written as records (a loop in main() would otherwise write one per iteration).
        frame: the innermost frame to include (the callbacks of a call or resume pass its caller).
        """
        chain = []
        while frame is not None:
            chain.append(frame)
            frame = frame.f_back
        chain.reverse()
        # The bottom frames that were already there when the capture began (same frame, same code,
        # same place: a frame that returned may leave its address to a new one) are not recorded.
        pre = self.preexisting.get(_get_ident(), ())
        start = 0
        while start < len(chain) and start < len(pre) and pre[start] == (id(chain[start]), id(chain[start].f_code)):
            start += 1
        table, keys = self.table, []
        for frame in chain[start:]:
            entry = table.get(id(frame.f_code))
            if entry is not None:
                obj = 0
                if entry[1] is not None:
                    try:
                        obj = self.receiver_id(frame.f_locals[entry[1]])
                    except Exception as exc:  # the receiver was deleted: the function's own node
                        if foreign(exc):
                            raise
                        obj = 0
                keys.append(-1 - (obj * R.NODE_KEY_SPAN + entry[0]))
        p[1][:0] = keys
        p[4] = True  # last (no call in between): a seeding interrupted by the program's exception is done again

    # -- summaries -------------------------------------------------------------
    def summarise_args(self, frame: FrameType, names: tuple[str, ...]) -> dict | None:
        try:
            loc = frame.f_locals
            s = self.summariser
            return {n: s.value(loc[n], n) for n in names if n in loc}
        except Exception as exc:
            if foreign(exc):
                raise
            self.gap("tracer_error", f"summarising arguments: {_type(exc).__name__}")
            return None

    def summarise_value(self, value: Any) -> dict | None:
        return self.summariser.value(value)

    def summarise_return(self, idx: int, value: Any) -> dict | None:
        """A value returned or yielded by traced code `idx` (only called for the sampled summaries)."""
        if idx in self.secret_codes:
            return self.summariser.secret_result(value)
        return self.summariser.value(value)

    def summarise_exception(self, exc: BaseException) -> dict:
        try:
            return self.summariser.exception(exc)
        except Exception as err:
            if foreign(err):
                raise
            return {"type": "?", "message": {"type": "str", "value": ""}}

    # -- the program's exceptions inside the callbacks -----------------------------
    foreign = staticmethod(foreign)

    def passed_through(self, exc: BaseException, event: str) -> None:
        """The program's exception surfaced inside a callback (a signal handler's): it is re-raised."""
        self.gap("interrupted", f"the program's {_type(exc).__name__} was raised while the tracer's {event} "
                                "callback ran (a signal handler, Ctrl-C) and passed on to the program unchanged; "
                                "that event's summary may be missing")

    @staticmethod
    def holds(buf: list, record: Any) -> bool:
        """Is this very record (by identity) in the buffer? (after an interrupted append)"""
        for r in buf:
            if r is record:
                return True
        return False

    @staticmethod
    def drop(buf: list, record: Any) -> None:
        """Remove this very record (by identity) from the buffer, if there."""
        for i in range(len(buf) - 1, -1, -1):
            if buf[i] is record:
                del buf[i]
                return

    # -- bookkeeping -----------------------------------------------------------
    def gap(self, kind: str, message: str, count: int = 1) -> None:
        g = self.gaps.get(message)
        if g is None:
            self.gaps[message] = Gap(kind, message, count)
        else:
            g.count += count

    def flush(self) -> None:
        # Other threads may append while we write: take a prefix, delete exactly it.
        if os.getpid() != self.pid:
            return  # a forked child: the spill is the parent's
        if not self._flush_lock.acquire(blocking=False):
            return  # another thread is flushing
        records = pos = None
        try:
            pos = self._spill_pos()
            buf = self.buf
            n = len(buf)
            if n:
                records = buf[:n]
                del buf[:n]
                self.records += n
                left = self.budget.max_events - (self.records - self.definitions)  # event records to go
                chunk = SMALL_CHUNK if _tracemalloc_on() else R.CHUNK
                if left <= 0:
                    self.mode[0] = True  # from now on: count, do not record
                    self.limit[0] = chunk
                else:
                    self.limit[0] = max(1, min(chunk, left))
                self._write(records)
                records = None
        except BaseException as exc:
            # Interrupted (a signal handler) after taking the records: write them, unless they are written
            # (the file moved on: the exception came after the write).
            if records is not None and pos is not None and self._spill_pos() == pos:
                self._write(records)
            if foreign(exc):
                raise
            self.gap("tracer_error", f"flushing records: {_type(exc).__name__}")
        finally:
            self._flush_lock.release()

    def _spill_pos(self) -> int | None:
        try:
            return self.spill._f.tell()
        except Exception as exc:
            if foreign(exc):
                raise
            return None

    def _write(self, records: list) -> None:
        """Write a chunk; a record that cannot be marshalled never takes the good ones with it."""
        try:
            self.spill.write(records)
            return
        except ValueError as exc:  # marshal: an unmarshallable value slipped into a record
            if foreign(exc):
                raise
        except Exception as exc:
            if foreign(exc):
                raise
            self.gap("tracer_error", f"writing the spill file: {_type(exc).__name__}")
            return
        good, bad = [], 0
        for r in records:
            try:
                marshal.dumps(r)
                good.append(r)
            except ValueError:
                fixed = _plain_record(r)
                if fixed is None:
                    bad += 1
                else:
                    good.append(fixed)
        if bad:
            self.gap("tracer_error", "a record held a value that cannot be stored: it was left out", bad)
        try:
            self.spill.write(good)
        except Exception as exc:
            if foreign(exc):
                raise
            self.gap("tracer_error", f"writing the spill file: {_type(exc).__name__}")

    # -- os.fork (capture/forks.py) ----------------------------------------------
    def after_fork_child(self) -> None:
        """The child keeps nothing: its copy of the buffer is the parent's to write."""
        self._flush_lock = threading.Lock()  # a thread that held one was not copied
        self._thread_lock = threading.Lock()
        self._decide_lock = threading.Lock()
        self.buf.clear()
        self.spill.detach()

    # -- scenarios (pytest tests, traced blocks) -----------------------------
    def begin_scenario(self, name: str, kind: str = "test", file: str | None = None, line: int | None = None) -> str:
        """Events from now on belong to scenario `name` (scenarios do not nest or overlap).

        Returns the name used: a repeated name gets a " #2", " #3"... suffix.
        """
        self._checkpoint(self.scenario)  # calls counted before it began are not its own
        base, n = name, 1
        while name in self.scenario_names:
            n += 1
            name = f"{base} #{n}"
        self.scenario_names.add(name)
        self.scenario = name
        self.buf.append((R.SCENARIO, name, {"kind": kind, "file": file, "line": line}))
        self.definitions += 1
        return name

    def end_scenario(self, outcome: str | None, duration_s: float | None = None, message: str | None = None) -> None:
        name = self.scenario
        if name is None:
            return
        self._checkpoint(name)
        self.scenario = None
        self.buf.append((R.SCENARIO_END, name, {"outcome": outcome, "duration_s": duration_s, "message": message}))
        self.definitions += 1
        self.flush()

    def _checkpoint(self, scenario: str | None) -> None:
        """Append the calls counted past the cap so far (credited to `scenario`), then start afresh."""
        counts: dict = {}
        raised: dict = {}

        split = R.split_node_key  # int node keys (see records.NODE_KEY_SPAN) -> (idx, obj)
        for p in self.thread_states:
            # Swap in fresh dicts first: the hot path fetches p[2]/p[3] on every call.
            c, r = p[2], p[3]
            if not c and not r:
                continue
            p[2], p[3] = defaultdict(int), defaultdict(int)
            for edge, v in c.items():
                if type(edge) is int:  # the C fast path's packed edge: caller << 32 | callee
                    caller, callee = edge >> R.EDGE_SHIFT, edge & R.EDGE_MASK
                else:
                    caller, callee = edge
                k = (split(caller), split(callee))
                counts[k] = counts.get(k, 0) + v
            for (caller, callee), v in r.items():
                k = (split(caller), split(callee))
                raised[k] = raised.get(k, 0) + v
        if counts or raised:
            self.buf.append((R.AGGREGATE, counts, raised, scenario))
            self.definitions += 1

    def finish(self) -> None:
        self._checkpoint(self.scenario)
        self.flush()
        self.spill.flush()


_PLACEHOLDER = {"type": "?", "note": "summary could not be stored"}


def _plain_record(r: Any) -> tuple | None:
    """An event record with its summary replaced by a placeholder, if that makes it storable."""
    if _type(r) is not tuple or len(r) < 6 or _type(r[0]) is not int or r[0] < 0:
        return None
    fixed = (*r[:4], _PLACEHOLDER, *r[5:])
    try:
        marshal.dumps(fixed)
    except ValueError:
        return None
    return fixed
