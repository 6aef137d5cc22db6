"""How much request tracing may cost: a rate limit on traces and a disk quota on their folders.

RateLimit: at most `per_minute` traces start in any 60 seconds (per middleware); a selected
request past that runs untraced, and one warning is logged per window.
DiskQuota: after each traced request is written, the oldest request folders are removed until at
most `max_runs` folders and `max_bytes` bytes remain (the newest one always stays). Only folders
named as Skeleton names them are counted or removed; folders being written are left alone.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

DEFAULT_MAX_RUNS = 200
DEFAULT_MAX_BYTES = 500_000_000  # 500 MB
DEFAULT_MAX_PER_MINUTE = 30
WINDOW_S = 60.0
RUN_FOLDER = re.compile(r"\d{8}T\d{6}\.\d{3}Z-")  # request.folder_name()
COMPLETE = "session.json"  # written last: a folder holding it no longer grows

log = logging.getLogger("skeleton_replay.web")


def check_limit(name: str, value: object) -> int | None:
    """A positive whole number, or None (no limit)."""
    if value is None:
        return None
    if type(value) is not int or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, or None for no limit; not {value!r}")
    return value


class RateLimit:
    def __init__(self, per_minute: int | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = check_limit("max_per_minute", per_minute)
        self.clock = clock
        self._starts: collections.deque[float] = collections.deque()
        self._quiet_until = float("-inf")  # no further warning before this time
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """True (and counted) when one more trace may start now."""
        if self.per_minute is None:
            return True
        with self._lock:
            now = self.clock()
            starts = self._starts
            while starts and starts[0] <= now - WINDOW_S:
                starts.popleft()
            if len(starts) < self.per_minute:
                starts.append(now)
                return True
            return False

    def should_warn(self) -> bool:
        """Once per window of refusals: True for the first refused request, then quiet for 60 s."""
        with self._lock:
            now = self.clock()
            if now < self._quiet_until:
                return False
            self._quiet_until = now + WINDOW_S
            return True


def _size(folder: str) -> int:
    total = 0
    with os.scandir(folder) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                total += _size(entry.path)
            else:
                total += entry.stat(follow_symlinks=False).st_size
    return total


class DiskQuota:
    def __init__(self, folder: Path, max_runs: int | None, max_bytes: int | None) -> None:
        self.folder = folder
        self.max_runs = check_limit("max_runs", max_runs)
        self.max_bytes = check_limit("max_bytes", max_bytes)
        self._lock = threading.Lock()
        self._sizes: dict[str, int] = {}  # complete folders' sizes: each folder is measured once

    def _size(self, path: str) -> int:
        size = self._sizes.get(path)
        if size is None:
            size = _size(path)
            if os.path.exists(os.path.join(path, COMPLETE)):
                self._sizes[path] = size
        return size

    def prune(self, keep: Path, busy: Callable[[], set[str]]) -> int:
        """Remove the oldest run folders over the quota, never `keep` nor a busy one; how many were removed."""
        if self.max_runs is None and self.max_bytes is None:
            return 0
        with self._lock:
            runs = []
            with os.scandir(self.folder) as it:
                for entry in it:
                    if RUN_FOLDER.match(entry.name) and entry.is_dir(follow_symlinks=False):
                        runs.append((entry.name, entry.path))
            runs.sort()  # the names start with the UTC start time
            sizes = {path: self._size(path) for _, path in runs} if self.max_bytes is not None else {}
            self._sizes = {path: size for path, size in self._sizes.items() if path in sizes}
            total = sum(sizes.values())
            count = len(runs)
            removed = 0
            skip = busy() | {str(keep)}
            for _, path in runs:
                over_runs = self.max_runs is not None and count > self.max_runs
                over_bytes = self.max_bytes is not None and total > self.max_bytes
                if not (over_runs or over_bytes):
                    break
                if path in skip:
                    continue
                shutil.rmtree(path, ignore_errors=True)  # fd-based on Linux: a link inside is removed, not followed
                count -= 1
                total -= sizes.get(path, 0)
                removed += 1
            if removed:
                log.info(
                    "skeleton: removed the %d oldest traced request(s) from %s to stay within max_runs=%s, "
                    "max_bytes=%s",
                    removed,
                    self.folder,
                    self.max_runs,
                    self.max_bytes,
                )
            return removed
