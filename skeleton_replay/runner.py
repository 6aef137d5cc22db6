"""Run a Python program in this process exactly as `python script.py args` (or `python -m mod`,
`python DIR`) would: what to run and its globals come from targets.py."""

from __future__ import annotations

import atexit
import gc
import runpy
import signal
import sys
import threading
import types

# Bound at import: the end of a run (traceback, thread joins, atexit) must not look up a builtin
# the program replaced. Module globals are found before builtins.
from builtins import BaseException, KeyboardInterrupt, SystemExit, getattr, int, isinstance, str
from collections.abc import Callable
from typing import NoReturn

from .keep import ProcessState, flush_program_streams
from .plain import PlainRecord
from .targets import Target, load_script, module_target, script_target  # noqa: F401  (the runner's API)


class Terminated(BaseException):
    """SIGTERM arrived while the program ran (raised in the main thread by our handler)."""


class Outcome(PlainRecord):
    FIELDS = ("exit_code", "status", "exception")

    def __init__(self, exit_code: int, status: str, exception: BaseException | None = None) -> None:
        self.exit_code = exit_code
        self.status = status  # ok | exception | exit | interrupted
        self.exception = exception


class ScriptRunner:
    """Swaps in the target's argv, sys.path[0] and __main__, and restores them after."""

    def __init__(self, target: Target, args: list[str], owns_process: bool = False) -> None:
        self.target = target
        self.args = list(args)
        self.owns_process = owns_process  # `skeleton run`: nothing of a host to keep as it was

    def run(self, start: Callable[[], None], stop: Callable[[], None]) -> Outcome:
        target = self.target
        saved_argv = sys.argv
        saved_path = list(sys.path)
        saved_main = sys.modules.get("__main__")
        main = types.ModuleType("__main__")
        main.__dict__.update(target.main_globals)
        sys.argv = [target.argv0, *self.args]
        _set_path0(target)
        sys.modules["__main__"] = main
        before = set(threading.enumerate())
        state = ProcessState()  # builtins, sys.modules, import system: put back when the program ends
        restore_sigterm = _catch_sigterm()
        froze = _freeze_startup_objects(self.owns_process)
        run_atexit = self.owns_process and _atexit_count() == 0  # then every handler is the program's
        start()
        exc = None
        try:
            if target.code is not None:  # a script (targets.py: no code exactly when runpy runs a module)
                exec(target.code, main.__dict__)
            else:  # the same frames (and traceback lines) as python -m / python DIR
                # private (not in typeshed), what python -m / python DIR itself runs: the same frames
                runpy._run_module_as_main(target.run_name, target.alter_argv)  # type: ignore[attr-defined]
        except:  # noqa: E722  a bare except looks up no name: the program may have replaced every builtin
            exc = sys.exc_info()[1]
        late = None
        try:  # python's order, still tracing: report the exception, wait for threads, atexit handlers
            if exc is not None and exc.__class__ is not Terminated:
                _report(exc)
            if exc is None or exc.__class__ is not Terminated:
                _join_new_threads(before)
                if run_atexit:
                    atexit._run_exitfuncs()  # runs them once (and forgets them), as python's shutdown does
        except:  # noqa: E722  (Ctrl-C or SIGTERM while waiting)
            late = sys.exc_info()[1]
        finally:
            state.restore()  # before any more of Skeleton's code runs
            stop()
            if froze == "undo":
                gc.unfreeze()
            restore_sigterm()
            sys.argv = saved_argv
            sys.path[:] = saved_path
            if saved_main is not None:
                sys.modules["__main__"] = saved_main
        if isinstance(late, (KeyboardInterrupt, Terminated)):  # anything else: ignored, as python does
            exc = late
        outcome = _outcome(exc)
        flush_program_streams()
        return outcome


_RUNNER_FILE = ScriptRunner.run.__code__.co_filename


def _outcome(exc: BaseException | None) -> Outcome:
    if exc is None:
        return Outcome(0, "ok")
    if isinstance(exc, Terminated):
        return Outcome(-signal.SIGTERM, "interrupted", exc)
    if isinstance(exc, SystemExit):
        return Outcome(_exit_code(exc), "exit", exc)
    if isinstance(exc, KeyboardInterrupt):
        return Outcome(130, "interrupted", exc)
    return Outcome(1, "exception", exc)  # the program's own error: reported like python does


