"""sys.monitoring backend (Python 3.12+).

PY_START is global. The first time a code object starts we decide whether it is
traced; untraced code gets DISABLE, so it never calls us again. Traced code gets
PY_RETURN, PY_YIELD and PY_RESUME as local events. PY_UNWIND and PY_THROW can only
be global: they are filtered with one dict lookup (they only fire on exceptions).
"""
from __future__ import annotations

import sys
import time
from typing import Any

from . import records as R
from .recorder import Recorder

PREFERRED_TOOL_IDS = (4, 3, 2, 1, 0, 5)


class NoFreeToolId(RuntimeError):
    pass


class SysMonitoringBackend:
    name = "sysmon"

    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder
        self.tool_id: int | None = None

    def start(self) -> None:
        mon = sys.monitoring
        for tool in PREFERRED_TOOL_IDS:
            if mon.get_tool(tool) is None:
                mon.use_tool_id(tool, "skeleton")
                self.tool_id = tool
                break
        else:
            held = ", ".join(f"{i}={mon.get_tool(i)}" for i in range(6))
            raise NoFreeToolId(f"no free sys.monitoring tool id (held: {held}); stop the other tool or use --backend setprofile")
        ev = mon.events
        callbacks = _make_callbacks(self.rec, self.tool_id)
        for event, fn in callbacks.items():
            mon.register_callback(self.tool_id, getattr(ev, event), fn)
        mon.set_events(self.tool_id, ev.PY_START | ev.PY_UNWIND | ev.PY_THROW)

    def stop(self) -> None:
        if self.tool_id is None:
            return
        mon = sys.monitoring
        tool, self.tool_id = self.tool_id, None
        try:
            mon.set_events(tool, 0)
            for code in self.rec.keep_alive:
                mon.set_local_events(tool, code, 0)
            for name in ("PY_START", "PY_RETURN", "PY_YIELD", "PY_RESUME", "PY_THROW", "PY_UNWIND"):
                mon.register_callback(tool, getattr(mon.events, name), None)
        finally:
            mon.free_tool_id(tool)


