"""Per-thread state and the counting regime (calls counted per caller -> callee instead of recorded).

Each thread has a state list, p = [tid, stack, counts, raised, seeded, firsts, seen, resumed, gen_edges]:
  stack    node keys (records.NODE_KEY_SPAN) of its open traced frames while counting; a frame written as
           a record sits there as -1 - key (its return is written too); budget.ROOT stands for a module body
  counts   {(caller key, callee key) or packed int (C): calls} while counting (written as AGGREGATE records).
           The C fast paths keep the counts of packed edges in a table of their own (_speedups.c count_edge)
           and write them here (fold_counts) before anything reads this dict: before a Python callback runs,
           when another thread counts, at checkpoint() and when the capture closes
  raised   same keys: calls that raised
  seeded   the stack holds the frames that were open when this thread began counting (see seed())
  firsts   same keys as counts: those of the counted calls that were recorded (an edge's first calls)
  seen     same keys: calls recorded as an edge's first calls in the whole run (never reset: at most
           Budget.first_per_edge per edge and thread)
  resumed  events of counted generators past their call: 2 per counted resume (the resume and the exit
           that follows it); a counted call is 2 events (its call and its first exit). The AGGREGATE
           record carries them, so that the run's event total equals the uncapped run's.
  gen_edges  the Recorder's dict (one for all threads: a generator may resume on another thread):
           id(frame) of a generator or coroutine whose call was counted -> that call's edge. Its raise
           is counted on that edge, whichever frame resumed it (as a recorded trace credits it); a traced
           generator's start at that address replaces or removes the entry (a frame that died leaves its
           address to a new one). A generator whose call was recorded and that raises after a counted
           resume has that resume and its raise written as records (2 events less in resumed): the
           decoder closes the recorded frame and credits the raise to its call's edge.
"""

from __future__ import annotations

import functools
import sys
import threading

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import Exception, id, len, str, type
from collections import defaultdict
from collections.abc import Callable
from types import FrameType
from typing import Any

from . import layout as L
from . import records as R
from . import speedups
from .budget import ROOT
from .origin import foreign

_dict_get = dict.get
_threads = threading._active  # type: ignore[attr-defined]  # ident -> Thread, the dict threading keeps
_thread_dict = threading.Thread.__dict__["__dict__"].__get__  # the instance dict, never the object's attributes
_get_ident = threading.get_ident


def thread_stacks() -> dict[int, list[tuple[int, int]]]:
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
        f: FrameType | None = frame
        while f is not None:
            stack.append((id(f), id(f.f_code)))
            f = f.f_back
        stack.reverse()
        out[ident] = stack
    return out


