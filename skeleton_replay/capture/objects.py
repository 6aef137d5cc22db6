"""Run-local object ids (receivers of traced methods), without references to the objects.

id(obj) -> (run-local id, class). No reference to the object (a weak reference would show in
weakref.getweakrefcount): an address reused by a new object of the same class is told apart by its
project __init__ (see ObjectIds.reborn), else it gets the old id.

Every distinct object gets its own id up to INSTANCE_LIMIT objects of one class (or TOTAL_LIMIT
objects in all): a safety limit on the tracer's memory, not a display choice (the model and the report
group instances themselves). Past it, the later objects of that class share one id (the decoder's
`Class#*` node).
"""

from __future__ import annotations

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import Exception, id, issubclass, len, type
from collections.abc import Callable
from types import FrameType
from typing import Any

from . import records as R
from .creations import Creations
from .origin import foreign
from .summarise import class_path

_type = type
# Distinct objects tracked per class / in all. 162 bytes each in `objects` (an int key, a 2-tuple, an
# int id; measured, docs/performance.md). Every object is a node of the snapshot (with its methods), so
# the limits also bound the artifacts: bench call_heavy has 349 nodes at 50 per class, 2,521 at 1,000
# (snapshot 3 MB, peak 108 MB) and 18,766 at 10,000 (12.8 MB, peak 236 MB).
INSTANCE_LIMIT = 1_000
TOTAL_LIMIT = 20_000


class ObjectIds:
    """The object half of the Recorder (its __init__ sets these attributes)."""

    objects: dict[int, tuple[int, type]]  # id(obj) -> (run-local id, class)
    inits: dict[int, str]  # id(project __init__ code) -> receiver name
    next_object: int
    per_class: dict[int, int]  # id(class) -> objects seen (keyed by id: a metaclass may define __hash__/__eq__)
    overflow: dict[int, int]  # id(class) -> the id shared by its instances past the limit (the hot path checks it)
    # [n]: a new int each time an entry of `objects` is removed or replaced. The C hooks keep a cache in
    # front of `objects` (_speedups.c receiver_oid) and flush it when this item changes.
    objects_gen: list[int]
    # The C hooks' superset of the keys of `objects` (_speedups.AddrSet: an __init__ at an address not in it
    # skips the dict), or None. Every key goes in before its entry is made.
    object_addrs: Any
    buf: list[Any]
    definitions: int
    filter: Any  # CodeFilter (main_module)
    gap: Callable[..., None]
    made: Creations  # who created whom (capture/creations.py)

    def init_objects(self) -> None:
        self.objects = {}
        self.inits = {}
        self.next_object = 0
        self.per_class = {}
        self.overflow = {}
        self.objects_gen = [0]
        self.object_addrs = None
        self.made = Creations(self)

    def object_id(self, obj: Any) -> int:
        """Run-local id, stable while the object lives (never calls user code, keeps no reference)."""
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
        if not is_class and (seen > INSTANCE_LIMIT or len(self.objects) >= TOTAL_LIMIT):
            self.overflow[id(cls)] = oid
            module, qualname = class_path(cls)
            if module == "__main__":
                module = self.filter.main_module
            self.buf.append((R.DEF_OBJECT, oid, module, qualname, None))
            self.definitions += 1
            self.gap(
                "other",
                f"more than {INSTANCE_LIMIT:,} objects of one class (or {TOTAL_LIMIT:,} in all): "
                "the later ones share one id per class (`Class#*`)",
            )
            return oid
        module, qualname = class_path(obj if is_class else cls)
        if module == "__main__":
            module = self.filter.main_module
        self.buf.append((R.DEF_OBJECT, oid, module, qualname, is_class))
        self.definitions += 1
        if ent is not None:  # an entry of another class at this address is replaced
            self.objects_gen[0] += 1
        addrs = self.object_addrs
        if addrs is not None:
            addrs.add(key)  # before the entry: interrupted in between, it is still a superset of the keys
        self.objects[key] = (oid, cls)  # last: an interrupted definition is made again, never missing
        if self.made.waiting:
            self.made.identified(key, cls, oid)  # its creator, recorded when its __init__ started
        return oid

    def receiver_id(self, me: Any) -> int:
        """object_id() with the fast paths first; both backends inline this in their PY_START."""
        ent = self.objects.get(id(me))
        if ent is not None and ent[1] is _type(me):
            return ent[0]
        return self.overflow.get(id(_type(me))) or self.object_id(me)

    def reborn(self, frame: FrameType, receiver: str) -> None:
        """A project __init__ starts: a new object (its creation is recorded: capture/creations.py), and
        one at an address seen before gets a new id.

        Not when the caller is an __init__ of the same object (super().__init__(), Base.__init__(self)).
        """
        try:
            me = frame.f_locals[receiver]
        except Exception as exc:
            if foreign(exc):
                raise
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
        if self.objects.pop(id(me), None) is not None:
            self.objects_gen[0] += 1  # the C hooks' cache of `objects` is flushed
        self.made.created(back, me)