def _set_path0(target: Target) -> None:
    """sys.path[0] as python sets it. Skeleton's own sys.path[0] (its script's folder, or the
    current folder for python -m skeleton_replay) is one python would not have: replaced."""
    if target.path0 is None:
        return
    if target.insert_path0 and getattr(sys.flags, "safe_path", False):  # python -P DIR: inserted all the same
        sys.path.insert(0, target.path0)
    elif sys.path:
        sys.path[0] = target.path0
    else:
        sys.path.append(target.path0)


def _atexit_count() -> int:
    try:
        return atexit._ncallbacks()
    except Exception:
        return -1


def _report(exc: BaseException) -> None:
    """What python prints for an uncaught exception or SystemExit, before it shuts down."""
    if isinstance(exc, SystemExit):
        _print_exit_message(exc)
    else:
        _print_exception(exc)


def _print_exception(exc: BaseException) -> None:
    """What python does with an uncaught exception: sys.excepthook, without Skeleton's frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == _RUNNER_FILE:
        tb = tb.tb_next
    exc.__traceback__ = tb
    hook = getattr(sys, "excepthook", None)
    if hook is not None:
        try:
            hook(exc.__class__, exc, tb)
            return
        except BaseException:  # python then prints both with its default hook; at least the program's
            pass
    try:
        sys.__excepthook__(exc.__class__, exc, tb)
    except BaseException:  # no usable sys.stderr: python prints nothing either
        pass


def _print_exit_message(exc: BaseException | None) -> None:
    """SystemExit("text"): python writes the text and a newline to sys.stderr (pythonrun.c)."""
    code = getattr(exc, "code", None)
    if code is None or isinstance(code, int):
        return
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(str(code))
            stream.write("\n")
    except BaseException:
        pass


def _freeze_startup_objects(owns_process: bool) -> str | None:
    """Keep what exists before the program starts (Skeleton's own modules, click, orjson: ~27 MiB
    that `python script.py` does not have) out of the program's garbage collections.

    Without this, every full collection the program triggers also walks Skeleton's objects: a
    workload that allocates many containers ran ~1.3x slower traced while the tracer itself was
    idle (stdlib_heavy, medians of 12: 1.48x without, 1.10x with). gc.freeze() only moves the
    objects to the permanent generation. Returns "undo" when gc.unfreeze() at the end restores the
    state exactly (nothing was frozen before), "keep" when this process is Skeleton's own and had
    frozen objects already (3.12 starts with a few hundred), None when nothing was done: in a host
    process (run_script) that froze objects of its own, unfreezing them later would undo its work.
    """
    try:
        if not gc.isenabled():
            return None
        before = gc.get_freeze_count()
        if before and not owns_process:
            return None
        gc.freeze()
        return "keep" if before else "undo"
    except Exception:
        return None


def _on_sigterm(signum: int, frame: types.FrameType | None) -> NoReturn:
    raise Terminated()


def _catch_sigterm() -> Callable[[], None]:
    """Turn SIGTERM into an exception so the artifacts get written; the program's own handler wins."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return lambda: None
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):
        return lambda: None

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return restore


def forget_sigterm() -> None:
    """In a forked child (not traced): SIGTERM kills it, as it would under plain Python."""
    try:
        if signal.getsignal(signal.SIGTERM) is _on_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except (ValueError, OSError):
        pass


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, bool):
        return int(code)
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else code % 256
    return 1


def _join_new_threads(before: set[threading.Thread]) -> None:
    """Python waits for non-daemon threads before exiting; so do we, while still tracing.
    Written without builtins (list(), len()...): the program may have replaced them."""
    me = threading.current_thread()
    while True:
        try:
            # threading.enumerate() minus its list() call; private tables, not in typeshed
            threads = [*threading._active.values(), *threading._limbo.values()]  # type: ignore[attr-defined]
        except AttributeError:
            threads = threading.enumerate()
        pending = [t for t in threads if t not in before and not t.daemon and t.is_alive() and t is not me]
        if not pending:
            return
        for t in pending:
            t.join()
