"""I/O boundaries: where the traced project code touches the outside world (docs/boundaries.md).

Files, sockets, programs and database connections come from an audit hook (below). Three kinds no
audit event reports come from probes (see "Probes"): environment reads (os.environ), writes to
stdout/stderr (print, sys.stdout.write) and SQL statements (sqlite3 execute*).

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

import _collections_abc as _abc
import os
import re
import sys
import tempfile
from builtins import BaseException, Exception, KeyError, dict, hasattr, id, issubclass, len, print, str, tuple, type
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from . import callsite
from . import records as R
from .actor import module_actor, traced_actor
from .origin import _OWN, foreign
from .summarise import utf8

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
    "sqlite3.connect/handle": "database",  # not a use: ties the connection to its database (SQL statements)
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
# The standard library reading the interpreter's own settings (PYTHONASYNCIODEBUG under asyncio.run):
# not the program's configuration, so a PYTHON* variable read directly by stdlib code is left out
_STDLIB = os.path.dirname(os.__file__) + os.sep
_ENV_PLUMBING = frozenset((os.__file__, _abc.__file__, "<frozen os>", "<frozen _collections_abc>"))
_WRITE_MODES = frozenset("wax+")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
# tempfile's names: a prefix and 8 random characters
_RANDOM_TAIL = re.compile(r"(?<=[-_.])[a-z0-9_]{8}$|(?<=^tmp)[a-z0-9_]{8}$")
MAX_KEYS = 10_000  # distinct boundaries per run; past it, targets are folded into "(other)"
MAX_TARGET = 200
MAX_CONNECTIONS = 1_000  # sqlite3 connections remembered (id -> database target) for their statements

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


def _stops_walk(name: str, event: str) -> bool:
    """A frame of this file means the I/O is not the program's (Skeleton's own, reading source or
    bytecode, or made on behalf of a higher-level event: _COVERED)."""
    if name.startswith((_OWN, _READERS[0])) or any(tail in name for tail in _READERS[1:]):
        return True
    return any(name.endswith(tail) for tail in _COVERED.get(event, ()))


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
        self.connections: dict[int, str] = {}  # id(sqlite3 connection) -> its database's target
        self.last_database = "sqlite:?"
        self.tool: int | None = None  # the sys.monitoring tool id of the probes (3.12+)
        self.safe_names: dict[str, str] = {}  # probes: a variable's name -> its safe form (scrubbed once)
        self.statements: dict[str, tuple[str, str]] = {}  # probes: SQL text -> (op, safe shape)
        self.stop_files: dict[str, dict[str, bool]] = {}  # event -> {file: its frames end _actor's walk}

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
        if "sqlite3" in sys.modules:
            _watch_sqlite()
        _forked[0] = False  # a capture of this process (which may itself be a fork)
        try:
            _start_probes(self)
        except Exception as exc:
            if foreign(exc):
                raise
            self.rec.gap("tracer_error", f"starting the I/O probes: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        """Detach, and hand the counts past the first sighting to the spill (before Recorder.finish)."""
        if _active[0] is self:
            _active[0] = None
            if _installed[0] == "c":
                _c_hook().install(None)
            _stop_probes(self)
        extra = {n: c - 1 for n, c in enumerate(self.counts) if c > 1}
        if extra:
            self.rec.buf.append((R.BOUNDARY_COUNTS, extra))
            self.rec.definitions += 1

    # -- one audit event ---------------------------------------------------------
    def seen(self, event: str, kind: str, args: tuple[Any, ...]) -> None:
        rec = self.rec
        if os.getpid() != rec.pid:
            return
        if event == "sqlite3.connect/handle":  # the connection just made: its statements name its database
            if args and len(self.connections) < MAX_CONNECTIONS:
                self.connections[id(args[0])] = self.last_database
            _watch_sqlite()
            return
        if event == "sqlite3.connect":
            found = _database(self, event, args)
            self.last_database = self._safe(found[0]) if found is not None else "sqlite:?"
        if self.gate is not None and not self.gate.is_open():
            return
        actor = self._actor(event, sys._getframe(2))
        if actor is None:
            return
        found = _TARGETS[kind](self, event, args)
        if found is None:
            return
        target, op, detail = found
        self.note(actor, kind, self._safe(target), op, detail)

    def note(
        self, actor: tuple[int, Any], kind: str, target: str, op: str, detail: str | None, scrubbed: bool = False
    ) -> None:
        """One use of a boundary (target already safe; detail too when scrubbed): a BOUNDARY record the first
        time, else a count."""
        rec = self.rec
        scenario = rec.scenario
        key = (actor, kind, target, op, scenario, detail if kind == "database" else None)
        n = self.keys.get(key)
        if n is not None:
            self.counts[n] += 1
            return
        if len(self.keys) >= MAX_KEYS:
            target, detail = "(other)", None
            key = (actor, kind, target, op, scenario, None)
            n = self.keys.get(key)
            if n is not None:
                self.counts[n] += 1
                return
        n = self.keys[key] = len(self.counts)
        self.counts.append(1)
        if detail is not None and not scrubbed:
            detail = self.summariser.scrub_text(utf8(detail[:MAX_TARGET]))
        rec.buf.append((R.BOUNDARY, n, actor[0], actor[1], kind, target, op, detail))
        rec.definitions += 1

    def _actor(self, event: str, frame: Any) -> tuple[int, Any] | None:
        """(code index, receiver object id) of the nearest traced frame, (MODULE, (module, file)) for a
        project module body; None: not the project's I/O."""
        table = self.rec.table
        relative = self.rec.filter.relative_file
        stops = self.stop_files.get(event)
        if stops is None:
            stops = self.stop_files[event] = {}
        while frame is not None:
            code = frame.f_code
            entry = table.get(id(code))
            if entry is not None:
                return traced_actor(self.rec, frame, entry)
            name = code.co_filename
            stop = stops.get(name)
            if stop is None:  # once per file and event: pytest's os.environ writes walk ~40 frames each
                stop = _stops_walk(name, event)
                if len(stops) < MAX_KEYS:
                    stops[name] = stop
            if stop:
                return None
            if code.co_name == "<module>":
                rel = relative(name)
                if rel is not None:  # a project module body (no traced callable above it): the module did it
                    return module_actor(self.rec, frame, name, rel)
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
        safe: str = self.summariser.scrub_text(utf8(target))  # (undecodable bytes of names: U+FFFD)
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


