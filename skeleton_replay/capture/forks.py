"""Child processes: a forked child stops tracing at once; the parent counts its children.

os.fork() copies the whole tracer into the child: the backend's callbacks, the record
buffer, the spill file's descriptor (shared file offset) and the session that will write
the artifacts. Left alone, the child would append its records to the parent's spill and,
when its copy of the program finishes, write (and delete) the parent's artifacts.

`os.register_at_fork` hooks cannot be unregistered, so they are registered once per
process and act on the captures currently watched (normally one):

  after_in_parent   count the child;
  after_in_child    the capture's `after_fork_child` stops the backend, drops the buffered
                    records (the parent's) and closes its copy of the spill without writing.

No lock is taken before the fork: other libraries' before-fork hooks (logging's, for one) take
their own locks after ours would, and a thread holding one of them while waiting for ours
would deadlock the fork. Instead the Recorder checks its pid where it could block or write
(code decisions, flushes), so a child never waits for a lock held by a thread that was not
copied, nor writes, in the moments before `after_in_child` stops its tracer. The spill is
unbuffered, so no half-written chunk sits in a buffer the child could flush.

Processes started by multiprocessing's "spawn" and "forkserver" methods do not fork this
interpreter: they are counted from multiprocessing's own process counter instead.
"""

from __future__ import annotations

import os
import sys
import threading

# Bound at import, before the program runs: a builtin the program replaces is never called here.
from builtins import Exception, int, list, repr
from typing import Protocol


class Watched(Protocol):
    def after_fork_parent(self, multiprocessing_fork: bool) -> None: ...

    def after_fork_child(self) -> None: ...


_watched: list[Watched] = []
_registered = False
_lock = threading.Lock()


def watch(capture: Watched) -> None:
    global _registered
    with _lock:
        if not _registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_parent=_after_parent, after_in_child=_after_child)
            _registered = True
        _watched.append(capture)


def unwatch(capture: Watched) -> None:
    with _lock:
        if capture in _watched:
            _watched.remove(capture)


def _from_multiprocessing() -> bool:
    """Is os.fork() being called by multiprocessing's fork start method? (frame 2: os.fork's caller)"""
    try:
        f = sys._getframe(2)
        name = f.f_code.co_filename.replace("\\", "/")
        return name.endswith("multiprocessing/popen_fork.py")
    except Exception:
        return False


def _after_parent() -> None:
    mp = _from_multiprocessing()
    for c in list(_watched):
        c.after_fork_parent(mp)


def _after_child() -> None:
    global _lock
    _lock = threading.Lock()  # another thread of the parent may have held it: it does not exist here
    held = list(_watched)
    _watched.clear()  # nothing is traced in this process any more
    for c in held:
        c.after_fork_child()


def multiprocessing_processes() -> int:
    """How many multiprocessing Process objects this interpreter has created (0 if not imported)."""
    mod = sys.modules.get("multiprocessing.process")
    counter = getattr(mod, "_process_counter", None)
    if counter is None:
        return 0
    try:
        text = repr(counter)  # itertools.count(n): reading it must not advance it
        return int(text[text.index("(") + 1 : text.rindex(")")].split(",")[0]) - 1
    except Exception:
        return 0
