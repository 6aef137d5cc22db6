"""Run a Python script in this process exactly as `python script.py args` would."""
from __future__ import annotations

import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .options import UsageError


@dataclass
class Outcome:
    exit_code: int
    status: str  # ok | exception | exit | interrupted
    exception: BaseException | None = None


def load_script(path: Path) -> types.CodeType:
    """Compile the script, turning bad input into one clear UsageError line."""
    if not path.exists():
        raise UsageError(f"script {path} does not exist; check the path")
    if path.is_dir():
        hint = f" (to run its __main__.py, pass {path / '__main__.py'})" if (path / "__main__.py").exists() else ""
        raise UsageError(f"{path} is a folder, not a Python script; pass a .py file{hint}")
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read script {path} ({exc.strerror or exc}); check its permissions") from None
    try:
        return compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.lineno else str(path)
        raise UsageError(f"{where}: SyntaxError: {exc.msg}; fix the script and run again") from None
    except ValueError as exc:  # e.g. source with NUL bytes
        raise UsageError(f"cannot compile {path}: {exc}") from None


class ScriptRunner:
    """Swaps in the script's argv, sys.path[0] and __main__, and restores them after."""

    def __init__(self, path: Path, args: list[str]) -> None:
        self.path = path
        self.args = list(args)

    def run(self, code: types.CodeType, start: Callable[[], None], stop: Callable[[], None]) -> Outcome:
        saved_argv = sys.argv
        saved_path = list(sys.path)
        saved_main = sys.modules.get("__main__")
        main = types.ModuleType("__main__")
        main.__dict__.update({"__file__": str(self.path), "__builtins__": __builtins__, "__cached__": None,
                              "__spec__": None, "__loader__": None, "__package__": None})
        sys.argv = [str(self.path), *self.args]
        script_dir = str(self.path.resolve().parent)
        if sys.path and sys.path[0] != script_dir:
            sys.path[0] = script_dir
        elif not sys.path:
            sys.path.append(script_dir)
        sys.modules["__main__"] = main
        before = set(threading.enumerate())
        outcome = Outcome(0, "ok")
        start()
        try:
            try:
                exec(code, main.__dict__)
            finally:
                _join_new_threads(before)
        except SystemExit as exc:
            outcome = Outcome(_exit_code(exc), "exit", exc)
        except KeyboardInterrupt as exc:
            outcome = Outcome(130, "interrupted", exc)
        except BaseException as exc:  # the program's own error: reported like Python does
            outcome = Outcome(1, "exception", exc)
        finally:
            stop()
            sys.argv = saved_argv
            sys.path[:] = saved_path
            if saved_main is not None:
                sys.modules["__main__"] = saved_main
        if outcome.status in ("exception", "interrupted"):
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
