"""I/O boundaries: where the traced project code touches the outside world (docs/boundaries.md).

One `sys.addaudithook` hook, installed the first time a capture starts, sees CPython's audit events
("open", "socket.connect", "subprocess.Popen", "sqlite3.connect"...). While a capture runs, an event
of interest is attributed to the nearest traced project frame (the frames are walked only on those
events, never on calls) and becomes one BOUNDARY record in the spill, the first time that
(callable, receiver, kind, target, operation, scenario) is seen; later sightings are counted and
written as one BOUNDARY_COUNTS record when the capture stops. Audit hooks cannot be removed: after
stop() the hook is one list look-up and a return.

Rules (as in capture/origin.py): the hook never calls program code (paths and addresses are used only
when their type is exactly str, bytes, int or tuple; a PathLike object is never asked for its path),
and never raises into the program: its own errors become a `tracer_error` gap, the program's
exceptions (a signal handler's) pass through. Skeleton's own I/O never appears: the spill file is
opened before the capture starts, artifacts are written after it stops, and any event with a
Skeleton frame on its stack is ignored; so are imports (importlib, linecache, tokenize reading
source files).

Targets are reduced to a safe, stable form: paths relative to the project root (`data/orders.json`),
`<tmp>/NAME` and `~/…/NAME` outside it; `host:port` for the network (credentials and query strings
never kept; a request's path goes through the web path redaction); a program's name, not its argv;
every target through the Summariser's scrub_text (known secrets, secret-looking values).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from builtins import BaseException, Exception, KeyError, id, len, str, tuple, type
from collections.abc import Callable
from typing import Any

from . import records as R
from .origin import _OWN, foreign

# event -> (boundary kind, handler name); kinds are those of [[io]] rules (rules/model.py IO_KINDS)
EVENTS: dict[str, str] = {
    "open": "file",
    "os.remove": "file",
    "os.rename": "file",
    "os.mkdir": "file",
    "os.rmdir": "file",
    "os.listdir": "file",
    "os.scandir": "file",
    "shutil.rmtree": "file",
    "shutil.copyfile": "file",
    "socket.connect": "network",
    "http.client.connect": "network",
    "urllib.Request": "network",
    "subprocess.Popen": "subprocess",
    "os.system": "subprocess",
    "os.exec": "subprocess",
    "os.posix_spawn": "subprocess",
    "os.spawn": "subprocess",
    "sqlite3.connect": "database",
}
# An event made on behalf of a higher-level one is skipped when a frame of these files is on its
# stack: the connection of an http.client request, an urllib request's connection, subprocess's spawn.
_COVERED: dict[str, tuple[str, ...]] = {
    "socket.connect": ("/http/client.py", "/urllib/request.py"),
    "http.client.connect": ("/urllib/request.py",),
    "os.posix_spawn": ("/subprocess.py",),
    "os.exec": ("/subprocess.py",),
    "os.remove": ("/shutil.py",),
    "os.rmdir": ("/shutil.py",),
    "os.scandir": ("/shutil.py",),
    "os.listdir": ("/shutil.py",),
    "os.rename": ("/shutil.py",),
    "os.mkdir": ("/shutil.py",),
}
# Reading source or bytecode: not the program's I/O (imports, tracebacks, warnings)
_READERS = ("<frozen importlib", "/importlib/", "/linecache.py", "/tokenize.py", "/zipimport.py")
_WRITE_MODES = frozenset("wax+")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# tempfile's names: a prefix and 8 random characters
_RANDOM_TAIL = re.compile(r"(?<=[-_.])[a-z0-9_]{8}$|(?<=^tmp)[a-z0-9_]{8}$")
MAX_KEYS = 10_000  # distinct boundaries per run; past it, targets are folded into "(other)"
MAX_TARGET = 200

_active: list[Any] = [None]  # the Boundaries of the running capture, or None
_installed = [""]  # which hook this process has: "" none yet, "c" (_audit.c, filters in C) or "python"


def _c_hook() -> Any:
    """The C audit hook module (_audit.c), or None: not built, or SKELETON_PURE_PYTHON asks for Python only."""
    if os.environ.get("SKELETON_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        from . import _audit  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _audit


class Boundaries:
    """One capture's I/O boundaries: start() before the program runs, stop() after (before Recorder.finish)."""

    def __init__(self, recorder: Any, gate: Any = None) -> None:
        self.rec = recorder
        self.gate = gate  # web requests: only the traced request's I/O counts
        self.summariser = recorder.summariser
        self.root = os.path.join(str(recorder.filter.root), "")
        self.home = os.path.join(os.path.expanduser("~"), "")
        self.tmp = os.path.join(os.path.realpath(tempfile.gettempdir()), "")
        self.keys: dict[tuple[Any, ...], int] = {}  # key -> its number in the spill's BOUNDARY records
        self.counts: list[int] = []  # per number: times seen
        self.errors = 0

    def start(self) -> None:
        if os.environ.get("SKELETON_BOUNDARIES") == "0":  # opt out: no audit hook is ever installed
            return
        _active[0] = self
        if _installed[0] == "":
            c_hook = _c_hook()
            if c_hook is not None:
                _installed[0] = "c"
            else:
                sys.addaudithook(_hook)
                _installed[0] = "python"
        if _installed[0] == "c":
            _c_hook().install(_hook)

    def stop(self) -> None:
        """Detach, and hand the counts past the first sighting to the spill (before Recorder.finish)."""
        if _active[0] is self:
            _active[0] = None
            if _installed[0] == "c":
                _c_hook().install(None)
        extra = {n: c - 1 for n, c in enumerate(self.counts) if c > 1}
        if extra:
            self.rec.buf.append((R.BOUNDARY_COUNTS, extra))
            self.rec.definitions += 1

    # -- one audit event ---------------------------------------------------------
    def seen(self, event: str, kind: str, args: tuple[Any, ...]) -> None:
        rec = self.rec
        if os.getpid() != rec.pid or (self.gate is not None and not self.gate.is_open()):
            return
        actor = self._actor(event, sys._getframe(2))
        if actor is None:
            return
        found = _TARGETS[kind](self, event, args)
        if found is None:
            return
        target, op, detail = found
        target = self._safe(target)
        scenario = rec.scenario
        key = (actor, kind, target, op, scenario)
        n = self.keys.get(key)
        if n is not None:
            self.counts[n] += 1
            return
        if len(self.keys) >= MAX_KEYS:
            target, detail = "(other)", None
            key = (actor, kind, target, op, scenario)
            n = self.keys.get(key)
            if n is not None:
                self.counts[n] += 1
                return
        n = self.keys[key] = len(self.counts)
        self.counts.append(1)
        if detail is not None:
            detail = self.summariser.scrub_text(detail[:MAX_TARGET])
        rec.buf.append((R.BOUNDARY, n, actor[0], actor[1], kind, target, op, detail))
        rec.definitions += 1

    def _actor(self, event: str, frame: Any) -> tuple[int, int] | None:
        """(code index, receiver object id) of the nearest traced frame; None: not the project's I/O."""
        table = self.rec.table
        covered = _COVERED.get(event, ())
        while frame is not None:
            code = frame.f_code
            entry = table.get(id(code))
            if entry is not None:
                obj = 0
                if entry[1] is not None:
                    try:
                        me = frame.f_locals[entry[1]]
                    except KeyError:  # the receiver's name was deleted (del self): the callable alone
                        me = None
                    if me is not None:
                        obj = self.rec.receiver_id(me)
                return entry[0], obj
            name = code.co_filename
            if name.startswith((_OWN, _READERS[0])):
                return None
            for tail in _READERS[1:]:
                if tail in name:
                    return None
            for tail in covered:
                if name.endswith(tail):
                    return None
            frame = frame.f_back
        return None

    # -- targets -------------------------------------------------------------------
    def _path(self, value: object) -> str | None:
        if type(value) is bytes:
            text = value.decode("utf-8", "replace")
        elif type(value) is str:
            text = value
        else:
            return None  # a file descriptor, or a PathLike object (never asked for its path)
        try:
            path = os.path.abspath(text)
        except (OSError, ValueError):
            return text
        if path.startswith(self.root):
            return path[len(self.root) :] or "."
        if path.startswith(self.tmp):  # a temporary folder's random name (mkdtemp) is folded: shop-demo-*
            base = os.path.basename(path)
            if "/" not in path[len(self.tmp) :] and _RANDOM_TAIL.search(base):
                base = _RANDOM_TAIL.sub("*", base)
            return "<tmp>/" + base
        if path.startswith(self.home):
            return "~/…/" + os.path.basename(path)
        return path

    def _safe(self, target: str) -> str:
        if len(target) > MAX_TARGET:
            target = target[:MAX_TARGET] + "…"
        safe: str = self.summariser.scrub_text(target)
        return safe


