"""Remove what an uninstalled Skeleton wheel left in this venv's site-packages, after an editable install replaced it.

Under pytest, Skeleton's modules are assertion-rewritten (it is a pytest plugin, and pytest rewrites every module
of a plugin's distribution), and pytest caches them as `__pycache__/*-pytest-*.pyc` beside the installed files.
`pip uninstall` (or an editable install replacing the wheel) does not know these files and leaves a
`skeleton_replay/` folder of caches with no `__init__.py`. Python then imports that folder as a namespace package
in front of the editable checkout: `No module named 'skeleton_replay.render.text'`. scripts/test.sh installs the
wheel and runs the tests against it, so `make test` then `make demo` met exactly this.

Usage: VENV/bin/python scripts/drop_stale_install.py   (removes the folder only when it has no __init__.py)
"""

from __future__ import annotations

import os
import shutil
import sysconfig

for key in ("purelib", "platlib"):
    folder = os.path.join(sysconfig.get_paths()[key], "skeleton_replay")
    if os.path.isdir(folder) and not os.path.exists(os.path.join(folder, "__init__.py")):
        shutil.rmtree(folder)
        print(f"setup: removed {folder} (pytest's caches left by an uninstalled wheel)")
