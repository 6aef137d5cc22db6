"""WSGI middleware: `app.wsgi_app = SkeletonWSGI(app.wsgi_app, out_dir="traces")`.

A selected request is traced for the app call, where Flask and Django run the view.
With stream=True the trace goes on while the server iterates the response body and
ends when the body is exhausted or closed, so a streamed (generator) body is covered
too; PEP 3333 servers always close the body, but a test client that never reads it
keeps that trace (and the one-request slot) open. The artifacts are written in the
request's thread when the trace ends: that adds latency to the traced request only.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..options import Options
from .request import RequestInfo
from .select import DEFAULT_HEADER, Selection
from .tracer import RequestTracer, TracedRequest, tracer_from

Environ = dict[str, Any]  # the WSGI environ
WSGIApp = Callable[[Environ, Callable[..., Any]], Iterable[bytes]]


class SkeletonWSGI:
    """Wrap a WSGI app; keyword arguments are Options fields (out_dir, project_root, include,
    exclude, max_events, html, ...), selection rules (header, token, debug, paths, rate) and limits
    (max_per_minute, max_runs, max_bytes, concurrent): docs/web.md; stream=True also traces the
    iteration of the response body (see the module docstring)."""

    def __init__(
        self,
        app: WSGIApp,
        options: Options | None = None,
        *,
        selection: Selection | None = None,
        name: str = "web",
        header: str | None = DEFAULT_HEADER,
        paths: Any = (),
        rate: float = 0.0,
        stream: bool = False,
        **option_fields: Any,
    ) -> None:
        self.app = app
        self.stream = stream
        self.tracer: RequestTracer = tracer_from(
            options, selection, name, {"header": header, "paths": paths, "rate": rate, **option_fields}
        )
        self._match = self.tracer.selection.match
        self._header_key = self.tracer.selection.environ_key

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = self._header_key
        reason = self._match(environ.get("PATH_INFO", ""), environ.get(key) if key else None)
        if reason is None:
            return self.app(environ, start_response)
        handle = self.tracer.begin(request_from_environ(environ), reason)
        if handle is None:
            return self.app(environ, start_response)
        return _traced_call(self.app, environ, start_response, handle, self.stream)


def _traced_call(
    app: WSGIApp, environ: Environ, start_response: Callable[..., Any], handle: TracedRequest, stream: bool
) -> Iterable[bytes]:
    token = handle.enter()

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        try:
            handle.set_status(int(str(status).split(" ", 1)[0]))
        except ValueError:
            pass
        return start_response(status, headers, exc_info) if exc_info is not None else start_response(status, headers)

    try:
        body = app(environ, start)
    except BaseException as exc:
        handle.note_exception(exc)
        _end(handle, token)
        raise
    if not stream:
        _end(handle, token)
        return body
    return TracedBody(body, handle, token)


def _end(handle: TracedRequest, token: contextvars.Token[TracedRequest | None]) -> None:
    handle.leave(token)
    handle.stop()
    handle.write()


class TracedBody:
    """The app's response body; the trace ends when it is exhausted or closed."""

    def __init__(
        self, body: Iterable[bytes], handle: TracedRequest, token: contextvars.Token[TracedRequest | None]
    ) -> None:
        self.body = body
        self.handle = handle
        self.token = token
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.body
        except GeneratorExit:  # the server stopped reading; close() ends the trace
            raise
        except BaseException as exc:
            self.handle.note_exception(exc)
            self._end()
            raise
        self._end()

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            _end(self.handle, self.token)


def request_from_environ(environ: Environ) -> RequestInfo:
    """The request as RequestInfo: the environ's HTTP_* and CONTENT_* keys as header pairs (HTTP_X_NOTE -> X-NOTE;
    request.header_pairs lower-cases the names and makes the values text, as for ASGI)."""
    headers: list[tuple[str, object]] = [
        (k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")
    ]
    headers += [(k.replace("_", "-"), environ[k]) for k in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(k)]
    path = (environ.get("SCRIPT_NAME", "") or "") + (environ.get("PATH_INFO", "") or "")
    return RequestInfo(
        str(environ.get("REQUEST_METHOD", "GET")), path or "/", str(environ.get("QUERY_STRING", "")), headers
    )
