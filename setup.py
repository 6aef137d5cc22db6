"""Build of the optional C extensions (the tracer's fast paths, the post-processing's hot loops).

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
        # post-processing (issue 16): each has a pure-Python twin that writes the same bytes (native.py)
        Extension("skeleton_replay.events._decode", ["skeleton_replay/events/_decode.c"], optional=True),
        Extension("skeleton_replay.events._jsonw", ["skeleton_replay/events/_jsonw.c"], optional=True),
        Extension("skeleton_replay.model._aggregate", ["skeleton_replay/model/_aggregate.c"], optional=True),
        Extension("skeleton_replay.model._calltree", ["skeleton_replay/model/_calltree.c"], optional=True),
    ]
)
