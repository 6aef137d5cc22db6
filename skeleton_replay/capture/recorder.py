"""State shared by both tracer backends: code decisions, threads, objects, budgets, spill."""
from __future__ import annotations

import os
import sys
from collections import defaultdict
import threading
import time
import weakref
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from . import records as R
from .filters import CodeFilter
from .summarise import Summariser, class_path

_type = type
INSTANCE_LIMIT = 50  # distinct objects tracked per class; later ones share one id


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
    except Exception:
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
        self.objects: dict[int, tuple] = {}
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
            module = frame.f_globals.get("__name__") if frame is not None else None
            info = self.filter.describe(code, module if _type(module) is str else None)
        except Exception as exc:  # a filter bug must not break the program
            self.gap("tracer_error", f"deciding {code.co_name}: {_type(exc).__name__}: {exc}")
            info = None
        if info is not None and info.index >= R.NODE_KEY_SPAN:  # node keys past the cap need room for it
            self.gap("other", f"more than {R.NODE_KEY_SPAN:,} traced functions: the later ones are not traced")
            info = None
        if info is None:
            if self.remember_untraced:
                self.untraced[id(code)] = code
            return None
        self.keep_alive.append(code)
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
        with self._thread_lock:
            self.threads += 1
            tid = self.threads
            p = [tid, [], defaultdict(int), defaultdict(int), self.mode[0]]
            self.thread_states.append(p)
        self.tls.p = p
        try:
            name = threading.current_thread().name
        except Exception:
            name = f"thread-{tid}"
        self.buf.append((R.DEF_THREAD, tid, str(name)))
        self.definitions += 1
        return p

    def object_id(self, obj: Any) -> int:
        """Run-local id, stable for the object's life (never calls user code).

        Past INSTANCE_LIMIT objects of one class, the rest share one id per class:
        the map shows them as one "other instances" node instead of a million boxes.
        """
        key = id(obj)
        ent = self.objects.get(key)
        if ent is not None:
            ref = ent[1]
            if (ref() is obj) if ref is not None else (_type(obj) is ent[2]):
                return ent[0]
        cls = _type(obj)
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
        try:
            ref = weakref.ref(obj)
        except TypeError:
            ref = None
        self.objects[key] = (oid, ref, cls)
        module, qualname = class_path(obj if is_class else cls)
        if module == "__main__":
            module = self.filter.main_module
        self.buf.append((R.DEF_OBJECT, oid, module, qualname, is_class))
        self.definitions += 1
        return oid

    def receiver_id(self, me: Any) -> int:
        """object_id() with the fast paths first; both backends inline this in their PY_START."""
        ent = self.objects.get(id(me))
        if ent is not None and ((ent[1]() is me) if ent[1] is not None else (_type(me) is ent[2])):
            return ent[0]
        return self.overflow.get(id(_type(me))) or self.object_id(me)

    def seed(self, p: list, frame: FrameType | None) -> None:
        """This thread's first event past the cap: its open traced frames go on its counting stack.

        Every traced frame on the stack at this point was recorded (the thread was still recording
        when it entered it), so each goes on as a record-written key (-1 - key): its return is
        still written, and the calls it makes from now on are counted on edges from it instead
        of being written as records (a loop in main() would otherwise write one per iteration).
        frame: the innermost frame to include (the callbacks of a call or resume pass its caller).
        """
        p[4] = True
        chain = []
        while frame is not None:
            chain.append(frame)
            frame = frame.f_back
        chain.reverse()
        # The bottom frames that were already there when the capture began (same frame, same code,
        # same place: a frame that returned may leave its address to a new one) are not recorded.
        pre = self.preexisting.get(threading.get_ident(), ())
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
                    except Exception:  # the receiver was deleted: the function's own node
                        obj = 0
                keys.append(-1 - (obj * R.NODE_KEY_SPAN + entry[0]))
        p[1][:0] = keys

    # -- summaries -------------------------------------------------------------
    def summarise_args(self, frame: FrameType, names: tuple[str, ...]) -> dict | None:
        try:
            loc = frame.f_locals
            s = self.summariser
            return {n: s.value(loc[n], n) for n in names if n in loc}
        except Exception as exc:
            self.gap("tracer_error", f"summarising arguments: {_type(exc).__name__}")
            return None

    def summarise_value(self, value: Any) -> dict | None:
        return self.summariser.value(value)

    def summarise_exception(self, exc: BaseException) -> dict:
        try:
            return self.summariser.exception(exc)
        except Exception:
            return {"type": "?", "message": {"type": "str", "value": ""}}

    # -- bookkeeping -----------------------------------------------------------
    def gap(self, kind: str, message: str) -> None:
        g = self.gaps.get(message)
        if g is None:
            self.gaps[message] = Gap(kind, message)
        else:
            g.count += 1

    def flush(self) -> None:
        # Other threads may append while we write: take a prefix, delete exactly it.
        if os.getpid() != self.pid:
            return  # a forked child: the spill is the parent's
        if not self._flush_lock.acquire(blocking=False):
            return  # another thread is flushing
        try:
            buf = self.buf
            n = len(buf)
            if n:
                records = buf[:n]
                del buf[:n]
                self.records += n
                left = self.budget.max_events - (self.records - self.definitions)  # event records to go
                if left <= 0:
                    self.mode[0] = True  # from now on: count, do not record
                    self.limit[0] = R.CHUNK
                elif left < self.limit[0]:
                    self.limit[0] = left
                try:
                    self.spill.write(records)
                except Exception as exc:
                    self.gap("tracer_error", f"writing the spill file: {_type(exc).__name__}: {exc}")
        finally:
            self._flush_lock.release()

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
