"""Open report.html in the user's browser without ever failing or hanging."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path


def can_open_browser() -> bool:
    if os.environ.get("CI") or os.environ.get("SKELETON_NO_BROWSER"):
        return False
    if sys.platform.startswith("linux") or sys.platform.startswith("freebsd"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def open_in_browser(path: Path, timeout: float = 5.0) -> bool:
    if not can_open_browser():
        return False
    result = [False]

    def worker() -> None:
        try:
            import webbrowser

            result[0] = bool(webbrowser.open(path.resolve().as_uri()))
        except Exception:
            result[0] = False

    t = threading.Thread(target=worker, name="skeleton-open-report", daemon=True)
    t.start()
    t.join(timeout)
    return result[0]
