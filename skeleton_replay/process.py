"""Is this process Skeleton's own (a `skeleton` command), or a host that imported Skeleton (a web server, a
user's pytest run, the Python API)? A command may change process-wide state a host must keep: what the host
froze out of its garbage collections (pipeline.no_cyclic_gc)."""

from __future__ import annotations

_OWN = [False]


def own_process() -> None:
    """This process runs a `skeleton` command (cli.main): nothing of a host to keep as it was."""
    _OWN[0] = True


def owns_process() -> bool:
    return _OWN[0]
