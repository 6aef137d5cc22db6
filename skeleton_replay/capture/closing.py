"""A generator closed where nothing of it runs (CPython 3.13 closes it without running its frame).

``close()`` (explicit, on garbage collection, or after a ``for`` loop was broken out of) throws
GeneratorExit in at the yield where the generator is suspended. When no ``try``/``with`` block of
the program encloses that yield, no code of the generator runs: CPython 3.13 then just marks it
closed and reports no event, while 3.11 and 3.12 run the frame for one instruction (a resume and an
exception exit). So that every backend writes the same trace, the backends drop that resume and its
exit: such a close leaves no event. A close that runs code (a ``finally``, a ``with``'s exit, an
``except GeneratorExit``) is recorded: a resume carrying the exception, then the frame's exit.
"""

from __future__ import annotations

import dis
import sys
from types import CodeType

__all__ = ["silent_close"]

# 3.12+ wraps a generator's body in one implicit handler (it turns StopIteration into RuntimeError)
_IMPLICIT_HANDLER = sys.version_info >= (3, 12)
_cache: dict[tuple[int, int], bool] = {}
_keep: list[CodeType] = []  # the codes of _cache's keys stay alive, so their ids are never reused


def silent_close(code: CodeType, offset: int) -> bool:
    """True when an exception thrown in at the yield at ``offset`` (bytes) leaves ``code`` at once."""
    key = (id(code), offset)
    found = _cache.get(key)
    if found is None:
        entries = dis._parse_exception_table(code)  # type: ignore[attr-defined]
        implicit = entries[-1].target if _IMPLICIT_HANDLER and entries else None
        found = not any(e.start <= offset < e.end and e.target != implicit for e in entries)
        if len(_cache) < 100_000:
            _cache[key] = found
            _keep.append(code)
    return found
