"""The capture of one run: recorder, backend and spill, started and stopped by the lifecycle (lifecycle.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .capture import Budget, Gate, NoFreeToolId, Recorder, forks, select_backend
from .capture.boundaries import Boundaries
from .capture.filters import CodeFilter, find_project_root
from .capture.records import SpillWriter
from .capture.summarise import DEFAULT_SECRET_NAMES, Summariser, utf8
from .options import Options, UsageError
from .pipeline import SPILL
from .runner import forget_sigterm


def summariser_for(opts: Options) -> Summariser:
    """The Summariser of a run with these options ([tool.skeleton] already merged): every summary,
    log line and folder name of the run redacts through one built this way."""
    return Summariser(
        secret_names=tuple(DEFAULT_SECRET_NAMES) + tuple(opts.secret_names), extra_value_patterns=opts.secret_patterns
    )


def project_root_for(opts: Options, anchor: Path) -> Path:
    """--project-root when given, else the nearest marker folder above the file being run."""
    return Path(opts.project_root).resolve() if opts.project_root else find_project_root(anchor)


def relative_to(path: Path, root: Path) -> str | None:
    """PATH relative to ROOT in POSIX form, or None when it is outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


class Capture:
    """Recorder + backend + spill for one run."""

    def __init__(
        self,
        opts: Options,
        root: Path,
        out_dir: Path,
        main_module: str,
        main_file: str | None,
        gate: Gate | None = None,
    ) -> None:
        self.opts = opts
        self.summariser = summariser_for(opts)
        self.filter = CodeFilter(
            root, opts.include, opts.exclude, opts.include_private, utf8(main_module), main_file, opts.harness_files
        )
        self.spill_path = out_dir / SPILL
        try:
            self.spill = SpillWriter(self.spill_path)
        except OSError as exc:
            raise UsageError(
                f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); choose another with --out-dir"
            ) from None
        budget = Budget(max_events=opts.max_events or (1 << 62))
        self.recorder = Recorder(self.filter, self.summariser, self.spill, budget)
        try:
            self.backend, self.reason = select_backend(self.recorder, opts.backend, gate)
        except ValueError as exc:
            self.spill.close()
            raise UsageError(str(exc)) from None
        self.boundaries = Boundaries(self.recorder, gate)  # I/O boundaries (capture/boundaries.py, lane L7)
        self.t_start = self.t_stop = 0.0
        self.pid = os.getpid()
        self.child = False  # this process is a forked copy of the traced one
        self.forks = self.mp_forks = 0  # os.fork() calls while tracing; those made by multiprocessing
        self.mp_processes = 0  # multiprocessing processes created while tracing (any start method)
        self._mp_before = 0

    @property
    def duration_s(self) -> float:
        """Seconds traced (0 for a capture whose start failed before tracing began)."""
        return max(0.0, self.t_stop - self.t_start) if self.t_start else 0.0

    def start(self) -> None:
        try:
            self.backend.start()
        except NoFreeToolId as exc:
            self.spill.close()
            raise UsageError(str(exc)) from None
        self._mp_before = forks.multiprocessing_processes()
        forks.watch(self)
        self.boundaries.start()
        self.t_start = time.perf_counter()

    def stop(self) -> None:
        self.t_stop = time.perf_counter()
        forks.unwatch(self)
        self.boundaries.stop()
        self.backend.stop()
        self.recorder.finish()
        self.spill.close()
        if not self.child:
            self.mp_processes = forks.multiprocessing_processes() - self._mp_before

    def discard(self) -> None:
        """A capture that will not be finished: close the spill (its folder is the caller's)."""
        self.spill.close()

    # -- os.fork: called by capture/forks.py ---------------------------------------
    def after_fork_parent(self, multiprocessing_fork: bool) -> None:
        self.forks += 1
        self.mp_forks += multiprocessing_fork

    def after_fork_child(self) -> None:
        self.child = True
        self.recorder.after_fork_child()
        try:
            self.backend.stop()
        except Exception:
            pass
        forget_sigterm()

    def gaps(self) -> list[dict[str, Any]]:
        gaps = [{"kind": g.kind, "message": g.message, "count": g.count} for g in self.recorder.gaps.values()]
        children = self.forks + max(0, self.mp_processes - self.mp_forks)  # spawn/forkserver do not fork us
        if children:
            gaps.append(
                {
                    "kind": "child_process",
                    "count": children,
                    "message": f"{children:,} child process{'es' if children != 1 else ''} (os.fork, "
                    "multiprocessing) ran untraced: only this process is traced",
                }
            )
        return gaps
