"""The `skeleton` command line: a thin layer over the Python API.

The commands are click commands (commands/app.py), imported when click parses the command line.
`skeleton run` with plain options (the common case, and the one whose start-up every traced program
pays) is parsed here without importing click (fast_run): only forms that click parses to the same
values are taken; anything else (--help, --version, an unknown or malformed option, `--flag=` with
an empty value, a repeated single option...) goes to click, which gives its usual answer or error.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .keep import Streams
from .options import DEFAULTS, KINDS, SPECS, SWITCHES, UsageError, options_from_flags
from .process import own_process
from .render.text import run_summary

if TYPE_CHECKING:
    from .result import RunResult

# Skeleton's own output goes to copies of fds 1 and 2 taken at start: the traced program may
# close or replace sys.stdout/sys.stderr (or close the fds) without silencing Skeleton (keep.py).
_streams: Streams | None = None


def _out() -> Streams:
    global _streams
    if _streams is None:
        _streams = Streams()
    return _streams


def _err(msg: str) -> None:
    _out().write_err(f"skeleton: {msg}\n")


def _progress(msg: str) -> None:
    if _out().err_isatty():
        _out().write_err(f"\rskeleton: {msg}…")


def _clear_progress() -> None:
    if _out().err_isatty():
        _out().write_err("\r\033[K")


def do_run(json_out: bool, module: str | None, script: Path | None, args: tuple[str, ...], **options: Any) -> None:
    """`skeleton run`, however its command line was parsed (fast_run or click): exits with the program's code."""
    from .session import TraceSession

    if module is None and script is None:
        raise UsageError("missing SCRIPT (or -m MODULE) to run; see 'skeleton run --help'")
    if module is None and script is not None and str(script).startswith("-") and not script.exists():
        raise UsageError(
            f"No such option: {script} (see 'skeleton run --help'; put '--' before a script whose name starts with '-')"
        )
    opts = options_from_flags(options)
    if opts.check or opts.rules_file:  # --check (lane L7): a bad rule file is exit 2 before the program runs
        from .commands.check import before_run

        before_run(opts.rules_file)
    session = TraceSession(options=opts, progress=_progress)
    session.owns_process = True
    if module is not None:
        result = session.run_module(module, ([str(script)] if script is not None else []) + list(args))
    else:
        assert script is not None
        result = session.run_script(script, list(args))
    if result.child_process:  # a forked child of the program ended: the parent reports
        sys.exit(result.exit_code)
    _clear_progress()
    for w in result.warnings:
        _err(f"warning: {w}")
    for line in run_summary(result):  # lost artifacts: one error line, the program's exit code stays
        _err(line)
    code = result.exit_code
    if (opts.check or opts.rules_file) and result.snapshot_path is not None and not result.lost:
        from .commands.check import after_run  # --check: rules on the run just written (docs/check.md)

        code = after_run(result.snapshot_path, opts.rules_file, _err, code)
    if json_out:
        _out().write_out(orjson.dumps(_json_line(result)).decode() + "\n")
    if result.exit_code == -signal.SIGTERM:  # end the way plain Python would: killed by SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    sys.exit(code)


def _json_line(result: RunResult) -> dict[str, Any]:
    return {
        "out_dir": str(result.out_dir),
        "trace": str(result.trace_path) if result.trace_path else None,
        "snapshot": str(result.snapshot_path) if result.snapshot_path else None,
        "workflow": str(result.workflow_path) if result.workflow_path else None,
        "report": str(result.report_path) if result.report_path else None,
        "session": str(result.session_path) if result.session_path else None,
        "exit_code": result.exit_code,
        "status": result.status,
        "metrics": result.metrics,
        "lost": result.lost,
    }


def _split_module_args(argv: list[str]) -> list[str]:
    """`run [opts] -m MOD rest...`: everything after MOD belongs to the module, as with python -m."""
    if "run" not in argv:
        return argv
    i = argv.index("run") + 1
    while i < len(argv):
        a = argv[i]
        if a == "--" or not a.startswith("-"):
            return argv  # a script (or --) comes first: nothing to do
        if a == "-m" and i + 1 < len(argv):
            return [*argv[: i + 2], "--", *argv[i + 2 :]]
        if a.startswith("-m") and len(a) > 2:  # -mpkg.mod
            return [*argv[:i], "-m", a[2:], "--", *argv[i + 1 :]]
        i += 1 if "=" in a or a in _FLAGS else 2
    return argv


_FLAGS = SWITCHES | {"--json", "-h", "--help"}  # options that take no value


# -- `skeleton run` without click -------------------------------------------------------------------------------
def _run_flags() -> dict[str, str]:
    """`skeleton run`'s table-driven flags: flag -> Options field (the options click builds in commands/app.py)."""
    return {spec.flag: name for name, spec in SPECS.items() if spec.flag is not None and "run" in spec.commands}


