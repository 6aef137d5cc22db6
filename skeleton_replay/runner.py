"""Run a Python script in this process exactly as `python script.py args` would."""
from __future__ import annotations

import gc
import importlib.util
import os
import signal
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .options import UsageError


class Terminated(BaseException):
    """SIGTERM arrived while the program ran (raised in the main thread by our handler)."""


@dataclass
class Outcome:
    exit_code: int
    status: str  # ok | exception | exit | interrupted
    exception: BaseException | None = None


def load_script(path: Path, filename: str | None = None) -> types.CodeType:
    """Compile the script, turning bad input into one clear UsageError line."""
    if not path.exists():
        raise UsageError(f"script {path} does not exist; check the path")
    if path.is_dir():
        raise UsageError(f"{path} is a folder without a __main__.py, not a Python script; pass a .py file "
                         "(or a folder holding __main__.py)")
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read script {path} ({exc.strerror or exc}); check its permissions") from None
    try:
        return compile(source, filename or str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else str(path)
        raise UsageError(f"{where}: SyntaxError: {exc.msg}; fix the script and run again") from None
    except ValueError as exc:  # e.g. source with NUL bytes
        raise UsageError(f"cannot compile {path}: {exc}") from None


@dataclass
class Target:
    """What to run as __main__: its code, argv[0], sys.path[0] and module globals."""

    code: types.CodeType
    argv0: str
    path0: str
    main_globals: dict
    main_file: str
    module_name: str | None = None  # set for `run -m`


def script_target(path: Path) -> Target:
    if path.is_dir() and (path / "__main__.py").is_file():  # `python folder` runs folder/__main__.py
        main_file = str((path / "__main__.py").resolve())
        code = load_script(path / "__main__.py", main_file)
        spec = importlib.util.spec_from_file_location("__main__", main_file)
        return Target(code, str(path), str(path.resolve()),
                      {"__file__": main_file, "__cached__": None, "__spec__": spec,
                       "__loader__": spec.loader if spec else None, "__package__": ""}, main_file)
    code = load_script(path)
    return Target(code, str(path), str(path.resolve().parent),
                  {"__file__": str(path), "__cached__": None, "__spec__": None, "__loader__": None, "__package__": None},
                  str(path))


def module_target(name: str) -> Target:
    """Like `python -m name`: sys.path[0] is the current folder; a package runs its __main__."""
    if not name.strip():
        raise UsageError("-m needs a module name, not an empty string: give one as for python -m NAME")
    cwd = os.getcwd()
    sys.path.insert(0, cwd)
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            main_name = name + ".__main__"
            spec = importlib.util.find_spec(main_name)
            if spec is None:
                raise UsageError(f"{name} is a package with no __main__ module; name a module to run with -m")
        if spec is None or spec.loader is None:
            raise UsageError(f"no module named {name}; check the name and that it can be imported from {cwd}")
        code = spec.loader.get_code(spec.name)  # type: ignore[union-attr]
    except UsageError:
        raise
    except SyntaxError as exc:
        raise UsageError(f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}; fix the module and run again") from None
    except (ImportError, ValueError) as exc:  # ValueError: an empty or relative name
        if name.endswith(".py"):
            raise UsageError(f"-m takes a module name, not a file: use 'skeleton run {name}' "
                             f"(or -m {name[:-3]})") from None
        raise UsageError(f"cannot find module {name!r} ({exc}); check the name and sys.path") from None
    finally:
        sys.path.remove(cwd)
    if code is None:
        raise UsageError(f"module {name} has no code to run")
    origin = spec.origin or name
    return Target(code, origin, cwd,
                  {"__file__": origin, "__cached__": getattr(spec, "cached", None), "__spec__": spec,
                   "__loader__": spec.loader, "__package__": spec.parent},
                  origin, spec.name)


class ScriptRunner:
    """Swaps in the target's argv, sys.path[0] and __main__, and restores them after."""

    def __init__(self, target: Target, args: list[str], owns_process: bool = False) -> None:
        self.target = target
        self.args = list(args)
        self.owns_process = owns_process  # `skeleton run`: nothing of a host to keep as it was

    def run(self, start: Callable[[], None], stop: Callable[[], None]) -> Outcome:
        target = self.target
        code = target.code
        saved_argv = sys.argv
        saved_path = list(sys.path)
        saved_main = sys.modules.get("__main__")
        main = types.ModuleType("__main__")
        main.__dict__.update({"__builtins__": __builtins__, **target.main_globals})
        sys.argv = [target.argv0, *self.args]
        if sys.path and sys.path[0] != target.path0:
            sys.path[0] = target.path0
        elif not sys.path:
            sys.path.append(target.path0)
        sys.modules["__main__"] = main
        before = set(threading.enumerate())
        outcome = Outcome(0, "ok")
        restore_sigterm = _catch_sigterm()
        froze = _freeze_startup_objects(self.owns_process)
        start()
        try:
            try:
                exec(code, main.__dict__)
            except Terminated:
                raise
            except BaseException:
                _join_new_threads(before)
                raise
            _join_new_threads(before)
        except Terminated as exc:
            outcome = Outcome(-signal.SIGTERM, "interrupted", exc)
        except SystemExit as exc:
            outcome = Outcome(_exit_code(exc), "exit", exc)
        except KeyboardInterrupt as exc:
            outcome = Outcome(130, "interrupted", exc)
        except BaseException as exc:  # the program's own error: reported like Python does
            outcome = Outcome(1, "exception", exc)
        finally:
            stop()
            if froze == "undo":
                gc.unfreeze()
            restore_sigterm()
            sys.argv = saved_argv
            sys.path[:] = saved_path
            if saved_main is not None:
                sys.modules["__main__"] = saved_main
        if outcome.status in ("exception", "interrupted") and not isinstance(outcome.exception, Terminated):
            exc = outcome.exception
            tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None  # drop our exec frame
            exc.__traceback__ = tb
            try:
                sys.excepthook(type(exc), exc, tb)
            except Exception:
                import traceback
                traceback.print_exception(type(exc), exc, tb)
        elif outcome.status == "exit":
            code_obj = outcome.exception.code  # type: ignore[union-attr]
            if code_obj is not None and not isinstance(code_obj, int):
                try:
                    print(code_obj, file=sys.stderr)
                except Exception:
                    pass
        try:
            sys.stdout.flush()
        except Exception:
            pass
        return outcome


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


def _on_sigterm(signum, frame):
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


def _join_new_threads(before: set) -> None:
    """Python waits for non-daemon threads before exiting; so do we, while still tracing."""
    while True:
        pending = [t for t in threading.enumerate() if t not in before and not t.daemon and t.is_alive()
                   and t is not threading.current_thread()]
        if not pending:
            return
        for t in pending:
            t.join()
