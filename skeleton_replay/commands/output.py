"""Where `skeleton diff` and `skeleton export` write: stdout, or a file given with --output."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..options import UsageError


def emit(text: str, output: Path | None) -> None:
    """Write text to the file (atomically, never through a planted link) or to stdout."""
    if output is None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:  # `skeleton export ... | head`: the reader left; nothing to report
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return
    from ..safefiles import write_atomic

    if output.is_dir():
        raise UsageError(f"--output {output} is a folder; give a file name")
    if not output.parent.is_dir():
        raise UsageError(f"--output {output}: folder {output.parent} does not exist; create it first")
    try:
        write_atomic(output, text)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
