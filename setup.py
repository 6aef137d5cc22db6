"""Build of the optional C fast paths (skeleton_replay/capture/_speedups.c, _audit.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be
compiled (no compiler, no Python headers) the package installs without it and the
tracer runs its pure-Python callbacks, which write the same trace, only slower.
"""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "skeleton_replay.capture._speedups",
            ["skeleton_replay/capture/_speedups.c"],
            optional=True,
        ),
        Extension(  # the I/O boundaries' audit hook, filtering events in C (capture/boundaries.py)
            "skeleton_replay.capture._audit",
            ["skeleton_replay/capture/_audit.c"],
            optional=True,
        ),
    ]
)
