"""ASGI middleware: `app.add_middleware(SkeletonASGI, out_dir="traces")` (FastAPI, Starlette).

A selected HTTP request is traced for the whole app call, which in ASGI includes a
streamed response body. Tasks the app starts inherit the request's context and are
traced while the request lasts. The artifacts are written in a worker thread
(asyncio's default executor) so the event loop keeps serving other requests; the
traced request's app call returns once they are written (its response has been sent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..options import Options
from .request import RequestInfo
from .select import DEFAULT_HEADER, Selection
from .tracer import RequestTracer, TracedRequest, tracer_from

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SkeletonASGI:
    """Wrap an ASGI app; keyword arguments are Options fields (out_dir, project_root, include,
    exclude, max_events, html, ...), selection rules (header, token, debug, paths, rate) and limits
    (max_per_minute, max_runs, max_bytes, concurrent): docs/web.md."""

    def __init__(
        self,
        app: ASGIApp,
        options: Options | None = None,
        *,
        selection: Selection | None = None,
        name: str = "web",
        header: str | None = DEFAULT_HEADER,
        paths: Any = (),
        rate: float = 0.0,
        **option_fields: Any,
    ) -> None:
        self.app = app
        self.tracer: RequestTracer = tracer_from(
            options, selection, name, {"header": header, "paths": paths, "rate": rate, **option_fields}
        )
        self._match = self.tracer.selection.match
        key = self.tracer.selection.header_key
        self._header_key = key.encode("latin-1") if key else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        value = None
        key = self._header_key
        if key is not None:
            for name, v in scope.get("headers", ()):
                if name == key:
                    value = v.decode("latin-1")
                    break
        reason = self._match(scope.get("path", ""), value)
        if reason is None:
            return await self.app(scope, receive, send)
        handle = self.tracer.begin(request_from_scope(scope), reason)
        if handle is None:
            return await self.app(scope, receive, send)
        await _traced_call(self.app, scope, receive, send, handle)


async def _traced_call(app: ASGIApp, scope: Scope, receive: Receive, send: Send, handle: TracedRequest) -> None:
    async def traced_send(message: Message) -> None:
        if message.get("type") == "http.response.start":
            try:
                handle.set_status(int(message["status"]))
            except (KeyError, TypeError, ValueError):
                pass
        await send(message)

    token = handle.enter()
    try:
        await app(scope, receive, traced_send)
    except BaseException as exc:
        handle.note_exception(exc)
        raise
    finally:
        handle.leave(token)
        handle.stop()
        await _write(handle)


async def _write(handle: TracedRequest) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio (trio): write here
        handle.write()
        return
    await loop.run_in_executor(None, handle.write)


def request_from_scope(scope: Scope) -> RequestInfo:
    """The request as RequestInfo; its header pairs (bytes) are decoded there (request.header_pairs)."""
    query = scope.get("query_string", b"")
    return RequestInfo(
        str(scope.get("method", "GET")),
        str(scope.get("path", "")) or "/",
        bytes(query).decode("latin-1") if query else "",
        list(scope.get("headers", ())),
    )
