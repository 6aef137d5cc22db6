"""One options object for the CLI and the Python API."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_EVENTS = 200_000  # about 130 MB of trace.jsonl (~650 bytes an event); later calls are counted


class UsageError(Exception):
    """Bad input from the user: one line, exit code 2."""


@dataclass
class Options:
    project_root: Path | None = None
    out_dir: Path | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_events: int = DEFAULT_MAX_EVENTS
    html: bool = True
    open_report: bool = False
    include_private: bool = False
    backend: str | None = None  # None = best available; "setprofile" forces the fallback
    secret_names: tuple[str, ...] = ()  # added to the default list
    quiet: bool = False
    harness_files: tuple[str, ...] = ()  # file name globs shown as the test harness (pytest runs)
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        if self.max_events < 0:
            raise UsageError(f"--max-events must be 0 (unlimited) or more, not {self.max_events}")
        if self.project_root is not None:
            root = Path(self.project_root)
            if not root.exists():
                raise UsageError(f"project root {root} does not exist; pass an existing folder to --project-root")
            if not root.is_dir():
                raise UsageError(f"project root {root} is not a folder; pass a folder to --project-root")
        if self.backend not in (None, "sysmon", "setprofile"):
            raise UsageError(f"unknown backend {self.backend!r}; use sysmon or setprofile")


def resolve_out_dir(explicit: Path | None, app_name: str, default: Path | None = None) -> Path:
    """--out-dir, then SKELETON_OUT_DIR, then SKELETON_HOME/<app>, then `default` or ~/.skeleton/<app>."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("SKELETON_OUT_DIR")
    if env:
        return Path(env)
    home = os.environ.get("SKELETON_HOME")
    if home:
        return Path(home) / app_name
    return default if default is not None else Path.home() / ".skeleton" / app_name


def prepare_out_dir(out_dir: Path) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".skeleton-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); choose another with --out-dir") from None
    return out_dir
