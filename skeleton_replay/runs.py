"""Run folders: one folder per run under the Skeleton home, a `latest` link, a disk budget (docs/cli.md#output-folder).

When no --out-dir (nor $SKELETON_OUT_DIR) is given, every run gets a folder of its own:

    <home>/<app>-<hash>/<YYYYmmdd-HHMMSS>[-n]/     the run's artifacts and its .skeleton-run marker
    <home>/<app>-<hash>/latest                     a symbolic link to the newest run folder
                                                   (a text file naming it where links cannot be made)

<home> is $SKELETON_HOME, else ~/.skeleton. <app> is the script's stem (or the module's name) and
<hash> 8 hex digits of a hash of the target's absolute path, so `app.py` and `other/app.py` never
share a folder. The time is UTC, when the run started; `-2`, `-3`... when two runs start in the
same second. At the start of each run the oldest runs are removed until at most `keep_runs` runs
of that app and `keep_size` bytes of runs in the whole home remain. Only folders that are run
folders (the name, a real folder, the marker file) are ever counted or removed, never the run
being written nor one whose process still runs. Pure helpers: no printing, no click.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import orjson

from . import safefiles

MARKER = ".skeleton-run"  # written first in every run folder: what makes a folder a run folder
LATEST = "latest"
SESSION = "session.json"  # written last: the run is complete
RUN_NAME = re.compile(r"\d{8}-\d{6}(?:-([1-9]\d{0,5}))?")
MARKER_FORMAT = 1
DEFAULT_KEEP_RUNS = 20  # per app folder
DEFAULT_KEEP_SIZE = 1_000_000_000  # bytes of run folders in the whole home (1 GB)
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


class BudgetError(ValueError):
    """A keep_runs / keep_size value that is not valid (the message names it and says what to give)."""


@dataclass(frozen=True)
class Budget:
    keep_runs: int = DEFAULT_KEEP_RUNS  # 0: no limit
    keep_size: int = DEFAULT_KEEP_SIZE  # 0: no limit


class RunJSON(TypedDict):
    """One run in `skeleton runs --json` (Run.as_json)."""

    path: str
    app: str
    started_at: str | None
    target: str | None
    status: str
    exit_code: int | None
    events: int | None
    size: int
    latest: bool
    report: str | None


@dataclass
class Run:
    path: Path
    app: str  # the app's name (script stem or module)
    started_at: str | None  # UTC, ISO 8601
    target: str | None
    status: str  # the session's status, or "running" / "unfinished" (no session.json yet)
    exit_code: int | None
    events: int | None
    size: int
    latest: bool = False
    report: str | None = None
    pid: int | None = None

    def as_json(self) -> RunJSON:
        return {
            "path": str(self.path),
            "app": self.app,
            "started_at": self.started_at,
            "target": self.target,
            "status": self.status,
            "exit_code": self.exit_code,
            "events": self.events,
            "size": self.size,
            "latest": self.latest,
            "report": self.report,
        }


# -- where -------------------------------------------------------------------------------
def home_folder(environ: Mapping[str, str] = os.environ) -> Path:
    """$SKELETON_HOME, else ~/.skeleton."""
    home = environ.get("SKELETON_HOME")
    return Path(home) if home else Path.home() / ".skeleton"


def app_folder_name(app_name: str, anchor: str | os.PathLike[str]) -> str:
    """`<app>-<8 hex>`: the app's name made safe for a folder, and a hash of the target's absolute path."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", app_name).strip("._")[:40] or "app"
    digest = hashlib.sha256(os.fsencode(os.path.abspath(os.fspath(anchor)))).hexdigest()[:8]
    return f"{stem}-{digest}"


def run_name(now: _dt.datetime, n: int = 1) -> str:
    stamp = now.astimezone(_dt.UTC).strftime("%Y%m%d-%H%M%S")
    return stamp if n == 1 else f"{stamp}-{n}"


def _sort_key(path: Path, started_at: object = None) -> tuple[str, int, str]:
    """Oldest first: the start time (the marker's, to the millisecond; else the folder name's), then -n."""
    m = RUN_NAME.fullmatch(path.name)
    n = path.name
    when = (
        started_at
        if isinstance(started_at, str) and started_at[:4].isdigit()
        else f"{n[0:4]}-{n[4:6]}-{n[6:8]}T{n[9:11]}:{n[11:13]}:{n[13:15]}"
    )
    return (when, int(m.group(1)) if m and m.group(1) else 1, str(path))


def _started(path: Path) -> object:
    return (_read_json(path / MARKER) or {}).get("started_at")


