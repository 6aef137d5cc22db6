"""State shared by both tracer backends: code decisions, threads, objects, budgets, spill.

The Recorder is assembled from one class per concern (each in its own module):
  objects.py   run-local object ids (ObjectIds)
  counting.py  per-thread state, the counting regime past the budgets (Counting)
  budget.py    recording budgets: imports, scenarios, first calls of edges (Budget, Budgets)
  buffer.py    the record buffer and its flushes to the spill file (Buffer)
The hot paths (sysmon.py, setprofile.py, _speedups.c) read the attributes set in Recorder.__init__.
Other capture modules that add records (boundaries.py) append to `buf` and count `definitions`.
"""

from __future__ import annotations

import os
import threading
import time

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import BaseException, Exception, dict, id, str, type
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

import orjson

from ..native import load
from . import records as R
from .budget import ROOT, Budget, Budgets, sampling_text
from .buffer import Buffer
from .counting import Counting, thread_stacks
from .filters import CodeFilter
from .objects import INSTANCE_LIMIT, ObjectIds
from .origin import foreign
from .summarise import Summariser, Summary

_type = type
_dict_get = dict.get

__all__ = ["INSTANCE_LIMIT", "Budget", "Entry", "Gap", "Recorder"]

_dumps = orjson.dumps
_join = b"".join
# What a record carries for a summary orjson cannot write (the summariser makes none: plain JSON-able data)
NO_SUMMARY = b'{"type":"?","note":"summary could not be stored"}'
UNKNOWN_EXCEPTION_SUMMARY = b'{"type":"?","message":{"type":"str","value":""}}'


def as_json(summary: Any) -> bytes:
    """A summary as the JSON bytes trace.jsonl holds for it: made once, at capture; records carry these bytes,
    the trace writer copies them into the line and the model parses only the few it keeps (issue 16).

    A copy of orjson's result (which keeps a 4 KiB buffer however short the text: 32k records in the buffer
    would hold 128 MiB). Raises TypeError for what orjson cannot write."""
    return _join((_dumps(summary), b""))


_NO_SUMMARY_DICT = {"type": "?", "note": "summary could not be stored"}  # NO_SUMMARY, parsed


# A traced code object, as the hot paths read it: (index, receiver ("self"/"cls" or None), generator, arg_names)
Entry = tuple[int, "str | None", bool, tuple[str, ...]]


@dataclass
class Gap:
    kind: str
    message: str
    count: int = 1


def _imported(code: CodeType, frame: FrameType) -> bool:
    """Is this module body being imported? (not the script run as __main__, not exec() of a string)"""
    g = frame.f_globals
    if _type(g) is not dict:
        return False
    name = _dict_get(g, "__name__")
    return _type(name) is str and name != "__main__" and _dict_get(g, "__spec__") is not None


