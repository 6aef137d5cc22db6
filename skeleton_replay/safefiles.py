"""Private, symlink-safe creation of every file Skeleton writes (docs/safety.md#files).

An output folder may be writable by others (a shared project folder, /tmp): any name in it may
already be a symbolic link or a hard link to a file elsewhere. So Skeleton never opens a name
that may exist for writing:
- whole files (snapshot.json, report.html, ...) go to a new temporary with a random name,
  created with O_CREAT|O_EXCL|O_NOFOLLOW, which is then renamed over the final name (a rename
  replaces a planted link; it never writes through it);
- files written in place (the spill, trace.jsonl.partial, logs) are created with O_EXCL after
  whatever had their name (a planted link, a stale file) is removed.
Files are created 0600 and folders 0700 (less what the umask removes): traces hold program data.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700
TMP_SUFFIX = ".tmp"  # every temporary's name ends with it (pipeline.remove_partial_files)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def create(path: str | os.PathLike[str]) -> int:
    """A new private file at path, open for writing (a file descriptor).

    What had that name is unlinked first (a link is removed, never followed); if someone
    puts a new entry there in between, this fails instead of writing through it."""
    try:
        return os.open(path, _NEW, FILE_MODE)
    except FileExistsError:
        os.unlink(path)  # a folder there raises (IsADirectoryError): not ours to remove
        return os.open(path, _NEW, FILE_MODE)


def open_new(path: str | os.PathLike[str], buffering: int = -1) -> BinaryIO:
    """create(path) as a binary file object."""
    fd = create(path)
    try:
        return os.fdopen(fd, "wb", buffering=buffering)
    except BaseException:
        os.close(fd)
        raise


def temp_name(path: Path) -> Path:
    """A random hidden name next to path: .<name>.<random>.tmp"""
    # os.urandom is what secrets.token_hex draws from; importing secrets (hmac, hashlib, OpenSSL) cost every run
    # ~19 M instructions
    return path.with_name(f".{path.name}.{os.urandom(6).hex()}{TMP_SUFFIX}")


def _new_temp(path: Path) -> tuple[Path, int]:
    for _ in range(100):
        tmp = temp_name(path)
        try:
            return tmp, os.open(tmp, _NEW, FILE_MODE)
        except FileExistsError:  # 48 random bits taken: someone is guessing; draw again
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def write_atomic(path: str | os.PathLike[str], data: bytes | str | Iterable[bytes]) -> Path:
    """Write a whole file: a private temporary, then a rename over path. Never follows a link at
    path; on failure the temporary is removed and the error names path. Parts (a list, or an iterator
    that makes them as they are written) are written one after the other (a big file is never joined
    in memory)."""
    path = Path(path)
    if isinstance(data, str):
        parts: Iterable[bytes] = [data.encode("utf-8")]
    elif isinstance(data, (bytes, bytearray)):
        parts = [data]
    else:
        parts = data
    try:
        tmp, fd = _new_temp(path)
    except OSError as exc:
        exc.filename = exc.filename or str(path)
        raise
    try:
        with os.fdopen(fd, "wb") as f:
            for part in parts:
                f.write(part)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)
        raise
    return path


def make_dirs(path: str | os.PathLike[str]) -> Path:
    """path and its missing parents, each created 0700; folders that exist keep their mode."""
    path = Path(path)
    missing = []
    p = path
    while not p.is_dir():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            if not d.is_dir():
                raise
    return path


def check_writable(folder: str | os.PathLike[str]) -> None:
    """Raise OSError when no file can be created in folder (a probe with a random name)."""
    tmp, fd = _new_temp(Path(folder) / ".skeleton-write-test")
    os.close(fd)
    os.unlink(tmp)