def fast_run(argv: list[str]) -> dict[str, Any] | None:
    """do_run()'s arguments for `run [OPTIONS] SCRIPT [ARGS]` or `run [OPTIONS] -m MODULE -- [ARGS]` (after
    _split_module_args), exactly as click would give them; None when anything is not a plain form: click parses."""
    if not argv or argv[0] != "run" or os.environ.get("_SKELETON_COMPLETE"):
        return None
    flags = _run_flags()
    given: dict[str, Any] = {}
    json_out = False
    module: str | None = None
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        if arg == "-" or not arg.startswith("-"):
            break  # the script: everything from here belongs to the program
        flag, eq, inline = arg.partition("=")
        if flag == "-m" and not eq:
            if module is not None or i + 1 >= len(argv) or not _plain(argv[i + 1]):
                return None
            module = argv[i + 1]
            i += 2
            continue
        if flag == "--json" and not eq:
            json_out = True
            i += 1
            continue
        name = flags.get(flag)
        if name is None:
            return None  # --help, an unknown option, a short form: click's answer
        kind = KINDS[name]
        if kind not in ("bool", "strings", "int", "choice", "path"):
            return None  # a kind added to options.py after this parser: click knows its type
        if kind == "bool":
            if eq:
                return None
            given[name] = True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        elif i + 1 < len(argv):
            value = argv[i + 1]
            i += 2
        else:
            return None
        if not _plain(value):
            return None
        if kind == "strings":
            given[name] = (*given.get(name, ()), value)
            continue
        if name in given:
            return None  # given twice: click keeps the last one; let it
        if kind == "int":
            if not (value.isascii() and value.isdigit()):
                return None
            given[name] = int(value)
        elif kind == "choice":
            if value not in SPECS[name].choices:
                return None
            given[name] = value
        else:  # path: click.Path() gives the text as it is
            given[name] = value
    rest = argv[i:]
    if rest[:1] == [""] or (module is not None and argv[i - 1 : i] != ["--"]):
        return None  # an empty script name; a module without the -- that _split_module_args puts after it
    unset: dict[str, Any] = {"bool": False, "strings": ()}  # click's values of options not given; int: the default
    options: dict[str, Any] = {}
    for name in flags.values():
        kind = KINDS[name]
        options[name] = given.get(name, getattr(DEFAULTS, name) if kind == "int" else unset.get(kind))
    script = Path(rest[0]) if rest else None
    return {"json_out": json_out, "module": module, "script": script, "args": tuple(rest[1:]), **options}


def _plain(value: str) -> bool:
    """A value click takes as it is: not empty and not something that looks like an option."""
    return value != "" and not value.startswith("-")


class _Pacified:
    """What click does to a stream after a broken pipe: its later flushes are silent."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class _Aborted(Exception):
    pass


def _run_fast(kwargs: dict[str, Any]) -> int:
    """do_run, with what click's main does around a command (standalone_mode=False) for the rest."""
    try:
        do_run(**kwargs)
    except (EOFError, KeyboardInterrupt) as exc:
        try:
            sys.stderr.write("\n")  # click closes the terminal's ^C echo
            sys.stderr.flush()
        except Exception:
            pass
        raise _Aborted() from exc
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        sys.stdout = _Pacified(sys.stdout)
        sys.stderr = _Pacified(sys.stderr)
        sys.exit(1)
    return 0


def __getattr__(name: str) -> Any:
    """The click group and commands (`cli`, `run`, `pytest`, `report`) live in commands/app.py."""
    if name in ("cli", "run", "pytest", "report"):
        from .commands import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    _out()  # before any program runs
    own_process()  # a `skeleton` command: no host's state to keep (process.py)
    argv = _split_module_args(list(sys.argv[1:] if argv is None else argv))
    try:
        fast = fast_run(argv)
        if fast is not None:
            rv: Any = _run_fast(fast)
        else:
            from .commands.app import cli

            rv = cli.main(args=argv, prog_name="skeleton", standalone_mode=False)
    except UsageError as exc:
        _err(f"error: {exc}")
        return 2
    except _Aborted:
        _err("aborted")
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:
        code = _click_error(exc) if "click" in sys.modules else None
        if code is not None:
            return code
        if os.environ.get("SKELETON_DEBUG"):  # a bug in Skeleton: one line, details on request
            raise
        _err(
            f"internal error: {type(exc).__name__}: {exc} (set SKELETON_DEBUG=1 for the traceback, "
            "and please report it)"
        )
        return 3
    return rv if isinstance(rv, int) else 0


def _click_error(exc: Exception) -> int | None:
    """The exit code of a click exception, after its one line (or the help it asks for); None: not click's."""
    import click

    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        _out().write_err((exc.ctx.get_help() if exc.ctx else str(exc)) + "\n")
        return 2
    if isinstance(exc, click.UsageError):
        cmd = exc.ctx.command_path if exc.ctx else "skeleton"
        _err(f"error: {exc.format_message()} (see '{cmd} --help')")
        return 2
    if isinstance(exc, click.exceptions.Abort):
        _err("aborted")
        return 130
    if isinstance(exc, click.ClickException):
        _err(f"error: {exc.format_message()}")
        return exc.exit_code
    return None