# -- Probes: environment reads, stdout/stderr writes, SQL statements ------------------------------------------
#
# No audit event reports them, and nothing of the program or the stdlib is patched. Instead:
# - os.environ reads: the code of os._Environ.__getitem__ (reached by environ[...], .get, getenv, `in`) and
#   __setitem__ are probes: on 3.12+ a local PY_START event of Skeleton's second sys.monitoring tool id
#   ("skeleton-io"); on 3.11 the setprofile backend hands their 'call' to PROBES (before deciding the code).
#   The variable's NAME is recorded, never its value.
# - print, <stdout/stderr>.write/writelines, sqlite3 execute/executemany/executescript: on 3.12+ the CALL event
#   of that tool id (once per call site: any other callable gets DISABLE there; in C, _audit.calls, when
#   built); on 3.11 the profiler's 'c_call' (C_WATCH). The stream is compared by identity (sys.stdout,
#   sys.__stdout__...); the statement is read from the caller's bytecode (capture/callsite.py) and only its
#   shape is kept (verb and table names: "INSERT INTO orders"); parameters are never looked at.
_ENV_CODES: dict[int, tuple[CodeType, str]] = {
    id(os._Environ.__getitem__.__code__): (os._Environ.__getitem__.__code__, "read"),
    id(os._Environ.__setitem__.__code__): (os._Environ.__setitem__.__code__, "write"),
}
# Reading every variable (os.environ.items(), .values(), .copy(), ==): one read of `*`, not one per name
_ALL_READERS = frozenset(
    id(f.__code__)
    for f in (
        _abc.ItemsView.__iter__,
        _abc.ItemsView.__contains__,
        _abc.ValuesView.__iter__,
        _abc.ValuesView.__contains__,
        _abc.Mapping.__eq__,
        os._Environ.copy,
    )
)
PROBES: dict[int, Callable[[FrameType], None]] = {}  # 3.11 (setprofile): code id -> probe(frame)
C_WATCH: list[Any] = []  # 3.11 (setprofile): [probe(frame, fn), watched callables...] while a capture runs
# Watched callables: id -> (the callable, what it is). sqlite3's are added once sqlite3 is imported.
_WATCH: dict[int, tuple[Any, str]] = {}
_IO_TOOL_IDS = (3, 2, 1, 0, 5, 4)  # the tracer prefers 4, 3, 2...: from the other end


