"""Integrations: pytest (pytest_plugin.py, docs/pytest.md) and web requests of a running app (docs/web.md).

    app.wsgi_app = SkeletonWSGI(app.wsgi_app, out_dir="traces")       # Flask, any WSGI app
    app.add_middleware(SkeletonASGI, out_dir="traces")                 # FastAPI, Starlette, any ASGI app
    MIDDLEWARE = ["skeleton_replay.integrations.django.SkeletonMiddleware", ...]   # Django

pytest's plugin is registered through the pytest11 entry point and imports pytest itself.
No web framework is imported here: the framework helpers (flask.py, django.py) import
theirs only when they are imported themselves.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Imported on first use: pytest loads pytest_plugin.py (a submodule) in every run where
# skeleton-replay is installed, and that must not pull in the tracer and the middlewares.
_LAZY = {
    "SkeletonASGI": ".asgi",
    "Selection": ".select",
    "RequestTracer": ".tracer",
    "current_request": ".tracer",
    "SkeletonWSGI": ".wsgi",
}

__all__ = ["RequestTracer", "Selection", "SkeletonASGI", "SkeletonWSGI", "current_request"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)