def _file(b: Boundaries, event: str, args: tuple[Any, ...]) -> tuple[str, str, str | None] | None:
    if not args:
        return None
    path = b._path(args[0])
    if path is None:
        return None
    if event == "open":
        mode = args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 else 0
        if type(mode) is str:
            op = "write" if _WRITE_MODES.intersection(mode) else "read"
        else:
            op = "write" if type(flags) is int and flags & _WRITE_FLAGS else "read"
        return path, op, None
    if event != "open" and len(args) > 1 and type(args[-1]) is int and args[-1] >= 0:
        return None  # relative to a folder descriptor (dir_fd): its folder is unknown here
    if event in ("os.listdir", "os.scandir"):
        return path, "list", None
    if event == "shutil.copyfile":
        return path, "copy", None  # the source; the copy's own opens name the destination
    return path, event.rsplit(".", 1)[-1], None  # remove, rename, mkdir, rmdir, rmtree


def _network(b: Boundaries, event: str, args: tuple[Any, ...]) -> tuple[str, str, str | None] | None:
    if event == "socket.connect":
        address = args[1] if len(args) > 1 else None
        if type(address) is tuple and len(address) >= 2 and type(address[0]) is str and type(address[1]) is int:
            return f"{address[0]}:{address[1]}", "connect", None
        path = b._path(address) if type(address) in (str, bytes) else None
        return (path, "connect", None) if path is not None else None
    if event == "http.client.connect":
        if len(args) >= 3 and type(args[1]) is str and type(args[2]) is int:
            return f"{args[1]}:{args[2]}", "http", None
        return None
    url, method = args[0], args[3] if len(args) > 3 else None  # urllib.Request: (url, data, headers, method)
    if type(url) is not str:
        return None
    from urllib.parse import urlsplit

    from ..integrations.request import safe_path

    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host:
        return None
    if port is None:
        port = {"https": 443, "http": 80, "ftp": 21}.get(parts.scheme, 0)
    verb = method if type(method) is str else "GET"
    return f"{host}:{port}", verb, f"{verb} {safe_path(parts.path or '/', b.summariser)}"


