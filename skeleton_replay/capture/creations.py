"""Who created whom: the creation of project objects, attributed to the traced code that made them.

Project `__init__` methods are watched, not traced (capture/objects.py ObjectIds.reborn). When one starts
for a new object (not a nested super().__init__() / Base.__init__(self) on the same object), the creation
is attributed to the nearest traced project frame below it (the creator: a function, a method of an
instance, or a project module body) and counted per (creator, class), exactly, also past the event cap.
Nothing is added to the call/return event stream; the evidence goes to the spill as CREATION records
(capture/records.py), decoded by events/creations.py into the end record's `creations`:

    (CREATION, NEW_KEY, n, code_index, object_id, module, qualname)  the first time a creator made a class;
        code_index MODULE (-1) with object_id (module, file): a project module body
    (CREATION, INSTANCE, n, seq)   one object created (its first_seen is this record's place in the stream),
        only for the first INSTANCE_LIMIT objects of a class (and PER_RUN in all): past it, instances share
        one id anyway (objects.py)
    (CREATION, IDENTIFIED, object_id, seq)  that object got its run-local id (its first traced method)
    (CREATION, COUNTS, {n: times seen after the first})  when the capture stops

Bounded memory: MAX_KEYS (creator, class) keys, PER_RUN objects waiting for an id (oldest dropped first).
Never calls program code: frames, code objects and exact-type dict look-ups only.
"""

from __future__ import annotations

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import dict, id, iter, len, next, type
from types import FrameType
from typing import Any

from . import records as R
from .actor import module_actor, traced_actor
from .origin import _OWN
from .summarise import class_path

NEW_KEY, INSTANCE, IDENTIFIED, COUNTS = 0, 1, 2, 3
MAX_KEYS = 10_000  # distinct (creator, class) per run; past it, creations are counted in a gap only
INSTANCE_LIMIT = 1_000  # objects of one class whose own creator is kept (objects.py INSTANCE_LIMIT)
PER_RUN = 40_000  # objects in all whose own creator is kept; also the most waiting for an id at once
MAX_DEPTH = 256  # frames walked down to the creator

_type = type


class Creations:
    """One capture's creations (the Recorder holds one as `made`).

    The C fast path (_speedups.c creation_fast) reads keys, counts, per_class and limit: never rebound. It adds to
    `counts` in batches (a count per cache slot, folded in by Recorder.fold_counts): only stop() reads them.
    """

    def __init__(self, recorder: Any) -> None:
        self.rec = recorder
        self.keys: dict[tuple[int, Any, int], int] = {}  # (code index, object id, id(class)) -> its number
        self.counts: list[int] = []  # per number: objects created
        self.classes: list[type] = []  # keeps the classes of the keys alive (keys hold their ids)
        self.per_class: dict[int, int] = {}  # id(class) -> objects whose own creator was kept
        self.limit = INSTANCE_LIMIT  # per class; past it (per_class), _speedups.c counts known keys without Python
        self.waiting: dict[int, tuple[type, int]] = {}  # id(obj) -> (class, seq): created, no run-local id yet
        self.seq = 0
        self.lost = 0  # creations past MAX_KEYS

    def created(self, back: FrameType | None, me: Any) -> None:
        """A project __init__ started for a new object `me`; back: the frame that called it."""
        rec = self.rec
        actor = self._actor(back)
        if actor is None:
            return
        cls = _type(me)
        key = (actor[0], actor[1], id(cls))
        n = self.keys.get(key)
        if n is None:
            if len(self.keys) >= MAX_KEYS:
                self.lost += 1
                return
            module, qualname = class_path(cls)
            if module == "__main__":
                module = rec.filter.main_module
            n = self.keys[key] = len(self.counts)
            self.counts.append(1)
            self.classes.append(cls)
            rec.buf.append((R.CREATION, NEW_KEY, n, actor[0], actor[1], module, qualname))
            rec.definitions += 1
        else:
            self.counts[n] += 1
        seen = self.per_class.get(id(cls), 0)
        if seen >= self.limit:
            return
        if self.seq >= PER_RUN:  # no more objects of their own: the class is past its limit from now on
            self.per_class[id(cls)] = self.limit
            return
        self.per_class[id(cls)] = seen + 1
        self.seq += 1
        waiting = self.waiting
        if len(waiting) >= PER_RUN:  # bounded: the oldest waiting object (most likely freed) goes
            del waiting[next(iter(waiting))]
        waiting[id(me)] = (cls, self.seq)
        rec.buf.append((R.CREATION, INSTANCE, n, self.seq))
        rec.definitions += 1

    def identified(self, address: int, cls: type, oid: int) -> None:
        """An object got run-local id `oid` (objects.py object_id): its creation, if one is waiting."""
        ent = self.waiting.pop(address, None)
        if ent is not None and ent[0] is cls:
            self.rec.buf.append((R.CREATION, IDENTIFIED, oid, ent[1]))
            self.rec.definitions += 1

    def stop(self) -> None:
        """Hand the counts past the first creation to the spill (Recorder.finish)."""
        fold = getattr(self.rec, "fold_counts", None)
        if fold is not None:
            fold()  # the creations the C hooks counted in their cache (_speedups.c fold_made) go into counts
        extra = {n: c - 1 for n, c in enumerate(self.counts) if c > 1}
        if extra:
            self.rec.buf.append((R.CREATION, COUNTS, extra))
            self.rec.definitions += 1
            for n in extra:
                self.counts[n] = 1  # a second stop() adds nothing twice
        if self.lost:
            self.rec.gap(
                "other",
                f"more than {MAX_KEYS:,} distinct (creator, class) pairs: later creations are not attributed",
                self.lost,
            )
            self.lost = 0

    def _actor(self, frame: FrameType | None) -> tuple[int, Any] | None:
        """(code index, receiver object id) of the nearest traced frame, (MODULE, (module, file)) for a
        project module body; None: no project code made it (a library on its own, Skeleton)."""
        rec = self.rec
        table = rec.table
        depth = 0
        while frame is not None and depth < MAX_DEPTH:
            code = frame.f_code
            entry = table.get(id(code))
            if entry is not None:
                return traced_actor(rec, frame, entry)
            name = code.co_filename
            if name.startswith(_OWN):
                return None
            if code.co_name == "<module>":
                rel = rec.filter.relative_file(name)
                if rel is not None:  # a project module body (no traced callable above it)
                    return module_actor(rec, frame, name, rel)
            frame = frame.f_back
            depth += 1
        return None
