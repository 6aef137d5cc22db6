"""Traced requests: start a gated capture per request, stop it, write the artifacts.

The request's handling is marked by a ContextVar (REQUEST) that the middleware sets:
the gated backends record only where it holds this request's handle, so other
requests running at the same time on other threads or asyncio tasks stay out of
the trace. Each traced request has its own capture (recorder, spill, and on 3.12+ its
own sys.monitoring tool id, so local events and DISABLE never mix). At most
`concurrent` requests are traced at once in the process (default 1); a selected
request past that runs untraced (counted in RequestTracer.stats.skipped_busy, logged).
Traces are rate-limited and their folders kept within a disk quota (limits.py).
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import logging
import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..capture import Gate
from ..lifecycle import Entry, RunLifecycle, prepare_options
from ..options import SPECS, Options, options_from, resolve_out_dir
from ..result import RunResult
from ..run_capture import summariser_for
from .limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PER_MINUTE, DEFAULT_MAX_RUNS, DiskQuota, RateLimit
from .request import RequestInfo, folder_name, safe_path, summarise_request, unique_folder
from .select import Selection

log = logging.getLogger("skeleton_replay.web")

REQUEST: contextvars.ContextVar[TracedRequest | None] = contextvars.ContextVar("skeleton_replay_request", default=None)
MAX_CONCURRENT = 4  # sys.monitoring has 6 tool ids; the debugger, coverage and profilers use some
_slots_lock = threading.Lock()
_active = [0]  # traced requests running now, process-wide
_busy_folders: set[str] = set()  # their folders, until written: the disk quota leaves them alone
_start_lock = threading.Lock()


def _take_slot(limit: int) -> bool:
    with _slots_lock:
        if _active[0] >= limit:
            return False
        _active[0] += 1
        return True


def _free_slot() -> None:
    with _slots_lock:
        _active[0] -= 1


def _busy() -> set[str]:
    with _slots_lock:
        return set(_busy_folders)


def _set_busy(folder: Path, busy: bool) -> None:
    with _slots_lock:
        if busy:
            _busy_folders.add(str(folder))
        else:
            _busy_folders.discard(str(folder))


def current_request() -> TracedRequest | None:
    """The traced request this code runs in, if any (framework helpers note exceptions on it)."""
    return REQUEST.get()


@dataclass
class TracerStats:
    selected: int = 0  # requests a rule selected
    traced: int = 0  # of those, traced (artifacts written or being written)
    skipped_busy: int = 0  # selected while another request was traced: ran untraced
    skipped_rate: int = 0  # selected past max_per_minute: ran untraced
    failed: int = 0  # Skeleton could not start or finish a trace (the request itself was unaffected)
    pruned: int = 0  # old request folders removed to stay within max_runs / max_bytes


class RequestTracer:
    """Shared by the WSGI, ASGI and Django middlewares: options, selection, counters."""

    def __init__(
        self,
        options: Options | None = None,
        selection: Selection | None = None,
        name: str = "web",
        concurrent: int = 1,
        max_runs: int | None = DEFAULT_MAX_RUNS,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        max_per_minute: int | None = DEFAULT_MAX_PER_MINUTE,
    ) -> None:
        if not 1 <= concurrent <= MAX_CONCURRENT:
            raise ValueError(f"concurrent must be between 1 and {MAX_CONCURRENT}, not {concurrent!r}")
        self.concurrent = concurrent
        opts = replace(options) if options is not None else Options()
        opts.open_report = False
        self.selection = selection or Selection()
        self.name = name
        # validated and merged with [tool.skeleton] once, here: each request's RunLifecycle takes them as they are
        # (and folder names and log lines redact what the artifacts redact)
        self.prepared = prepare_options(opts)
        self.root, self.options = self.prepared.root, self.prepared.options
        opts = self.options
        self.out_dir = Path(resolve_out_dir(opts.out_dir, name)).resolve() / "requests"
        self.rate = RateLimit(max_per_minute)
        self.quota = DiskQuota(self.out_dir, max_runs, max_bytes)
        self.stats = TracerStats()
        self._stats_lock = threading.Lock()
        self.results: list[RunResult] = []  # the last few results, newest last (tests, tools)
        # Built as each request's capture builds its own (run_capture.summariser_for): logs and folder
        # names redact exactly what the artifacts redact.
        self.summariser = summariser_for(opts)

    def log_path(self, req: RequestInfo) -> str:
        """The path as logs show it: secret-looking segments redacted, as in the artifacts."""
        return safe_path(req.path, self.summariser)

    def begin(self, req: RequestInfo, selected_by: str) -> TracedRequest | None:
        """Start tracing this request, or None (another one is traced, or Skeleton failed)."""
        self._count("selected")
        if not _take_slot(self.concurrent):
            self._count("skipped_busy")
            log.warning(
                "skeleton: %s %s selected (%s) but %d request(s) are being traced already; it runs untraced",
                req.method,
                self.log_path(req),
                selected_by,
                self.concurrent,
            )
            return None
        if not self.rate.allow():
            _free_slot()
            self._count("skipped_rate")
            if self.rate.should_warn():
                log.warning(
                    "skeleton: %s %s selected (%s) but %d traced requests per minute (max_per_minute) were "
                    "reached; it and the next ones run untraced for a while (not logged again for 60 s)",
                    req.method,
                    self.log_path(req),
                    selected_by,
                    self.rate.per_minute,
                )
            return None
        handle = TracedRequest(self, req, selected_by)
        try:
            with _start_lock:  # claiming a sys.monitoring tool id is check-then-take
                handle._start()
        except Exception as exc:
            _free_slot()
            handle._discard()
            self._count("failed")
            log.error("skeleton: could not trace %s %s: %s", req.method, self.log_path(req), exc)
            return None
        self._count("traced")
        return handle

    def _count(self, name: str) -> None:
        with self._stats_lock:
            setattr(self.stats, name, getattr(self.stats, name) + 1)


class TracedRequest:
    """One traced request: enter() in the handling context, stop() when it is done, then write()."""

    def __init__(self, tracer: RequestTracer, req: RequestInfo, selected_by: str) -> None:
        self.tracer = tracer
        self.req = req
        self.selected_by = selected_by
        self.status: int | None = None
        self.exception: BaseException | None = None
        self.result: RunResult | None = None
        self._stopped = False
        self._written = False
        self._lock = threading.Lock()

    def _start(self) -> None:
        t = self.tracer
        self.folder = unique_folder(
            t.out_dir, folder_name(_dt.datetime.now(_dt.UTC), self.req.method, self.req.path, t.summariser)
        )
        _set_busy(self.folder, True)
        path = safe_path(self.req.path, t.summariser)
        entry = Entry(
            kind="request",
            name=f"{self.req.method} {path}",
            path=path,
            command=[self.req.method, path],
            main_module=t.name,
        )
        self.run = RunLifecycle(t.prepared, entry, out_dir=self.folder, gate=Gate(REQUEST, self))
        self.run.update_header(request=self._request_info(0.0))
        self.run.start()

    def _discard(self) -> None:
        """A trace that could not start leaves no folder behind."""
        run = getattr(self, "run", None)
        if run is not None:
            run.discard()
        folder = getattr(self, "folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
            _set_busy(folder, False)

    def enter(self) -> contextvars.Token[TracedRequest | None]:
        """Mark the current context (thread or task, and the tasks it starts) as this request."""
        return REQUEST.set(self)

    @staticmethod
    def leave(token: contextvars.Token[TracedRequest | None]) -> None:
        try:
            REQUEST.reset(token)
        except ValueError:  # reset from another context (a server that closes the body elsewhere)
            REQUEST.set(None)

    def set_status(self, status: int) -> None:
        self.status = status

    def note_exception(self, exc: BaseException) -> None:
        """The handler raised (also when the framework turned it into a 500 response)."""
        if self.exception is None:
            self.exception = exc

    def stop(self) -> None:
        """Stop recording (fast; call it in the handling thread). Another request may be traced after it.

        Never raises: a failure is logged and counted, and the request goes on."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            self.run.stop()
        except Exception:
            self.tracer._count("failed")
            log.exception(
                "skeleton: stopping the trace of %s %s failed", self.req.method, self.tracer.log_path(self.req)
            )
        finally:
            _free_slot()

    def write(self) -> RunResult | None:
        """Build the artifacts (post-processing; may run in any thread). Never raises."""
        with self._lock:
            if self._written or not self._stopped:
                return self.result
            self._written = True
        t = self.tracer
        try:
            run = self.run
            run.header.request = request = self._request_info(run.capture.duration_s)
            failed = self.exception is not None or (self.status is not None and self.status >= 500)
            self.result = run.finish("exception" if failed else "ok", 1 if failed else 0, self._error())
            t.results = [*t.results[-9:], self.result]
            log.info("skeleton: traced %s %s -> %s", self.req.method, request["path"], self.folder)
        except Exception:
            t._count("failed")
            log.exception(
                "skeleton: writing the trace of %s %s failed", self.req.method, self.tracer.log_path(self.req)
            )
        finally:
            _set_busy(self.folder, False)
        try:
            pruned = t.quota.prune(self.folder, _busy)
            with t._stats_lock:
                t.stats.pruned += pruned
        except OSError as exc:
            log.error("skeleton: could not keep %s within its quota: %s", t.out_dir, exc)
        return self.result

    def finish(self) -> RunResult | None:
        self.stop()
        return self.write()

    def _request_info(self, duration: float) -> dict[str, Any]:
        return summarise_request(self.req, self.run.summariser, self.status, duration, self.selected_by)

    def _error(self) -> dict[str, Any] | None:
        if self.exception is not None:
            return self.run.error_info(self.exception)
        if self.status is not None and self.status >= 500:
            return {"type": f"HTTP {self.status}", "message": f"the app answered {self.status}"}
        return None


OPTION_FIELDS = frozenset(SPECS) - {"open_report"}
SELECTION_ARGS = ("header", "paths", "rate", "token", "debug", "allow_header_in_debug")
TRACER_ARGS = ("concurrent", "max_runs", "max_bytes", "max_per_minute")


def tracer_from(
    options: Options | None, selection: Selection | None, name: str, kwargs: dict[str, Any]
) -> RequestTracer:
    """A RequestTracer from middleware keyword arguments: Options fields and selection rules."""
    from .select import selection_from

    sel_kw = {k: kwargs.pop(k) for k in SELECTION_ARGS if k in kwargs}
    tracer_kw = {k: kwargs.pop(k) for k in TRACER_ARGS if k in kwargs}
    if "concurrent" in tracer_kw:
        tracer_kw["concurrent"] = int(tracer_kw["concurrent"])
    unknown = sorted(set(kwargs) - OPTION_FIELDS)
    if unknown:
        known = ", ".join(sorted(OPTION_FIELDS | set(SELECTION_ARGS) | set(TRACER_ARGS)))
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; known: {known}")
    opts = options_from(kwargs, base=options)  # the caller's object stays as it was
    return RequestTracer(opts, selection_from(selection=selection, **sel_kw), name, **tracer_kw)
