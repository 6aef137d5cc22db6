"""What Skeleton needs once the traced program has ended, kept where the program cannot break it.

A program may close or replace sys.stdout/sys.stderr (or close fds 1 and 2), patch builtins
(open, print, len...) and leave them patched, clear sys.modules, or empty the import system.
None of that may cost its artifacts or change its exit code, and Skeleton's own messages should
still reach the terminal:

- Streams: duplicates of fds 1 and 2 taken when Skeleton starts (`Streams`); Skeleton's own
  lines go there, never through sys.stdout/sys.stderr (which stay as the program left them, so
  interpreter shutdown behaves as under plain python).
- Builtins, sys.modules and the import system (sys.meta_path, sys.path_hooks): copied just before
  the program starts (`ProcessState`) and put back the moment it ends, before the tracer stops.
  Every module the post-run path imports lazily is imported before the program starts
  (`preload`), so nothing is imported afresh afterwards.
"""

from __future__ import annotations

import builtins
import importlib
import io
import os
import sys

_MISSING = object()

# Imported inside functions of the post-run path: imported before the program starts instead.
POST_RUN_MODULES = (
    "skeleton_replay.render.html",
    "skeleton_replay.render.text",
    "skeleton_replay.render.browser",
    # Python 3.13 prints an uncaught exception with the traceback module (pythonrun.c); 3.11 and 3.12 print
    # it in C and import nothing, so they are spared its import (~7 M instructions a run, with textwrap)
    *(("traceback",) if sys.version_info >= (3, 13) else ()),
)


def preload(extra: tuple[str, ...] = ()) -> None:
    for name in (*POST_RUN_MODULES, *extra):
        try:
            importlib.import_module(name)
        except ImportError:  # e.g. resource on Windows: the path that needs it does not run there
            pass


class ProcessState:
    """Builtins, sys.modules and the import system as they were before the program started."""

    def __init__(self) -> None:
        self.builtins = dict(builtins.__dict__)
        self.modules = dict(sys.modules)
        self.meta_path = list(sys.meta_path)
        self.path_hooks = list(sys.path_hooks)

    def restore(self) -> None:
        """Put back what the program removed or replaced; what it added stays (harmless to us)."""
        try:
            current = builtins.__dict__
            for name, value in self.builtins.items():
                if current.get(name, _MISSING) is not value:
                    current[name] = value
            modules = sys.modules
            for name, module in self.modules.items():
                if modules.get(name, _MISSING) is not module:
                    modules[name] = module
            if sys.meta_path != self.meta_path:
                sys.meta_path[:] = self.meta_path
            if sys.path_hooks != self.path_hooks:
                sys.path_hooks[:] = self.path_hooks
        except Exception:  # never fail the run over this: the artifacts may still be written
            pass


class _Null(io.TextIOBase):
    def write(self, s: str) -> int:
        return len(s)


def _dup_text(fd: int, like: object) -> io.TextIOBase:
    try:
        dup = os.dup(fd)  # not inheritable: children never get it
    except OSError:  # closed before Skeleton started: python would have no such stream either
        return _Null()
    encoding = getattr(like, "encoding", None) or "utf-8"
    try:
        # closefd=False: the copy lives as long as the process and the kernel closes it at exit; a file object
        # that owns its fd and is still open at shutdown is a ResourceWarning the program never caused
        # (shown under -X dev or -W error, and by pytest's unraisable-exception hook)
        raw = io.FileIO(dup, "w", closefd=False)
        return io.TextIOWrapper(
            raw, encoding=encoding, errors="backslashreplace", line_buffering=True, write_through=True
        )
    except (OSError, LookupError, ValueError):
        os.close(dup)
        return _Null()


class Streams:
    """Skeleton's own stdout and stderr: copies of fds 1 and 2 as they were when it started."""

    def __init__(self) -> None:
        self.out = _dup_text(1, sys.stdout)
        self.err = _dup_text(2, sys.stderr)
        try:
            self._tty = self.err.isatty()
        except (OSError, ValueError):
            self._tty = False

    def err_isatty(self) -> bool:
        return self._tty

    def write_err(self, text: str) -> None:
        _write(self.err, text)

    def write_out(self, text: str) -> None:
        _write(self.out, text)


def _write(stream: io.TextIOBase, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):  # a closed pipe or terminal: nothing more to do
        pass


def flush_program_streams() -> None:
    """What python does at exit: flush the program's sys.stdout and sys.stderr, errors ignored."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name, None)
        if stream is None:
            continue
        try:
            if not stream.closed:
                stream.flush()
        except Exception:
            pass
