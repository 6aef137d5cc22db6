"""pytest plugin (entry point `pytest11`): `pytest --skeleton` records the run with Skeleton.

Every test is a scenario of one recording. Test files and conftest.py are traced as the
harness (role "harness"); pytest's own code lives in site-packages and is never traced.
Kept light: Skeleton's recording machinery is imported only when --skeleton is given
or the `skeleton_trace` fixture is used.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..options import DEFAULTS, KINDS, SPECS

if TYPE_CHECKING:
    from ..session import TracedBlock

PYTEST_OUT = (
    "$SKELETON_OUT_DIR, else a new folder per session in $SKELETON_HOME/pytest-<hash>/ or <rootdir>/.skeleton/pytest/"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("skeleton", "Skeleton runtime architecture recording")
    g.addoption(
        "--skeleton",
        action="store_true",
        default=False,
        help="Record the run with Skeleton: each test is a scenario (artifacts in .skeleton/pytest/<time>/).",
    )
    for name, spec in SPECS.items():  # the options table (options.py): the flags `skeleton pytest` takes too
        if spec.pytest_flag is None:
            continue
        text = spec.help.format(root="pytest's rootdir", out=PYTEST_OUT)
        kind, dest = KINDS[name], f"skeleton_opt_{name}"
        if kind == "bool":
            g.addoption(spec.pytest_flag, dest=dest, action="store_true", default=False, help=text)
        elif kind == "strings":
            g.addoption(spec.pytest_flag, dest=dest, action="append", default=[], metavar=spec.metavar, help=text)
        elif kind == "int":
            default = getattr(DEFAULTS, name)
            g.addoption(
                spec.pytest_flag,
                dest=dest,
                type=int,
                default=default,
                metavar=spec.metavar,
                help=f"{text.rstrip('.')} (default {default:,}).",
            )
        else:
            g.addoption(spec.pytest_flag, dest=dest, default=None, metavar=spec.metavar, help=text)


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("skeleton", False):
        return
    from ..options import UsageError, options_from_flags
    from .pytest_recording import STASH, SkeletonPytest

    plugins = config.pluginmanager.get_plugins()
    if config.stash.get(STASH, None) is not None or any(isinstance(p, SkeletonPytest) for p in plugins):
        return  # `skeleton pytest` registered its own instance
    if hasattr(config, "workerinput"):  # a pytest-xdist worker
        return
    opts = options_from_flags(
        {name: config.getoption(f"skeleton_opt_{name}") for name, spec in SPECS.items() if spec.pytest_flag is not None}
    )
    try:
        opts.validate(pytest_flags=True)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    plugin = SkeletonPytest(opts, announce=True)
    config.pluginmanager.register(plugin, "skeleton-recording")  # pytest calls its pytest_configure


@pytest.fixture
def skeleton_trace(request: pytest.FixtureRequest) -> Callable[..., contextlib.AbstractContextManager[TracedBlock]]:
    """Trace a block inside a test, with the test's fixtures and monkeypatches active:

        def test_checkout(skeleton_trace, cart):
            with skeleton_trace("checkout") as run:
                cart.checkout()
            run.result.snapshot_path   # a RunResult once the block is done

    Artifacts go to <rootdir>/.skeleton/pytest/<test>/<label>/ (or out_dir=...). Under
    `pytest --skeleton` the whole test is already a scenario of the session's recording:
    the block is not recorded separately and run.result is None (run.session is True).
    """
    from .pytest_recording import STASH

    session_recording = request.config.stash.get(STASH, None)

    @contextlib.contextmanager
    def block(label: str = "block", **options: Any) -> Iterator[TracedBlock]:
        from ..session import TracedBlock, trace

        if session_recording is not None and session_recording.live is not None:
            yield TracedBlock(session_recording.live.recorder, None, session=True)
            return
        from ..capture.filters import HARNESS_FILES
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