# -- a new run -----------------------------------------------------------------------------
def new_run(app_dir: Path, app_name: str, target: str, now: _dt.datetime | None = None) -> Path:
    """Create app_dir/<UTC time>[-n]/ (0700) with its marker, and point app_dir/latest at it."""
    now = now or _dt.datetime.now(_dt.UTC)
    safefiles.make_dirs(app_dir)
    if app_dir.is_symlink():
        raise OSError(f"{app_dir} is a symbolic link; Skeleton makes run folders only in a real folder")
    for n in range(1, 10_000):
        folder = app_dir / run_name(now, n)
        try:
            os.mkdir(folder, safefiles.DIR_MODE)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free run folder name in {app_dir}")
    marker = {
        "format": MARKER_FORMAT,
        "app": _utf8(app_name),
        "target": _utf8(target),
        "pid": os.getpid(),
        "started_at": now.astimezone(_dt.UTC).isoformat(timespec="milliseconds"),
    }
    safefiles.write_atomic(folder / MARKER, orjson.dumps(marker) + b"\n")
    set_latest(app_dir, folder.name)
    return folder


def _utf8(text: str) -> str:
    """Undecodable bytes of a path (surrogate escapes) as U+FFFD: JSON needs UTF-8."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def set_latest(app_dir: Path, name: str) -> None:
    """app_dir/latest -> name (a relative link, replaced atomically); a text file where links fail.
    A real folder or file named `latest` that Skeleton did not make is left alone."""
    latest = app_dir / LATEST
    if latest.exists() and not latest.is_symlink() and not _is_latest_file(latest):
        return
    tmp = safefiles.temp_name(latest)
    try:
        os.symlink(name, tmp)
    except OSError:  # no symbolic links here (some file systems, Windows without the privilege)
        with contextlib.suppress(OSError):
            safefiles.write_atomic(latest, name + "\n")
        return
    try:
        os.replace(tmp, latest)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _is_latest_file(path: Path) -> bool:
    """A small text file naming a run folder (the fallback for a link)."""
    try:
        return path.is_file() and path.stat().st_size < 64 and RUN_NAME.fullmatch(path.read_text().strip()) is not None
    except (OSError, UnicodeDecodeError):
        return False


def latest_name(app_dir: Path) -> str | None:
    """The run folder name app_dir/latest points to (link or text file), else None."""
    latest = app_dir / LATEST
    try:
        name = os.readlink(latest) if latest.is_symlink() else latest.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if RUN_NAME.fullmatch(name) else None


# -- what is a run -------------------------------------------------------------------------
def is_run(path: Path) -> bool:
    """A run folder: a real folder named as Skeleton names runs, holding a regular marker file."""
    try:
        return (
            RUN_NAME.fullmatch(path.name) is not None
            and not path.is_symlink()
            and path.is_dir()
            and (path / MARKER).is_file()
            and not (path / MARKER).is_symlink()
        )
    except OSError:
        return False


def _real_dirs(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def run_folders(folder: Path) -> list[Path]:
    """The run folders in folder: folder itself, its children, or its grandchildren (a home's app folders)."""
    folder = Path(folder)
    if is_run(folder):
        return [folder]
    found = []
    for child in _real_dirs(folder):
        if is_run(child):
            found.append(child)
        elif RUN_NAME.fullmatch(child.name) is None:
            found.extend(c for c in _real_dirs(child) if is_run(c))
    return found


def folder_size(folder: str | os.PathLike[str]) -> int:
    """Bytes of the files in folder and below (links are not followed)."""
    total = 0
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        total += folder_size(entry.path)
                    else:
                        total += entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue
    except OSError:
        pass
    return total


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: object) -> bool:
    if type(pid) is not int or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists (another user's)
        return True
    return True


def describe(path: Path) -> Run:
    """What `skeleton runs` shows of one run folder (marker + session.json)."""
    marker = _read_json(path / MARKER) or {}
    session = _read_json(path / SESSION)
    app = _str(marker.get("app"))
    target = _str(marker.get("target"))
    status, code, events, report = ("running" if _alive(marker.get("pid")) else "unfinished"), None, None, None
    if session is not None:
        status = str(session.get("status") or "ok")
        code = _int(session.get("exit_code"))
        events = _int(_dict(session.get("metrics")).get("events"))
        report = _str(_dict(session.get("artifacts")).get("report"))
        tgt = _dict(session.get("target"))
        if tgt.get("kind") == "module" and isinstance(tgt.get("path"), str):
            target = f"-m {tgt['path']}"
    started = _str(marker.get("started_at"))
    pid = _int(marker.get("pid"))
    latest = latest_name(path.parent) == path.name
    return Run(
        path,
        app if app is not None else path.parent.name,
        started,
        target,
        status,
        code,
        events,
        folder_size(path),
        latest,
        report,
        pid,
    )


# What session.json and the marker hold was written by some Skeleton, maybe another version: typed on reading.
def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    """An int (not a bool)."""
    return value if type(value) is int else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def list_runs(folder: Path) -> list[Run]:
    """The runs in folder (a home, an app folder or one run), newest first."""
    runs = [describe(p) for p in run_folders(folder)]
    runs.sort(key=lambda r: _sort_key(r.path, r.started_at), reverse=True)
    return runs


# -- the budget ----------------------------------------------------------------------------
def parse_size(value: object, where: str) -> int:
    """Bytes from 1000000, "500MB", "1 GB", "2GiB"; 0 means no limit."""
    if type(value) is int and value >= 0:
        return value
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", value) if isinstance(value, str) else None
    unit = _UNITS.get(m.group(2).lower()) if m else None
    if m is None or unit is None:
        raise BudgetError(f"{where} must be a size such as 500MB, 1GB or 2GiB (0 for no limit), not {value!r}")
    return int(float(m.group(1)) * unit)


def parse_count(value: object, where: str) -> int:
    if type(value) is int and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise BudgetError(f"{where} must be a whole number of runs (0 for no limit), not {value!r}")


def budget_from(environ: Mapping[str, str], config: Mapping[str, object]) -> Budget:
    """$SKELETON_KEEP_RUNS / $SKELETON_KEEP_SIZE, else [tool.skeleton] keep_runs / keep_size, else the defaults."""
    runs, size = DEFAULT_KEEP_RUNS, DEFAULT_KEEP_SIZE
    if "keep_runs" in config:
        runs = parse_count(config["keep_runs"], "[tool.skeleton] keep_runs")
    if "keep_size" in config:
        size = parse_size(config["keep_size"], "[tool.skeleton] keep_size")
    if environ.get("SKELETON_KEEP_RUNS"):
        runs = parse_count(environ["SKELETON_KEEP_RUNS"], "SKELETON_KEEP_RUNS")
    if environ.get("SKELETON_KEEP_SIZE"):
        size = parse_size(environ["SKELETON_KEEP_SIZE"], "SKELETON_KEEP_SIZE")
    return Budget(runs, size)


def prune(scope: Path, budget: Budget, app_dir: Path | None = None, keep: Path | None = None) -> list[Path]:
    """Remove the oldest runs until app_dir holds at most keep_runs runs (every app folder in scope
    when app_dir is None) and scope at most keep_size bytes of runs. Never `keep`, a run whose
    process still runs, or anything that is not a run folder. Returns the removed folders."""
    every = run_folders(scope)
    if app_dir is not None and Path(app_dir).parent != Path(scope):  # an app folder outside scope (pytest)
        every += [p for p in run_folders(app_dir) if p not in every]
    oldest_first = sorted(every, key=lambda p: _sort_key(p, _started(p)))
    spare = {str(keep)} if keep is not None else set()

    def removable(p: Path) -> bool:
        if str(p) in spare:
            return False
        if (p / SESSION).exists():
            return True
        return not _alive((_read_json(p / MARKER) or {}).get("pid"))  # killed runs go; running ones stay

    removed: list[Path] = []

    def remove(p: Path) -> None:
        shutil.rmtree(p, ignore_errors=True)  # fd-based on Linux: a link inside is removed, not followed
        removed.append(p)

    if budget.keep_runs:
        groups: dict[Path, list[Path]] = {}
        for p in oldest_first:
            if app_dir is None or p.parent == Path(app_dir):
                groups.setdefault(p.parent, []).append(p)
        for runs in groups.values():
            extra = len(runs) - budget.keep_runs
            for p in runs:
                if extra <= 0:
                    break
                if removable(p):
                    remove(p)
                    extra -= 1
    if budget.keep_size:
        left = [p for p in oldest_first if p not in removed]
        sizes = {p: folder_size(p) for p in left}
        total = sum(sizes.values())
        for p in left:
            if total <= budget.keep_size:
                break
            if removable(p):
                remove(p)
                total -= sizes[p]
    for folder in {p.parent for p in removed}:
        _repoint_latest(folder, [p for p in oldest_first if p.parent == folder and p not in removed])
    return removed


def _repoint_latest(app_dir: Path, left: list[Path]) -> None:
    """A `latest` that named a removed run names the newest run left (or goes): never a dangling link."""
    name = latest_name(app_dir)
    if name is None or (app_dir / name).is_dir():
        return
    if left:
        set_latest(app_dir, left[-1].name)
    else:
        with contextlib.suppress(OSError):
            os.unlink(app_dir / LATEST)