def _watch(fn: Any, role: str) -> None:
    _WATCH[id(fn)] = (fn, role)


def _watch_defaults() -> None:
    import _io

    _watch(print, "print")
    for cls in (_io.TextIOWrapper, _io.StringIO, _io.BufferedWriter, _io.FileIO):
        _watch(cls.write, "write")
    _watch(_io._IOBase.writelines, "write")


_watch_defaults()
_sqlite_types: list[Any] = []  # (Cursor, Connection, Cursor.connection) once sqlite3 is imported


def _watch_sqlite() -> None:
    if _sqlite_types:
        return
    sqlite3 = sys.modules.get("sqlite3")
    if sqlite3 is None:
        return
    cursor, connection = sqlite3.Cursor, sqlite3.Connection
    _sqlite_types.extend((cursor, connection, cursor.__dict__["connection"]))
    for cls in (cursor, connection):
        for name in ("execute", "executemany", "executescript"):
            _watch(cls.__dict__[name], name)
    if _c_calls[0] is not None:
        _c_calls[0].calls(_call_seen, _DISABLE, tuple(fn for fn, _ in _WATCH.values()))
    if C_WATCH:
        C_WATCH[1:] = [fn for fn, _ in _WATCH.values()]


_c_calls: list[Any] = [None]  # the C CALL filter (_audit), while a capture runs with it


def _start_probes(b: Boundaries) -> None:
    if os.environ.get("SKELETON_IO_PROBES") == "0":  # to measure them: the audit hook's kinds only
        return
    if sys.version_info < (3, 12):  # the setprofile backend calls the probes (capture/setprofile.py)
        C_WATCH[:] = [_profile_c_call, *(fn for fn, _ in _WATCH.values())]
        return
    mon = sys.monitoring  # type: ignore[attr-defined,unused-ignore]
    tool = next((t for t in _IO_TOOL_IDS if mon.get_tool(t) is None), None)
    if tool is None:
        b.rec.gap(
            "other",
            "no free sys.monitoring tool id for the I/O probes: environment reads, stdout/stderr writes and "
            "SQL statements are not recorded",
        )
        return
    mon.use_tool_id(tool, "skeleton-io")
    b.tool = tool
    ev = mon.events
    mon.register_callback(tool, ev.PY_START, _env_start)
    c_hook = _c_hook()
    if c_hook is not None and hasattr(c_hook, "calls"):
        c_hook.calls(_call_seen, mon.DISABLE, tuple(fn for fn, _ in _WATCH.values()))
        _c_calls[0] = c_hook
        mon.register_callback(tool, ev.CALL, c_hook.call_filter)
    else:
        mon.register_callback(tool, ev.CALL, _on_call)
    for code, _ in _ENV_CODES.values():
        mon.set_local_events(tool, code, ev.PY_START)
    mon.set_events(tool, ev.CALL)


