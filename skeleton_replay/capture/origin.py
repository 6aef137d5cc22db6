"""Whose exception is this? Skeleton contains only the errors of its own code.

The tracer's Python code runs inside the program's threads. A signal handler runs on top of
whichever frame was executing, so its exception (TimeoutError from an alarm, KeyboardInterrupt)
can surface inside Skeleton's callbacks; so can SystemExit, GeneratorExit and anything else the
program raises. Those belong to the program and must reach it unchanged. Only an Exception whose
every traceback frame is Skeleton's own (or the standard library's, which Skeleton calls) is a
tracer error, recorded as a `tracer_error` gap and contained.

Private references to the builtins used here are bound at import, before the program runs, so a
program that replaces `builtins.len` or `builtins.isinstance` is never called by the tracer.
"""

from __future__ import annotations

import os
import sysconfig
from builtins import BaseException, Exception, issubclass, len, type

_traceback = BaseException.__dict__["__traceback__"].__get__  # not the object's own attribute look-up
_OWN = os.path.dirname(os.path.abspath(__file__))[: -len("capture")]  # .../skeleton_replay/
_STDLIB = tuple({os.path.join(sysconfig.get_paths()[k], "") for k in ("stdlib", "platstdlib")})
_known: dict[str, bool] = {}
# For the C fast paths (_speedups.c decides the same way without running Python code)
PREFIXES = ((_OWN, "<frozen "), _STDLIB)


def _skeleton_or_stdlib(filename: str) -> bool:
    hit = _known.get(filename)
    if hit is None:
        if filename.startswith(("<frozen ", _OWN)):  # frozen standard modules (os, posixpath...), Skeleton
            hit = True
        else:
            hit = filename.startswith(_STDLIB) and "-packages" not in filename
        if len(_known) < 4096:
            _known[filename] = hit
    return hit


def foreign(exc: BaseException) -> bool:
    """True when `exc` did not originate in Skeleton's code: it must be re-raised into the program.

    Every BaseException that is not an Exception is the program's (KeyboardInterrupt, SystemExit,
    GeneratorExit). An Exception is the program's when a frame of its traceback belongs to neither
    Skeleton nor the standard library: a signal handler's frame is pushed on top of Skeleton's.
    """
    if not issubclass(type(exc), Exception):
        return True
    try:
        tb = _traceback(exc)
        while tb is not None:
            if not _skeleton_or_stdlib(tb.tb_frame.f_code.co_filename):
                return True
            tb = tb.tb_next
    except Exception:
        return False
    return False