def _make_callbacks(rec: Recorder, tool_id: int) -> dict[str, Any]:
    """Closures over locals: the hot path does no attribute look-ups it can avoid."""
    mon = sys.monitoring
    DISABLE = mon.DISABLE
    set_local_events = mon.set_local_events
    local_events = mon.events.PY_RETURN | mon.events.PY_YIELD | mon.events.PY_RESUME
    buf = rec.buf
    append = buf.append
    table = rec.table
    counts = rec.counts
    tls = rec.tls
    now = time.perf_counter_ns
    getframe = sys._getframe
    objects = rec.objects
    object_id = rec.object_id
    overflow = rec.overflow
    summarise_args = rec.summarise_args
    summarise_value = rec.summarise_value
    summarise_exception = rec.summarise_exception
    budget = rec.budget
    first_calls = budget.first_calls
    per_code = budget.per_code
    sample_every = budget.sample_every
    summarise_until = budget.max_events  # past the cap nothing is summarised
    chunk = R.CHUNK
    flush = rec.flush
    CALL, RETURN, UNWIND, YIELD, RESUME = R.CALL, R.RETURN, R.UNWIND, R.YIELD, R.RESUME
    state = [0]  # calls so far (a list cell is cheaper than nonlocal writes from several closures)

    def on_start(code, offset):
        try:
            entry = table.get(code)
            if entry is None:
                entry = rec.decide(code, getframe(1))
                if entry is None:
                    return DISABLE
                set_local_events(tool_id, code, local_events)
            try:
                tid = tls.t
            except AttributeError:
                tid = rec.new_thread()
            idx, receiver, generator, arg_names = entry
            n = counts[idx] = counts[idx] + 1
            calls = state[0] = state[0] + 1
            summary = None
            obj = 0
            if receiver is not None or generator:
                frame = getframe(1)
                if receiver is not None:
                    me = frame.f_locals[receiver]
                    ent = objects.get(id(me))
                    if ent is not None and ((ent[1]() is me) if ent[1] is not None else (type(me) is ent[2])):
                        obj = ent[0]
                    else:
                        obj = overflow.get(type(me)) or object_id(me)
                if (calls <= first_calls or n <= per_code or n % sample_every == 0) and calls < summarise_until:
                    summary = summarise_args(frame, arg_names) if arg_names else None
                if generator:
                    append((CALL, idx, tid, now(), summary, obj, id(frame)))
                else:
                    append((CALL, idx, tid, now(), summary, obj))
            else:
                if arg_names and (calls <= first_calls or n <= per_code or n % sample_every == 0) and calls < summarise_until:
                    summary = summarise_args(getframe(1), arg_names)
                append((CALL, idx, tid, now(), summary, 0))
            if len(buf) >= chunk:
                flush()
        except Exception as exc:  # contained: never break the traced program
            rec.gap("tracer_error", f"PY_START: {type(exc).__name__}: {exc}")

    def _detail_wanted(idx):
        n = counts[idx]
        calls = state[0]
        return (calls <= first_calls or n <= per_code or n % sample_every == 0) and calls < summarise_until

    def on_return(code, offset, retval):
        try:
            entry = table[code]
            idx = entry[0]
            try:
                tid = tls.t
            except AttributeError:
                tid = rec.new_thread()
            n = counts[idx]
            calls = state[0]
            detail = (summarise_value(retval) if (calls <= first_calls or n <= per_code or n % sample_every == 0)
                      and calls < summarise_until else None)
            if entry[2]:
                append((RETURN, idx, tid, now(), detail, 0, id(getframe(1))))
            else:
                append((RETURN, idx, tid, now(), detail, 0))
        except Exception as exc:
            rec.gap("tracer_error", f"PY_RETURN: {type(exc).__name__}: {exc}")

    def on_yield(code, offset, value):
        try:
            entry = table[code]
            idx = entry[0]
            try:
                tid = tls.t
            except AttributeError:
                tid = rec.new_thread()
            detail = summarise_value(value) if _detail_wanted(idx) else None
            append((YIELD, idx, tid, now(), detail, 0, id(getframe(1))))
        except Exception as exc:
            rec.gap("tracer_error", f"PY_YIELD: {type(exc).__name__}: {exc}")

    def on_resume(code, offset):
        try:
            entry = table[code]
            try:
                tid = tls.t
            except AttributeError:
                tid = rec.new_thread()
            append((RESUME, entry[0], tid, now(), None, 0, id(getframe(1))))
            if len(buf) >= chunk:
                flush()
        except Exception as exc:
            rec.gap("tracer_error", f"PY_RESUME: {type(exc).__name__}: {exc}")

    def on_throw(code, offset, exc):
        entry = table.get(code)  # PY_THROW is global-only: filter here
        if entry is None:
            return
        try:
            try:
                tid = tls.t
            except AttributeError:
                tid = rec.new_thread()
            append((RESUME, entry[0], tid, now(), summarise_exception(exc), 0, id(getframe(1))))
        except Exception as err:
            rec.gap("tracer_error", f"PY_THROW: {type(err).__name__}: {err}")

    def on_unwind(code, offset, exc):
        entry = table.get(code)
        if entry is None:
            return
        try:
            try:
                tid = tls.t
            except AttributeError:
                tid = rec.new_thread()
            if entry[2]:
                append((UNWIND, entry[0], tid, now(), summarise_exception(exc), 0, id(getframe(1))))
            else:
                append((UNWIND, entry[0], tid, now(), summarise_exception(exc), 0))
        except Exception as err:
            rec.gap("tracer_error", f"PY_UNWIND: {type(err).__name__}: {err}")

    return {
        "PY_START": on_start,
        "PY_RETURN": on_return,
        "PY_YIELD": on_yield,
        "PY_RESUME": on_resume,
        "PY_THROW": on_throw,
        "PY_UNWIND": on_unwind,
    }
