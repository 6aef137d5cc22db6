"""The actor of an operation seen outside the call stream (an I/O boundary, an object's creation).

Boundaries (capture/boundaries.py) and creations (capture/creations.py) walk the stack down to the nearest
traced frame; both reduce the frame they stop at the same way: a traced callable with its receiver's
run-local id, or a project module body (no traced callable above it) as the module itself. Never calls
program code: frame locals are read by the receiver's name, globals only when they are an exact dict.
"""

from __future__ import annotations

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import Exception, KeyError, dict, str, type
from types import FrameType
from typing import Any

from .origin import foreign
from .summarise import utf8

MODULE = -1  # the code index of an actor that is a project module body; its object id is (module, file)


def traced_actor(rec: Any, frame: FrameType, entry: tuple[int, str | None]) -> tuple[int, Any]:
    """(code index, receiver's run-local id or 0) of a traced frame; `entry` is its code's table entry
    (code index, name of the receiver argument or None)."""
    obj = 0
    if entry[1] is not None:
        try:
            me = frame.f_locals[entry[1]]  # a dict (3.12) or a FrameLocalsProxy (3.13): no program code
        except KeyError:  # the receiver's name was deleted (del self): the callable alone
            me = None
        except Exception as exc:
            if foreign(exc):
                raise
            me = None
        if me is not None:
            obj = rec.receiver_id(me)
    return entry[0], obj


def module_actor(rec: Any, frame: FrameType, filename: str, rel: str) -> tuple[int, Any] | None:
    """(MODULE, (module, file)) for a project module body's frame; None when the module is not selected."""
    f = rec.filter
    g = frame.f_globals
    name = dict.get(g, "__name__") if type(g) is dict else None  # never a dict subclass's .get
    module = f.module_name(name if type(name) is str else None, filename, rel)
    if not f._selected(rel, module):
        return None
    return MODULE, (utf8(module), utf8(rel))