def _stop_probes(b: Boundaries) -> None:
    del C_WATCH[:]
    tool, b.tool = b.tool, None
    if _c_calls[0] is not None:
        _c_calls[0].calls(None, None, ())
        _c_calls[0] = None
    if tool is None:
        return
    try:
        mon = sys.monitoring  # type: ignore[attr-defined,unused-ignore]
        if mon.get_tool(tool) != "skeleton-io":  # freed by the program: not ours to touch
            return
        mon.set_events(tool, 0)
        for code, _ in _ENV_CODES.values():
            mon.set_local_events(tool, code, 0)
        mon.register_callback(tool, mon.events.PY_START, None)
        mon.register_callback(tool, mon.events.CALL, None)
        mon.free_tool_id(tool)
    except Exception as exc:
        if foreign(exc):
            raise
        b.rec.gap("other", f"could not stop the I/O probes cleanly ({type(exc).__name__})")


_forked = [False]  # this process is a fork of the traced one: the probes stay quiet (no getpid() per call)


def _after_fork() -> None:
    _forked[0] = True


os.register_at_fork(after_in_child=_after_fork)
_print_targets: dict[tuple[int, int], str | None] = {}  # print call site -> "stdout", "stderr" or None (a file)


def _contained(b: Boundaries, what: str, exc: BaseException) -> None:
    if foreign(exc):
        raise exc
    b.errors += 1
    if b.errors == 1:
        try:
            b.rec.gap("tracer_error", f"recording an I/O boundary ({what}): {type(exc).__name__}")
        except Exception:
            pass


def _env(frame: FrameType, op: str) -> None:
    b = _active[0]
    if b is None or _forked[0] or (b.gate is not None and not b.gate.is_open()):
        return
    try:
        try:
            key = frame.f_locals["key"]  # a dict (3.12) or a FrameLocalsProxy (3.13): no program code
        except KeyError:
            return
        if type(key) is bytes:  # os.environb
            key = key.decode("utf-8", "replace")
        if type(key) is not str:
            return
        caller = frame.f_back
        if key.startswith("PYTHON"):
            reader = caller  # past os.getenv and the Mapping methods (get, __contains__) to the code that asked
            while reader is not None and reader.f_code.co_filename in _ENV_PLUMBING:
                reader = reader.f_back
            where = reader.f_code.co_filename if reader is not None else ""
            if type(where) is str and where.startswith((_STDLIB, "<frozen ")):
                return
        if caller is not None and id(caller.f_code) in _ALL_READERS:
            key = "*"  # the whole environment, read one variable at a time
        actor = b._actor("env", caller)
        if actor is not None:
            name = b.safe_names.get(key)
            if name is None:
                name = b._safe(key)
                if len(b.safe_names) < MAX_KEYS:
                    b.safe_names[key] = name
            b.note(actor, "env", name, op, None)
    except BaseException as exc:
        _contained(b, "os.environ", exc)


def _env_probe_read(frame: FrameType) -> None:
    _env(frame, "read")


def _env_probe_write(frame: FrameType) -> None:
    _env(frame, "write")


if sys.version_info < (3, 12):  # always set (each probe returns at once when no capture runs): a code met
    for _code, _op in _ENV_CODES.values():  # before a capture starts must not be decided untraced
        PROBES[id(_code)] = _env_probe_read if _op == "read" else _env_probe_write


def _env_start(code: CodeType, offset: int) -> None:
    """PY_START of os._Environ.__getitem__/__setitem__ (a local event: only those codes call it)."""
    entry = _ENV_CODES.get(id(code))
    if entry is not None:
        _env(sys._getframe(1), entry[1])


def _on_call(code: CodeType, offset: int, fn: object, arg0: object) -> object:
    """The pure-Python CALL filter (the C one is _audit.calls): DISABLE for any callable not watched."""
    w = _WATCH.get(id(fn))
    if w is None:
        return _DISABLE
    _call_seen(code, offset, fn, arg0)
    return None


_DISABLE: Any = sys.monitoring.DISABLE if sys.version_info >= (3, 12) else None  # type: ignore[attr-defined,unused-ignore]


