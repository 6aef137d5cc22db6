"""pytest plugin (entry point `pytest11`): `pytest --skeleton` records the run with Skeleton.

Every test is a scenario of one recording. Test files and conftest.py are traced as the
harness (role "harness"); pytest's own code lives in site-packages and is never traced.
Kept light: Skeleton's recording machinery is imported only when --skeleton is given
or the `skeleton_trace` fixture is used.
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

from ..options import DEFAULT_MAX_EVENTS


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("skeleton", "Skeleton runtime architecture recording")
    g.addoption("--skeleton", action="store_true", default=False,
                help="Record the run with Skeleton: each test is a scenario (artifacts in .skeleton/pytest/<time>/).")
    g.addoption("--skeleton-out", metavar="DIR", default=None,
                help="Where Skeleton's artifacts go (default: $SKELETON_OUT_DIR, else a new folder per session in "
                     "$SKELETON_HOME/pytest-<hash>/ or <rootdir>/.skeleton/pytest/).")
    g.addoption("--skeleton-max-events", metavar="N", type=int, default=DEFAULT_MAX_EVENTS,
                help=f"Record at most N events (0 = unlimited); later calls are counted (default {DEFAULT_MAX_EVENTS:,}).")
    g.addoption("--skeleton-no-html", action="store_true", default=False, help="Do not write report.html.")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("skeleton", False):
        return
    from ..options import Options
    from .pytest_recording import STASH, SkeletonPytest

    if config.stash.get(STASH, None) is not None or any(isinstance(p, SkeletonPytest) for p in config.pluginmanager.get_plugins()):
        return  # `skeleton pytest` registered its own instance
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        return
    out = config.getoption("skeleton_out")
    max_events = config.getoption("skeleton_max_events")
    if max_events < 0:
        raise pytest.UsageError(f"--skeleton-max-events must be 0 (unlimited) or more, not {max_events}")
    opts = Options(out_dir=Path(out) if out else None, max_events=max_events, html=not config.getoption("skeleton_no_html"))
    plugin = SkeletonPytest(opts, announce=True)
    config.pluginmanager.register(plugin, "skeleton-recording")  # pytest calls its pytest_configure


@pytest.fixture
def skeleton_trace(request: pytest.FixtureRequest) -> Callable[..., contextlib.AbstractContextManager[dict]]:
    """Trace a block inside a test, with the test's fixtures and monkeypatches active:

        def test_checkout(skeleton_trace, cart):
            with skeleton_trace("checkout") as run:
                cart.checkout()
            run["result"].snapshot_path   # a RunResult once the block is done

    Artifacts go to <rootdir>/.skeleton/pytest/<test>/<label>/ (or out_dir=...). Under
    `pytest --skeleton` the whole test is already a scenario of the session's recording:
    the block is not recorded separately and run["result"] is None.
    """
    from .pytest_recording import STASH

    session_recording = request.config.stash.get(STASH, None)

    @contextlib.contextmanager
    def block(label: str = "block", **options) -> Iterator[dict]:
        if session_recording is not None and session_recording.live is not None:
            yield {"result": None, "session": True}
            return
        from ..capture.filters import HARNESS_FILES
        from ..session import trace
        from .pytest_recording import DEFAULT_OUT

        root = Path(request.config.rootpath)
        options.setdefault("out_dir", root / DEFAULT_OUT / _slug(request.node.nodeid) / _slug(label))
        options.setdefault("project_root", root)
        options.setdefault("harness_files", HARNESS_FILES)
        with trace(name=label, scenario=f"{request.node.nodeid}::{label}", **options) as run:
            yield run

    return block


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "x"