def _subprocess(b: Boundaries, event: str, args: tuple[Any, ...]) -> tuple[str, str, str | None] | None:
    program: object = None
    if event == "os.system":
        command = args[0] if args else None
        if type(command) is bytes:
            command = command.decode("utf-8", "replace")
        if type(command) is str:
            words = command.split()
            program = words[0] if words else None
    elif event == "subprocess.Popen":
        program = args[0] if args else None
        argv = args[1] if len(args) > 1 else None
        if program is None:
            if type(argv) is str or type(argv) is bytes:
                text = argv.decode("utf-8", "replace") if type(argv) is bytes else str(argv)
                words = text.split()
                program = words[0] if words else None
            elif type(argv) in (list, tuple) and argv:
                program = argv[0]
    else:  # os.exec, os.posix_spawn, os.spawn: (path, argv, env[, ...]) or (mode, path, ...)
        program = args[1] if event == "os.spawn" and len(args) > 1 else (args[0] if args else None)
    if type(program) is bytes:
        program = program.decode("utf-8", "replace")
    if type(program) is not str or not program:
        return None
    return os.path.basename(program) or program, "run", None


def _database(b: Boundaries, event: str, args: tuple[Any, ...]) -> tuple[str, str, str | None] | None:
    database = args[0] if args else None
    if type(database) is bytes:
        database = database.decode("utf-8", "replace")
    if type(database) is not str:
        return None  # a PathLike object: never asked for its path
    if database in ("", ":memory:"):
        return "sqlite::memory:", "connect", None
    if database.startswith("file:"):  # a URI: its query (mode=ro, tokens...) is never kept
        database = database[5:].split("?", 1)[0]
    path = b._path(database)
    return ("sqlite:" + path, "connect", None) if path is not None else None


_TARGETS: dict[str, Callable[[Boundaries, str, tuple[Any, ...]], tuple[str, str, str | None] | None]] = {
    "file": _file,
    "network": _network,
    "subprocess": _subprocess,
    "database": _database,
}


def _hook(event: str, args: tuple[Any, ...]) -> None:
    kind = EVENTS.get(event)
    if kind is None:
        return
    b = _active[0]
    if b is None:
        return
    try:
        b.seen(event, kind, args)
    except BaseException as exc:
        if foreign(exc):
            raise
        b.errors += 1
        if b.errors == 1:
            try:
                b.rec.gap("tracer_error", f"recording an I/O boundary ({event}): {type(exc).__name__}")
            except Exception:  # the gap is a courtesy; the program goes on either way
                pass