def _call_seen(code: CodeType, offset: int, fn: object, me: object) -> None:
    """A call of a watched callable (fn: the watched object; me: its receiver, or print's first argument)."""
    b = _active[0]
    if b is None or _forked[0] or (b.gate is not None and not b.gate.is_open()):
        return
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    if frame is None:
        return
    try:
        _called(b, frame, code, offset, fn, me)
    except BaseException as exc:
        _contained(b, "a call", exc)


def _profile_c_call(frame: FrameType, fn: Any) -> None:
    """3.11 (setprofile): a 'c_call' of fn, a builtin function or a bound builtin method."""
    b = _active[0]
    if b is None or _forked[0] or (b.gate is not None and not b.gate.is_open()):
        return
    try:
        me = fn.__self__  # (a C getter: the receiver of a bound builtin method)
        if fn is print:
            watched: Any = print
        else:
            name = fn.__name__
            if name not in _METHOD_NAMES:
                return
            watched = None
            cls = type(me)
            for owner in cls.__mro__:  # the method that runs: the first class defining it
                d = owner.__dict__
                if name in d:
                    watched = d[name]
                    break
            if watched is None or id(watched) not in _WATCH:
                return
        _called(b, frame, frame.f_code, frame.f_lasti, watched, me)
    except BaseException as exc:
        _contained(b, "a call", exc)


def _called(b: Boundaries, frame: FrameType, code: CodeType, offset: int, fn: object, me: object) -> None:
    w = _WATCH.get(id(fn))
    if w is None:
        return
    role = w[1]
    if role == "print":
        site = (id(code), offset)
        if site in _print_targets:
            found = _print_targets[site]
        else:
            found = _print_target(code, offset)
            if len(_print_targets) < callsite.MAX_SITES:
                _print_targets[site] = found
        if found is None:
            return  # print to a file: not the console
        target = found
        op, detail = "write", None
    elif role == "write":
        s = sys.stdout, sys.__stdout__, sys.stderr, sys.__stderr__
        if me is s[0] or me is s[1]:
            target = "stdout"
        elif me is s[2] or me is s[3]:
            target = "stderr"
        else:
            return
        op, detail = "write", None
    else:  # sqlite3 execute, executemany, executescript
        if not _sqlite_types:
            return
        cursor, connection, member = _sqlite_types
        if issubclass(type(me), cursor):
            conn = member.__get__(me, cursor)  # the member's C getter: no program code
        elif issubclass(type(me), connection):
            conn = me
        else:
            return
        target = b.connections.get(id(conn), "sqlite:?")
        actor = b._actor("sql", frame)
        if actor is None:
            return
        source = callsite.argument(code, offset, 0)
        text = callsite.text_of(source, frame)
        if text is None:
            op = "execute"
            detail = "(statement built at run time)" if source and source[0] == "dynamic" else "(statement not seen)"
        else:
            known = b.statements.get(text) if role != "executescript" else None
            if known is None:
                if role == "executescript":
                    op, detail = "script", callsite.script_shape(text)
                else:
                    op, detail = callsite.sql_shape(text)
                detail = b.summariser.scrub_text(utf8(detail[:MAX_TARGET]))
                if role != "executescript" and len(b.statements) < MAX_KEYS:
                    b.statements[text] = op, detail
            else:
                op, detail = known
        b.note(actor, "database", target, op, detail, scrubbed=True)
        return
    actor = b._actor("console", frame)
    if actor is not None:
        b.note(actor, "console", target, op, detail)


def _print_target(code: CodeType, offset: int) -> str | None:
    """Where the print() at this call site writes: stdout, stderr, or None (a file, given as file=)."""
    if "file" not in callsite.keywords(code, offset):
        return "stdout"
    source = callsite.argument(code, offset, "file")
    if source == ("const", None):
        return "stdout"
    if source is not None and source[0] == "attr" and source[1] in _STREAMS:
        return _STREAMS[source[1]]
    return None


_METHOD_NAMES = frozenset(("write", "writelines", "execute", "executemany", "executescript"))
_STREAMS = {"stdout": "stdout", "__stdout__": "stdout", "stderr": "stderr", "__stderr__": "stderr"}
