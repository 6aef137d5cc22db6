"""Flask: `skeleton_replay.integrations.flask.install(app, out_dir="traces")`.

Wraps app.wsgi_app in SkeletonWSGI and listens to got_request_exception, so a view
that raises is recorded as an exception even when Flask answers 500 for it. Flask is
imported only when this module is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..capture.filters import find_project_root
from .tracer import current_request
from .wsgi import SkeletonWSGI


def install(app: Any, **kwargs: Any) -> SkeletonWSGI:
    """Trace selected requests of a Flask app; keyword arguments as for SkeletonWSGI.

    The header rule accepts a true value (X-Skeleton-Trace: 1) while app.debug is on; otherwise
    only the configured token (see docs/web.md#safe-setup).

    The project root defaults to the folder holding the app's project marker
    (pyproject.toml, setup.cfg, setup.py or .git) above app.root_path.
    """
    from flask import got_request_exception

    kwargs.setdefault("name", app.name)
    if "selection" not in kwargs:
        kwargs.setdefault("debug", lambda: app.debug)  # asked per request: `flask run --debug` sets it late
    options = kwargs.get("options")
    if kwargs.get("project_root") is None and (options is None or options.project_root is None):
        kwargs["project_root"] = find_project_root(Path(app.root_path) / "__init__.py")
    middleware = SkeletonWSGI(app.wsgi_app, **kwargs)
    app.wsgi_app = middleware
    got_request_exception.connect(_note_exception, app, weak=False)
    return middleware


def _note_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
    handle = current_request()
    if handle is not None:
        handle.note_exception(exception)
