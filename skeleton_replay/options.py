"""One options object for the CLI and the Python API."""
from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runs import Budget

DEFAULT_MAX_EVENTS = 200_000  # about 130 MB of trace.jsonl (~650 bytes an event); later calls are counted
MAX_EVENTS_LIMIT = 1 << 62  # the spill and the decoder count in 64-bit integers


_type = type


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
    secret_patterns: tuple[str, ...] = ()  # regexes: a matching str value is redacted (added to the built-in ones)
    quiet: bool = False
    harness_files: tuple[str, ...] = ()  # file name globs shown as the test harness (pytest runs)
    extra: dict = field(default_factory=dict)

    def validate(self) -> None:
        """Every value checked, for the CLI and the Python API alike: one UsageError line each."""
        if _type(self.max_events) is not int:
            raise UsageError(f"--max-events must be a whole number, not {self.max_events!r}")
        if self.max_events < 0:
            raise UsageError(f"--max-events must be 0 (unlimited) or more, not {self.max_events}")
        if self.max_events > MAX_EVENTS_LIMIT:
            raise UsageError(f"--max-events {self.max_events} is too large (at most {MAX_EVENTS_LIMIT}); use 0 for unlimited")
        for flag, name in (("--include", "include"), ("--exclude", "exclude"), ("--secret-name", "secret_names"),
                           ("--secret-pattern", "secret_patterns")):
            values = getattr(self, name)
            if isinstance(values, str):  # one pattern given as a plain string (Python API)
                values = (values,)
            if not isinstance(values, (tuple, list)) or not all(isinstance(v, str) for v in values):
                raise UsageError(f"{flag} takes strings; got {values!r}")
            if any(not v.strip() for v in values):
                raise UsageError(f"{flag} must not be empty; give a {'word' if name == 'secret_names' else 'pattern'}")
            setattr(self, name, tuple(values))
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise UsageError(f"{both[0]!r} is given to both --include and --exclude; keep it in one of them")
        for pattern in self.secret_patterns:
            check_pattern(pattern, "--secret-pattern")
        for flag, name in (("--project-root", "project_root"), ("--out-dir", "out_dir")):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, os.PathLike)):
                raise UsageError(f"{flag} must be a folder path, not {value!r}")
            if value is not None and not os.fspath(value).strip():
                raise UsageError(f"{flag} must not be empty; give a folder")
            if value is not None:
                setattr(self, name, Path(value))
        for name in ("html", "open_report", "include_private"):
            if not isinstance(getattr(self, name), bool):
                raise UsageError(f"{name} must be True or False, not {getattr(self, name)!r}")
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


def run_out_dir(explicit: Path | None, app_name: str, target: str, root: Path, default: Path | None = None) -> Path:
    """The folder a new run writes to.

    --out-dir, then $SKELETON_OUT_DIR: that folder, as it is (every run writes there). Otherwise a new
    run folder of its own (runs.py): $SKELETON_HOME/<app>-<hash>/<time>/, else
    `default`/<time>/ when given (pytest: <rootdir>/.skeleton/pytest), else ~/.skeleton/<app>-<hash>/<time>/,
    made after the oldest runs over the budget ($SKELETON_KEEP_RUNS / _SIZE, [tool.skeleton] keep_runs /
    keep_size of ROOT's pyproject.toml) were removed. `target` is the absolute path of what runs (the
    hash keeps `app.py` and `other/app.py` apart) and is shown by `skeleton runs`."""
    if explicit is not None:
        return Path(explicit)
    env = os.environ.get("SKELETON_OUT_DIR")
    if env:
        return Path(env)
    from . import runs
    budget = run_budget(root)
    if default is not None and not os.environ.get("SKELETON_HOME"):
        app_dir, scope = Path(default), Path(default).parent
    else:
        scope = runs.home_folder()
        app_dir = scope / runs.app_folder_name(app_name, target)
    try:
        folder = runs.new_run(app_dir, app_name, target)
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {app_dir} ({exc.strerror or exc}); "
                         "choose another with --out-dir") from None
    runs.prune(scope, budget, app_dir, keep=folder)
    return folder


def run_budget(root: Path | None) -> Budget:
    """How many runs, and how many bytes of runs, the Skeleton home keeps (env, then [tool.skeleton], then defaults)."""
    from . import runs
    table = tool_table(root) if root is not None else {}
    try:
        return runs.budget_from(os.environ, {k: table[k] for k in RUN_KEYS if k in table})
    except runs.BudgetError as exc:
        where = f"{Path(root) / 'pyproject.toml'}: " if str(exc).startswith("[tool") else ""
        raise UsageError(f"{where}{exc}") from None


def prepare_out_dir(out_dir: Path) -> Path:
    """out_dir, created private (0700) if missing, after a probe file could be created in it."""
    from . import safefiles
    try:
        safefiles.make_dirs(out_dir)
        safefiles.check_writable(out_dir)
    except OSError as exc:
        raise UsageError(f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); choose another with --out-dir") from None
    return out_dir


def check_pattern(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{where} {pattern!r} is not a valid regular expression ({exc}); fix it "
                         "(Python 're' syntax)") from None


CONFIG_KEYS = ("secret_names", "secret_patterns")
RUN_KEYS = ("keep_runs", "keep_size")  # the run folders' budget (run_budget, runs.py)
OTHER_KEYS = ("rules",) + RUN_KEYS  # read by other commands: `skeleton check` (rules/load.py)


def project_config(root: Path) -> dict[str, tuple[str, ...]]:
    """[tool.skeleton] of ROOT/pyproject.toml: {"secret_names": (...), "secret_patterns": (...)}."""
    path = Path(root) / "pyproject.toml"
    table = tool_table(root)
    if not table:
        return {}
    unknown = sorted(set(table) - set(CONFIG_KEYS) - set(OTHER_KEYS))
    if unknown:
        known = ", ".join(CONFIG_KEYS + RUN_KEYS + ("rules",))
        raise UsageError(f"{path}: unknown key {unknown[0]!r} in [tool.skeleton]; known keys: {known}")
    out: dict[str, tuple[str, ...]] = {}
    for key in CONFIG_KEYS:
        values = table.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise UsageError(f"{path}: [tool.skeleton] {key} must be a list of non-empty strings, not {values!r}")
        if key == "secret_patterns":
            for v in values:
                check_pattern(v, f"{path}: [tool.skeleton] secret_patterns:")
        out[key] = tuple(values)
    return out


def tool_table(root: Path) -> dict:
    """The [tool.skeleton] table of ROOT/pyproject.toml ({} when there is none)."""
    path = Path(root) / "pyproject.toml"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror or exc}); check its permissions") from None
    if b"skeleton" not in raw:
        return {}  # no [tool.skeleton] table: do not insist that someone else's file is valid TOML
    import tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}); fix it to use [tool.skeleton]") from None
    table = data.get("tool", {}).get("skeleton", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise UsageError(f"{path}: [tool.skeleton] must be a table")
    return table


def with_project_config(opts: Options, root: Path) -> Options:
    """The options with [tool.skeleton]'s redaction settings added (the caller's own come last)."""
    cfg = project_config(root)
    if not cfg:
        return opts
    return dataclasses.replace(opts, secret_names=cfg["secret_names"] + tuple(opts.secret_names),
                               secret_patterns=cfg["secret_patterns"] + tuple(opts.secret_patterns))
