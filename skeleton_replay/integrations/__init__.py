"""Integrations: trace selected web requests of a running app (docs/web.md).

    app.wsgi_app = SkeletonWSGI(app.wsgi_app, out_dir="traces")       # Flask, any WSGI app
    app.add_middleware(SkeletonASGI, out_dir="traces")                 # FastAPI, Starlette, any ASGI app
    MIDDLEWARE = ["skeleton_replay.integrations.django.SkeletonMiddleware", ...]   # Django

No framework is imported here: the framework helpers (flask.py, django.py) import
theirs only when they are imported themselves.
"""
from __future__ import annotations

from .asgi import SkeletonASGI
from .select import Selection
from .tracer import RequestTracer, current_request
from .wsgi import SkeletonWSGI

__all__ = ["RequestTracer", "Selection", "SkeletonASGI", "SkeletonWSGI", "current_request"]