class Counting:
    """The thread half of the Recorder."""

    thread_states: list[list[Any]]
    threads: int
    tls: threading.local
    buf: list[Any]
    definitions: int
    mode: list[bool]
    table: dict[int, tuple[Any, ...]]
    module_codes: dict[int, int]
    root_codes: set[int]
    preexisting: dict[int, list[tuple[int, int]]]
    _thread_lock: threading.Lock
    receiver_id: Callable[[Any], int]

    @functools.cached_property
    def count_tables(self) -> list[Callable[[], Any]]:
        """Weak references to the C fast paths (_speedups.Hooks) that count edges in a table of their own."""
        return []

    def fold_counts(self) -> None:
        """The calls counted in C go into the threads' count dicts (p[L.P_COUNTS]) before they are read."""
        for ref in self.count_tables:
            hooks = ref()
            if hooks is not None:
                hooks.fold()

    @functools.cached_property
    def checkpoint_rows(self) -> Callable[..., None] | None:
        """checkpoint()'s loops over a thread's count dicts in C (_speedups.c checkpoint_rows), or None."""
        fast = speedups.load()
        return getattr(fast, "checkpoint_rows", None) if fast is not None else None

    @functools.cached_property
    def gen_edges(self) -> dict[int, Any]:
        """id(frame) of a generator whose call was counted -> that call's edge (see the module docstring)."""
        return {}

    def new_thread(self) -> list[Any]:
        """This thread's state list (see the module docstring).

        seeded: the stack holds this thread's frames that were open at the switch to counting (see
        seed()). A thread first met while counting has no recorded frame open: nothing to seed.
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
            p: list[Any] = [None] * L.P_SIZE  # (layout.py)
            p[L.P_TID] = tid
            p[L.P_STACK] = []
            p[L.P_COUNTS], p[L.P_RAISED], p[L.P_FIRSTS] = defaultdict(int), defaultdict(int), defaultdict(int)
            p[L.P_SEEDED] = self.mode[0]
            p[L.P_SEEN] = {}
            p[L.P_RESUMED] = 0
            p[L.P_GEN_EDGES] = self.gen_edges
            self.thread_states.append(p)
            self.buf.append((R.DEF_THREAD, tid, name if type(name) is str else f"thread-{tid}"))
            self.definitions += 1
            self.tls.p = p
        return p

    def seed(self, p: list[Any], frame: FrameType | None) -> None:
        """This thread's first event while counting: its open traced frames go on its counting stack.

        Every traced frame on the stack at this point was recorded (the thread was recording when it
        entered it: recording resumes only when no thread is inside a counted call), so each goes on as a
        record-written key (-1 - key): its return is still written, and the calls it makes from now on
        are counted on edges from it instead of being written as records. A module body being imported
        with no traced frame below it goes on as ROOT: what it calls is counted with no caller (below a
        traced frame, that frame is the caller, as in a recorded trace).
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
        table, modules, keys = self.table, self.module_codes, []
        for frame in chain[start:]:
            entry = table.get(id(frame.f_code))
            if entry is not None:
                obj = 0
                if entry[L.ENTRY_RECEIVER] is not None:
                    try:
                        obj = self.receiver_id(frame.f_locals[entry[L.ENTRY_RECEIVER]])
                    except Exception as exc:  # the receiver was deleted: the function's own node
                        if foreign(exc):
                            raise
                        obj = 0
                keys.append(-1 - (obj * R.NODE_KEY_SPAN + entry[L.ENTRY_INDEX]))
            elif not keys and modules and id(frame.f_code) in modules:  # an import with no traced frame below
                keys.append(ROOT)
                self.root_codes.add(id(frame.f_code))
        p[L.P_STACK][:0] = keys
        p[L.P_SEEDED] = True  # last (no call in between): a seeding the program's exception interrupted is redone

    def checkpoint(self, scenario: str | None) -> None:
        """Append the calls counted so far (credited to `scenario`), then start afresh."""
        self.fold_counts()
        counts: dict[Any, int] = {}
        raised: dict[Any, int] = {}
        resumed = 0  # events of counted generators past their call (see the module docstring)

        def node(key: int) -> tuple[int, ...]:
            if key == ROOT or key == -1 - ROOT:
                # a module body: the call was made at import time, by no traced function. () and not None:
                # the decoder iterates a set of these keys, and hash(None) differs between processes on 3.11
                return ()
            return R.split_node_key(key)  # int node keys (see records.NODE_KEY_SPAN) -> (idx, obj)

        def unpack(edge: Any) -> tuple[Any, Any]:
            if type(edge) is int:  # the C fast path's packed edge: caller << 32 | callee
                return node(edge >> R.EDGE_SHIFT), node(edge & R.EDGE_MASK)
            return node(edge[0]), node(edge[1])

        rows = self.checkpoint_rows
        for p in self.thread_states:
            if p[L.P_RESUMED]:
                resumed += p[L.P_RESUMED]
                p[L.P_RESUMED] = 0
            # Swap in fresh dicts first: the hot path fetches these three on every counted call.
            c, r, f = p[L.P_COUNTS], p[L.P_RAISED], p[L.P_FIRSTS]
            if not c and not r:
                continue
            p[L.P_COUNTS], p[L.P_RAISED], p[L.P_FIRSTS] = defaultdict(int), defaultdict(int), defaultdict(int)
            if rows is not None:  # the loops below, in C (a pytest run checkpoints at every test)
                rows(c, r, f, counts, raised, unpack)
                continue
            for edge, v in c.items():
                v -= f.get(edge, 0)  # those were recorded as events
                if v > 0:
                    k = unpack(edge)
                    counts[k] = counts.get(k, 0) + v
            for edge, v in r.items():
                k = unpack(edge)
                raised[k] = raised.get(k, 0) + v
        if counts or raised or resumed:
            self.buf.append((R.AGGREGATE, counts, raised, scenario, resumed))
            self.definitions += 1