class Recorder(ObjectIds, Counting, Budgets, Buffer):
    """Everything the hot path touches lives here, prepared for fast access."""

    def __init__(
        self, code_filter: CodeFilter, summariser: Summariser, spill: R.SpillWriter, budget: Budget | None = None
    ) -> None:
        self.filter = code_filter
        self.summariser = summariser
        self.secret_codes: set[int] = set()  # indexes of secret-named code: its results are redacted (_decide)
        self.spill = spill
        self.budget = budget or Budget()
        self.buf: list[Any] = []
        # id(code) -> (index, receiver, generator, arg_names) for traced code. Keyed by id():
        # code objects do not cache their hash, and hashing one costs hundreds of instructions.
        # The code objects are kept alive (keep_alive, untraced) so an id is never reused.
        self.table: dict[int, Entry] = {}
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
        self.thread_states: list[list[Any]] = []  # per thread: see new_thread()
        self.threads = 0
        self._thread_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._decide_lock = threading.Lock()
        # A forked child runs other at-fork hooks (traced) before capture/forks.py stops its tracer;
        # meanwhile it must neither wait for a lock held by a thread that was not copied nor write.
        self.pid = os.getpid()
        self.init_objects()  # objects.py: run-local object ids
        self.gaps: dict[str, Gap] = {}
        self.scenario: str | None = None  # the scenario running now (see begin_scenario)
        self.scenario_names: set[str] = set()
        self.t0 = time.perf_counter_ns()
        self.summariser._object_id = self.object_id
        self.summariser.main_module = code_filter.main_module
        # capture/_summarise.c: the same summaries of builtin values in C (None: summarise.py does all)
        native = load("capture._summarise")
        self.fast_summaries = (
            native.Summariser(summariser, self.objects, self.secret_codes, self.overflow) if native else None
        )
        # Each thread's stack when the capture began: those frames' calls were never recorded, so
        # seed() leaves them out (ids only: keeping the frames would keep their locals alive).
        self.preexisting: dict[int, list[tuple[int, int]]] = thread_stacks()
        # budget.py: phases and their budgets; sets `limit`, [buffer length that triggers a flush]: a
        # whole chunk, or what is left of the phase's budget, so that recording stops there and not up to a
        # chunk later (with summaries, the most expensive events to record and then to decode)
        self.init_budgets()

    # -- decisions (once per code object) ----------------------------------
    def decide(self, code: CodeType, frame: FrameType | None) -> Entry | None:
        # Two threads may meet a new code object at once: decide under a lock, once.
        if os.getpid() != self.pid:
            return None  # a forked child, about to stop tracing
        with self._decide_lock:
            entry = self.table.get(id(code))
            if entry is not None or id(code) in self.untraced:
                return entry
            entry = self._decide(code, frame)
        if entry is None and frame is not None:
            receiver = self.inits.get(id(code))
            if receiver is not None:  # the first start of a project __init__ (the backends watch the later ones)
                self.reborn(frame, receiver)
        return entry

    def _decide(self, code: CodeType, frame: FrameType | None) -> Entry | None:
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
        if info is not None and info.index >= ROOT:  # node keys past the cap need room for it (and for ROOT)
            self.gap("other", f"more than {R.NODE_KEY_SPAN:,} traced functions: the later ones are not traced")
            info = None
        if info is None:
            if frame is not None and code.co_name == "<module>" and _imported(code, frame):
                self.import_began(id(code))  # budget.py: the backends report its end (import_ended)
                return None  # never remembered as untraced: each run of a module body is seen
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

    # -- summaries (JSON bytes: as_json) --------------------------------------------
    def summarise_args(self, frame: FrameType, names: tuple[str, ...]) -> bytes | None:
        try:
            fast = self.fast_summaries
            if fast is not None:
                # The arguments' summaries made and written as JSON in C (capture/_summarise.c: orjson's bytes);
                # a summary orjson would refuse (Unstorable) takes the dicts' path below.
                try:
                    return fast.args_json(frame, names)  # type: ignore[no-any-return]
                except fast.Unstorable:
                    args = fast.args(frame, names)
            else:
                loc = frame.f_locals
                s = self.summariser
                args = {n: s.value(loc[n], n) for n in names if n in loc}
            try:
                return _join((_dumps(args), b""))  # as_json, inline
            except TypeError:
                return self._args_unstorable(args)
        except Exception as exc:
            self.args_failed(exc)
            return None

    def args_failed(self, exc: BaseException) -> None:
        """summarise_args' answer to an error while summarising: None and a gap; the program's exception (and
        what is no Exception: KeyboardInterrupt, SystemExit) raised again. The C hooks, which call the C
        summariser's args_json themselves, hand its errors here."""
        if foreign(exc):  # (every BaseException that is not an Exception is)
            raise exc
        self.gap("tracer_error", f"summarising arguments: {_type(exc).__name__}")

    def _args_unstorable(self, args: dict[str, Any]) -> bytes:
        """Arguments whose summaries orjson could not all write (never the summariser's plain data): the placeholder
        stands for the argument that failed, the others are kept, so `args` stays what trace.schema.json wants."""
        fixed: dict[str, Any] = {}
        bad = 0
        for name, summary in args.items():
            try:
                _dumps(summary)
                fixed[name] = summary
            except TypeError:
                fixed[name] = _NO_SUMMARY_DICT
                bad += 1
        self.gap("tracer_error", "storing a summary: an argument's summary could not be written", bad or 1)
        return as_json(fixed)

    def summarise_value(self, value: Any) -> bytes:
        return self._json(self.summariser.value(value))

    def summarise_return(self, idx: int, value: Any) -> bytes:
        """A value returned or yielded by traced code `idx` (only called for the sampled summaries)."""
        fast = self.fast_summaries
        if fast is not None:
            try:
                return fast.result_json(idx, value)  # type: ignore[no-any-return]  # orjson's bytes, written in C
            except fast.Unstorable:
                summary = fast.result(idx, value)
        elif idx in self.secret_codes:
            summary = self.summariser.secret_result(value)
        else:
            summary = self.summariser.value(value)
        try:
            return _join((_dumps(summary), b""))  # as_json, inline: one Python call less per summary
        except TypeError as exc:
            return self._unstorable(exc)

    def summarise_exception(self, exc: BaseException) -> bytes:
        try:
            return as_json(self.summariser.exception(exc))
        except Exception as err:
            if foreign(err):
                raise
            return UNKNOWN_EXCEPTION_SUMMARY

    def _json(self, summary: Summary) -> bytes:
        try:
            return as_json(summary)
        except TypeError as exc:
            return self._unstorable(exc)

    def _unstorable(self, exc: TypeError) -> bytes:
        """orjson.JSONEncodeError: never for the summariser's plain data."""
        self.gap("tracer_error", f"storing a summary: {_type(exc).__name__}")
        return NO_SUMMARY

    # -- the program's exceptions inside the callbacks -----------------------------
    foreign = staticmethod(foreign)

    def passed_through(self, exc: BaseException, event: str) -> None:
        """The program's exception surfaced inside a callback (a signal handler's): it is re-raised."""
        self.gap(
            "interrupted",
            f"the program's {_type(exc).__name__} was raised while the tracer's {event} "
            "callback ran (a signal handler, Ctrl-C) and passed on to the program unchanged; "
            "that event's summary may be missing",
        )

    # -- bookkeeping -----------------------------------------------------------
    def gap(self, kind: str, message: str, count: int = 1) -> None:
        g = self.gaps.get(message)
        if g is None:
            self.gaps[message] = Gap(kind, message, count)
        else:
            g.count += count

    # -- os.fork (capture/forks.py) ----------------------------------------------
    def after_fork_child(self) -> None:
        """The child keeps nothing: its copy of the buffer is the parent's to write."""
        self._flush_lock = threading.Lock()  # a thread that held one was not copied
        self._thread_lock = threading.Lock()
        self._decide_lock = threading.Lock()
        self.buf.clear()
        self.spill.detach()
        for ref in self.count_tables:  # the rows the C hooks queued are the parent's too
            hooks = ref()
            rows = getattr(hooks, "rows", None)
            if rows is not None:
                rows.clear()

    # -- scenarios (pytest tests, traced blocks) -----------------------------
    def begin_scenario(
        self,
        name: str,
        kind: str = "test",
        file: str | None = None,
        line: int | None = None,
        remaining: int | None = None,
    ) -> str:
        """Events from now on belong to scenario `name` (scenarios do not nest or overlap).

        remaining: the scenarios still to run, this one included (pytest knows after collection): each
        gets that share of what is left of the budget (budget.py). None: no share of its own.
        Returns the name used: a repeated name gets a " #2", " #3"... suffix.
        """
        self.checkpoint(self.scenario)  # calls counted before it began are not its own
        base, n = name, 1
        while name in self.scenario_names:
            n += 1
            name = f"{base} #{n}"
        self.scenario_names.add(name)
        self.scenario = name
        self.buf.append((R.SCENARIO, name, {"kind": kind, "file": file, "line": line}))
        self.definitions += 1
        self.scenario_phase(name, remaining)
        return name

    def end_scenario(self, outcome: str | None, duration_s: float | None = None, message: str | None = None) -> None:
        name = self.scenario
        if name is None:
            return
        self.checkpoint(name)
        self.scenario = None
        self.scenario_phase_end()
        self.buf.append((R.SCENARIO_END, name, {"outcome": outcome, "duration_s": duration_s, "message": message}))
        self.definitions += 1
        self.flush()

    def finish(self) -> None:
        self.made.stop()  # creations counted past the first (capture/creations.py)
        self.checkpoint(self.scenario)
        self.flush()
        self.spill.flush()
        if self.budget.limited:
            self.sampled = self.sampling()
            if self.counted_some:  # a part of the run was counted rather than recorded: say which
                self.gap("sampling", sampling_text(self.sampled))
