"""One options object for the CLI and the Python API."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runs import Budget

DEFAULT_MAX_EVENTS = 200_000  # about 130 MB of trace.jsonl (~650 bytes an event); later calls are counted
MAX_EVENTS_LIMIT = 1 << 62  # the spill and the decoder count in 64-bit integers
BACKENDS = ("sysmon", "setprofile")


_type = type


class UsageError(Exception):
    """Bad input from the user: one line, exit code 2."""


@dataclass(frozen=True)
class OptionSpec:
    """How one Options field is given: everything but its name, type and default (the field's own).

    The command-line flag, the pytest flag, validation, the [tool.skeleton] key and the rebuilt command
    line (option_argv) are all derived from these (OPTIONS)."""

    help: str = ""  # may use {root} and {out}: the command's defaults (cli.py fills them in)
    flag: str | None = None  # the `skeleton run` / `skeleton pytest` flag; None: Python API only
    pytest_flag: str | None = None  # the `pytest --skeleton` plugin's flag
    config_key: str | None = None  # [tool.skeleton] key: its values come before the caller's own
    metavar: str | None = None
    sets: bool = True  # a switch (bool field): the value the flag sets (False for --no-html)
    choices: tuple[str, ...] = ()
    hidden: bool = False  # not in --help (debugging aids)
    regex: bool = False  # every value must compile (Python re syntax)
    commands: tuple[str, ...] = ("run", "pytest")  # the CLI commands that take the flag
    show_default: bool = False


def _opt(default: Any = None, **spec: Any) -> Any:
    """A dataclass field (dataclasses.field) carrying its OptionSpec; defaults are immutable values."""
    return field(default=default, metadata={"option": OptionSpec(**spec)})


@dataclass
class Options:
    """Every option of a traced run, declared once: add a field with _opt(...) and the CLI flag, the
    pytest flag, validation, the [tool.skeleton] key and the reproducing command line follow."""

    # (RUF009: _opt is dataclasses.field with metadata, not a shared mutable default)
    project_root: Path | None = _opt(
        None,
        flag="--project-root",
        pytest_flag="--skeleton-project-root",
        metavar="DIR",
        help="Folder whose code is traced (default: {root}).",
    )
    out_dir: Path | None = _opt(
        None,
        flag="--out-dir",
        pytest_flag="--skeleton-out",
        metavar="DIR",
        help="Where artifacts go (default: {out}).",
    )
    include: tuple[str, ...] = _opt(
        (),
        flag="--include",
        pytest_flag="--skeleton-include",
        metavar="PATTERN",
        help="Trace only code matching this glob (path relative to the root, or dotted module). Repeatable.",
    )
    exclude: tuple[str, ...] = _opt(
        (),
        flag="--exclude",
        pytest_flag="--skeleton-exclude",
        metavar="PATTERN",
        help="Do not trace code matching this glob. Repeatable.",
    )
    max_events: int = _opt(
        DEFAULT_MAX_EVENTS,
        flag="--max-events",
        pytest_flag="--skeleton-max-events",
        metavar="N",
        show_default=True,
        help="Record at most N events (0 = unlimited); later calls are still counted on edges.",
    )
    include_private: bool = _opt(
        False,
        flag="--include-private",
        pytest_flag="--skeleton-include-private",
        help="Also trace _private callables (marked internal).",
    )
    html: bool = _opt(
        True, flag="--no-html", pytest_flag="--skeleton-no-html", sets=False, help="Do not write report.html."
    )
    open_report: bool = _opt(False, flag="--no-open", sets=False, help="Do not open report.html in the browser.")
    secret_names: tuple[str, ...] = _opt(
        (),
        flag="--secret-name",
        pytest_flag="--skeleton-secret-name",
        config_key="secret_names",
        metavar="WORD",
        help="Also redact arguments and keys whose name contains WORD. Repeatable.",
    )
    secret_patterns: tuple[str, ...] = _opt(
        (),
        flag="--secret-pattern",
        pytest_flag="--skeleton-secret-pattern",
        config_key="secret_patterns",
        metavar="REGEX",
        regex=True,
        help="Also redact any string value matching this regular expression (Python re syntax). Repeatable.",
    )
    check: bool = _opt(
        False,
        flag="--check",
        pytest_flag="--skeleton-check",
        help="After the run, check the architecture rules (--rules FILE, else [tool.skeleton.rules] of "
        "the project's pyproject.toml; docs/check.md): exit 1 when one is violated and the "
        "program itself succeeded.",
    )
    rules_file: Path | None = _opt(
        None,
        flag="--rules",
        pytest_flag="--skeleton-rules",
        metavar="FILE",
        help="Rule file for --check (TOML, or a pyproject.toml).",
    )
    backend: str | None = _opt(
        flag="--backend", choices=BACKENDS, hidden=True, help="Force a tracer backend (debugging)."
    )  # None: the best available
    harness_files: tuple[str, ...] = _opt((), help="File name globs shown as the test harness (pytest runs).")

    def validate(self, pytest_flags: bool = False) -> None:
        """Every value checked, for the CLI, pytest and the Python API alike: one UsageError line each
        (naming the pytest plugin's flags with pytest_flags=True)."""

        def flag(name: str) -> str:
            spec = SPECS[name]
            return (spec.pytest_flag if pytest_flags else None) or spec.flag or name

        for name, spec in SPECS.items():
            value = getattr(self, name)
            kind = KINDS[name]
            if kind == "int":
                _check_count(value, flag(name))
            elif kind == "strings":
                setattr(self, name, _check_strings(value, flag(name), spec))
            elif kind == "path":
                setattr(self, name, _check_path(value, flag(name)))
            elif kind == "bool" and not isinstance(value, bool):
                raise UsageError(f"{name} must be True or False, not {value!r}")
            elif kind == "choice" and value is not None and value not in spec.choices:
                raise UsageError(f"unknown {name} {value!r}; use {' or '.join(spec.choices)}")
        both = sorted(set(self.include) & set(self.exclude))
        if both:
            raise UsageError(
                f"{both[0]!r} is given to both {flag('include')} and {flag('exclude')}; keep it in one of them"
            )
        if self.project_root is not None:
            root = Path(self.project_root)
            if not root.exists():
                raise UsageError(
                    f"project root {root} does not exist; pass an existing folder to {flag('project_root')}"
                )
            if not root.is_dir():
                raise UsageError(f"project root {root} is not a folder; pass a folder to {flag('project_root')}")


def _kind(f: dataclasses.Field[Any]) -> str:
    spec: OptionSpec = f.metadata["option"]
    if spec.choices:
        return "choice"
    if isinstance(f.default, bool):
        return "bool"
    if isinstance(f.default, int):
        return "int"
    if isinstance(f.default, tuple):
        return "strings"
    return "path"


SPECS: dict[str, OptionSpec] = {f.name: f.metadata["option"] for f in dataclasses.fields(Options)}
KINDS: dict[str, str] = {f.name: _kind(f) for f in dataclasses.fields(Options)}  # int, strings, path, bool, choice
DEFAULTS = Options()
TUPLE_FIELDS = frozenset(name for name, kind in KINDS.items() if kind == "strings")
CONFIG_FIELDS = {spec.config_key: name for name, spec in SPECS.items() if spec.config_key}  # [tool.skeleton] key: field
CONFIG_KEYS = tuple(CONFIG_FIELDS)
SWITCHES = frozenset(spec.flag for name, spec in SPECS.items() if spec.flag and KINDS[name] == "bool")


def _check_count(value: Any, flag: str) -> None:
    if _type(value) is not int:
        raise UsageError(f"{flag} must be a whole number, not {value!r}")
    if value < 0:
        raise UsageError(f"{flag} must be 0 (unlimited) or more, not {value}")
    if value > MAX_EVENTS_LIMIT:
        raise UsageError(f"{flag} {value} is too large (at most {MAX_EVENTS_LIMIT}); use 0 for unlimited")


def _check_strings(values: Any, flag: str, spec: OptionSpec) -> tuple[str, ...]:
    if isinstance(values, str):  # one pattern given as a plain string (Python API)
        values = (values,)
    if not isinstance(values, (tuple, list)) or not all(isinstance(v, str) for v in values):
        raise UsageError(f"{flag} takes strings; got {values!r}")
    if any(not v.strip() for v in values):
        raise UsageError(f"{flag} must not be empty; give a {'word' if spec.metavar == 'WORD' else 'pattern'}")
    if spec.regex:
        for pattern in values:
            check_pattern(pattern, flag)
    return tuple(values)


def _check_path(value: Any, flag: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise UsageError(f"{flag} must be a folder path, not {value!r}")
    if not os.fspath(value).strip():
        raise UsageError(f"{flag} must not be empty; give a folder")
    return Path(value)


def options_from(values: Mapping[str, Any], prefix: str = "", base: Options | None = None) -> Options:
    """Options from keyword arguments (TraceSession, trace(), the web middlewares), over `base` (left as it
    was) or the defaults: lists become tuples; unknown names raise TypeError; validate() checks the values."""
    unknown = sorted(set(values) - set(SPECS))
    if unknown:
        raise TypeError(f"{prefix}unknown option(s) {', '.join(unknown)}; known: {', '.join(SPECS)}")
    fixed: dict[str, Any] = {
        k: tuple(v) if k in TUPLE_FIELDS and isinstance(v, (list, tuple)) else v for k, v in values.items()
    }
    return dataclasses.replace(base, **fixed) if base is not None else Options(**fixed)


def options_from_flags(given: Mapping[str, Any]) -> Options:
    """Options from parsed flags keyed by field name (click, pytest): a switch is True when given."""
    values: dict[str, Any] = {}
    for name, raw in given.items():
        if KINDS[name] == "bool":
            values[name] = SPECS[name].sets if raw else not SPECS[name].sets
        elif KINDS[name] == "strings":
            values[name] = tuple(raw or ())
        else:
            values[name] = raw
    return Options(**values)


def option_argv(opts: Options, absolute: bool = False) -> list[str]:
    """The options as command-line flags (absolute=True: without the folders, given separately)."""
    argv: list[str] = []
    for name, spec in SPECS.items():
        kind, value = KINDS[name], getattr(opts, name)
        if spec.flag is None or (kind == "path" and absolute):
            continue
        if kind == "strings":
            for v in value:
                argv += [spec.flag, v]
        elif kind == "bool":
            if value == spec.sets:
                argv.append(spec.flag)
        elif kind == "int":
            if value != getattr(DEFAULTS, name):
                argv += [spec.flag, str(value)]
        elif value is not None:
            argv += [spec.flag, str(value)]
    return argv


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
        raise UsageError(
            f"cannot write to the output folder {app_dir} ({exc.strerror or exc}); choose another with --out-dir"
        ) from None
    runs.prune(scope, budget, app_dir, keep=folder)
    return folder


def run_budget(root: Path | None) -> Budget:
    """How many runs, and how many bytes of runs, the Skeleton home keeps (env, then [tool.skeleton], then defaults)."""
    from . import runs

    table = tool_table(root) if root is not None else {}
    try:
        return runs.budget_from(os.environ, {k: table[k] for k in RUN_KEYS if k in table})
    except runs.BudgetError as exc:
        where = f"{Path(root) / 'pyproject.toml'}: " if root is not None and str(exc).startswith("[tool") else ""
        raise UsageError(f"{where}{exc}") from None


def prepare_out_dir(out_dir: Path) -> Path:
    """out_dir, created private (0700) if missing, after a probe file could be created in it."""
    from . import safefiles

    try:
        safefiles.make_dirs(out_dir)
        safefiles.check_writable(out_dir)
    except OSError as exc:
        raise UsageError(
            f"cannot write to the output folder {out_dir} ({exc.strerror or exc}); choose another with --out-dir"
        ) from None
    return out_dir


def check_pattern(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise UsageError(
            f"{where} {pattern!r} is not a valid regular expression ({exc}); fix it (Python 're' syntax)"
        ) from None


RUN_KEYS = ("keep_runs", "keep_size")  # the run folders' budget (run_budget, runs.py)
OTHER_KEYS = ("rules", *RUN_KEYS)  # read by other commands: `skeleton check` (rules/load.py)


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
        if SPECS[CONFIG_FIELDS[key]].regex:
            for v in values:
                check_pattern(v, f"{path}: [tool.skeleton] {key}:")
        out[key] = tuple(values)
    return out


def tool_table(root: Path) -> dict[str, Any]:
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
    """The options with [tool.skeleton]'s settings added (its values first, the caller's own after;
    a value already there is not repeated, so applying it twice changes nothing)."""
    cfg = project_config(root)
    if not cfg:
        return opts
    merged: dict[str, Any] = {}
    for key, values in cfg.items():
        name = CONFIG_FIELDS[key]
        merged[name] = tuple(dict.fromkeys(values + tuple(getattr(opts, name))))
    return dataclasses.replace(opts, **merged)
