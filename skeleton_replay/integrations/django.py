"""Django: add "skeleton_replay.integrations.django.SkeletonMiddleware" to MIDDLEWARE.

Options come from settings.SKELETON_TRACE, a dict of the SkeletonWSGI keyword
arguments (out_dir, project_root, include, exclude, max_events, html, header, token, paths,
rate, ...); project_root defaults to settings.BASE_DIR when it is set, and the header rule
accepts a true value while settings.DEBUG is on (otherwise only the token). Put the entry
first in MIDDLEWARE to trace the other middlewares too. Works under WSGI and ASGI.
The view is traced; a StreamingHttpResponse body, produced after the middleware
returns, is not. Django is imported only when this module is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

from .tracer import RequestTracer, TracedRequest, current_request, tracer_from
from .wsgi import request_from_environ


def _tracer() -> RequestTracer:
    kwargs = dict(getattr(settings, "SKELETON_TRACE", {}) or {})
    if kwargs.get("project_root") is None and getattr(settings, "BASE_DIR", None):
        kwargs["project_root"] = settings.BASE_DIR
    if "selection" not in kwargs:
        kwargs.setdefault("debug", lambda: settings.DEBUG)  # the header's true values count in DEBUG only
    return tracer_from(kwargs.pop("options", None), kwargs.pop("selection", None), kwargs.pop("name", "web"), kwargs)


class SkeletonMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self.tracer = _tracer()
        self._match = self.tracer.selection.match
        self._header_key = self.tracer.selection.environ_key

    def _begin(self, request: Any) -> TracedRequest | None:
        meta = request.META
        key = self._header_key
        reason = self._match(request.path_info, meta.get(key) if key else None)
        if reason is None:
            return None
        req = request_from_environ(meta)
        req.path = request.path
        return self.tracer.begin(req, reason)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self.__acall__(request)
        handle = self._begin(request)
        if handle is None:
            return self.get_response(request)
        token = handle.enter()
        try:
            response = self.get_response(request)
            handle.set_status(response.status_code)
            return response
        except BaseException as exc:
            handle.note_exception(exc)
            raise
        finally:
            handle.leave(token)
            handle.stop()
            handle.write()

    async def __acall__(self, request: Any) -> Any:
        handle = self._begin(request)
        if handle is None:
            return await self.get_response(request)
        token = handle.enter()
        try:
            response = await self.get_response(request)
            handle.set_status(response.status_code)
            return response
        except BaseException as exc:
            handle.note_exception(exc)
            raise
        finally:
            handle.leave(token)
            handle.stop()
            await asyncio.get_running_loop().run_in_executor(None, handle.write)

    def process_exception(self, request: Any, exception: BaseException) -> None:
        """A view raised: Django turns it into a 500 response; the trace records the exception."""
        handle = current_request()
        if handle is not None:
            handle.note_exception(exception)
        return None
