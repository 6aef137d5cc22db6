"""The `skeleton` command line (a thin click layer over the Python API)."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from . import __version__
from .keep import Streams
from .options import DEFAULTS, KINDS, SPECS, SWITCHES, UsageError, option_argv, options_from_flags, prepare_out_dir
from .render.text import run_summary

if TYPE_CHECKING:
    from .result import RunResult

F = TypeVar("F", bound=Callable[..., Any])

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


class _LazyGroup(click.Group):
    """The commands that have a module of their own (commands/*.py) are imported when they are used or
    listed: `skeleton run` starts without them (and without what they import)."""

    LAZY = ("check", "diff", "export", "runs")  # command name = module name = the click command's name in it

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.LAZY:
            module = importlib.import_module(f"{__package__}.commands.{cmd_name}")
            command = getattr(module, cmd_name)
            assert isinstance(command, click.Command)
            self.add_command(command)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skeleton")
def cli() -> None:
    """Skeleton: run a Python program under a runtime tracer and replay its architecture.

    \b
    skeleton run app.py [ARGS...]     trace a script; writes trace.jsonl, snapshot.json,
                                      workflow.md, report.html, session.json
    skeleton pytest -- [PYTEST ARGS]  run pytest under the tracer; each test is a scenario
    skeleton report OUT_DIR           rebuild the artifacts from an existing trace.jsonl
    skeleton check OUT_DIR            check architecture rules on a run's observed calls
    skeleton diff A B                 what changed between two runs (text, markdown, json)
    skeleton export OUT_DIR           a run as Mermaid, DOT, PlantUML or a Perfetto timeline
    skeleton runs                     the runs kept in ~/.skeleton, newest first
    """


def _trace_options(command: str, root_default: str, out_default: str) -> Callable[[F], F]:
    """The options `run` and `pytest` share (they shape what is traced and written): the table in options.py,
    and --json (what is printed, not what is traced) after --no-open."""
    options = []
    for name, spec in SPECS.items():
        if spec.flag is None or command not in spec.commands:
            continue
        text = spec.help.format(root=root_default, out=out_default)
        kind = KINDS[name]
        if kind == "bool":
            options.append(click.option(spec.flag, name, is_flag=True, help=text, hidden=spec.hidden))
        elif kind == "strings":
            options.append(
                click.option(spec.flag, name, multiple=True, metavar=spec.metavar, help=text, hidden=spec.hidden)
            )
        elif kind == "int":
            options.append(
                click.option(
                    spec.flag,
                    name,
                    type=int,
                    default=getattr(DEFAULTS, name),
                    show_default=spec.show_default,
                    help=text,
                    hidden=spec.hidden,
                )
            )
        elif kind == "choice":
            options.append(
                click.option(spec.flag, name, type=click.Choice(list(spec.choices)), help=text, hidden=spec.hidden)
            )
        else:
            options.append(click.option(spec.flag, name, type=click.Path(), help=text, hidden=spec.hidden))
        if name == "open_report":
            options.append(
                click.option(
                    "--json",
                    "json_out",
                    is_flag=True,
                    help="Print one JSON line with artifact paths and metrics at the end.",
                )
            )

    def apply(fn: F) -> F:
        for option in reversed(options):
            fn = option(fn)
        return fn

    return apply


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_trace_options(
    "run",
    "nearest folder above the script with pyproject.toml, setup.cfg, setup.py or .git",
    "$SKELETON_OUT_DIR, else a new folder per run, <app>-<hash>/<UTC time>/ in $SKELETON_HOME "
    "or ~/.skeleton; see 'skeleton runs'",
)
@click.option(
    "-m",
    "module",
    metavar="MODULE",
    help="Run a module like `python -m MODULE` (everything after it belongs to the module).",
)
@click.argument("script", type=click.Path(path_type=Path), required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(json_out: bool, module: str | None, script: Path | None, args: tuple[str, ...], **options: Any) -> None:
    """Run SCRIPT with ARGS under the tracer, exactly as `python SCRIPT ARGS` would
    (or `-m MODULE ARGS`, as `python -m MODULE ARGS` would).

    Everything after SCRIPT (or -m MODULE) belongs to the program. Skeleton's options
    come before it (use `--` before SCRIPT if its name starts with a dash).
    """
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


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_trace_options(
    "pytest",
    "pytest's rootdir",
    "$SKELETON_OUT_DIR, else a new folder per session in $SKELETON_HOME/pytest-<hash>/ or <rootdir>/.skeleton/pytest/",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def pytest(json_out: bool, pytest_args: tuple[str, ...], **options: Any) -> None:
    """Run pytest in this process under the tracer: each test is a scenario.

    \b
    skeleton pytest [OPTIONS] -- [PYTEST ARGS...]
    skeleton pytest -- tests/test_shop.py -k checkout

    Keeps pytest's exit code; artifacts are written even when tests fail or
    collection errors. Same as `pytest --skeleton` with the plugin.
    """
    try:
        import pytest as _pytest  # noqa: F401
    except ImportError:
        raise UsageError(
            "pytest is not installed in this Python environment; install it (pip install pytest) and run again"
        ) from None
    from .integrations.pytest_recording import run_pytest

    opts = options_from_flags(options)
    opts.validate()
    if opts.check or opts.rules_file:  # a bad rule file is exit 2 before pytest runs
        from .commands.check import before_run

        before_run(opts.rules_file)
    args = list(pytest_args)
    command = ["skeleton", "pytest", *option_argv(opts), "--", *args]
    root = ["--project-root", str(Path(opts.project_root).resolve())] if opts.project_root else []
    invocation = [
        sys.executable,
        "-m",
        "skeleton_replay",
        "pytest",
        *option_argv(opts, absolute=True),
        *root,
        "--",
        *args,
    ]
    code, plugin = run_pytest(opts, args, command, invocation)
    if plugin.error:
        raise UsageError(plugin.error)
    result = plugin.result
    if result is None:
        _err(f"nothing recorded: pytest stopped before its session started (exit code {code})")
        sys.exit(code)
    if opts.open_report and result.report_path is not None and not result.lost:
        from .render.browser import open_in_browser

        result.report_opened = open_in_browser(result.report_path)
    for w in result.warnings:
        _err(f"warning: {w}")
    for line in [*run_summary(result), *plugin.check_lines]:  # check_lines: --check (commands/check.py)
        _err(line)
    if json_out:
        _out().write_out(orjson.dumps(_json_line(result)).decode() + "\n")
    sys.exit(code)


@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option("--no-html", is_flag=True, help="Do not write report.html.")
@click.option("--open", "open_report", is_flag=True, help="Open report.html when done.")
def report(out_dir: Path, no_html: bool, open_report: bool) -> None:
    """Rebuild snapshot.json, workflow.md and report.html from OUT_DIR/trace.jsonl."""
    from .events.jsonl import TraceFormatError
    from .pipeline import TRACE, from_killed_run, from_trace, unfinished_run

    if no_html and open_report:
        raise UsageError("--open needs report.html, which --no-html skips; drop one of them")
    trace = out_dir / TRACE if out_dir.is_dir() else out_dir
    folder = trace.parent
    killed = trace.name == TRACE and unfinished_run(folder)  # raw records newer than any trace.jsonl
    if not trace.exists() and not killed:
        raise UsageError(f"no trace at {trace}; pass the folder that holds trace.jsonl")
    folder = prepare_out_dir(folder)
    try:
        if killed:
            arts = from_killed_run(folder, not no_html, lambda n: _progress(f"read {n:,} events"))
        else:
            arts = from_trace(trace, folder, not no_html, lambda n: _progress(f"read {n:,} events"))
    except TraceFormatError as exc:
        raise UsageError(f"{exc}") from None
    _clear_progress()
    for w in arts.warnings:
        _err(f"warning: {w}")
    s = arts.snapshot["stats"]
    _err(f"rebuilt from {s['recorded_events']:,} events: {s['nodes']} nodes, {s['edges']} edges in {folder}")
    if open_report and arts.report_path is not None:
        from .render.browser import open_in_browser

        open_in_browser(arts.report_path)


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


def main(argv: list[str] | None = None) -> int:
    _out()  # before any program runs
    argv = _split_module_args(list(sys.argv[1:] if argv is None else argv))
    try:
        rv = cli.main(args=argv, prog_name="skeleton", standalone_mode=False)
    except UsageError as exc:
        _err(f"error: {exc}")
        return 2
    except click.exceptions.NoArgsIsHelpError as exc:
        _out().write_err((exc.ctx.get_help() if exc.ctx else str(exc)) + "\n")
        return 2
    except click.UsageError as exc:
        cmd = exc.ctx.command_path if exc.ctx else "skeleton"
        _err(f"error: {exc.format_message()} (see '{cmd} --help')")
        return 2
    except click.exceptions.Abort:
        _err("aborted")
        return 130
    except click.ClickException as exc:
        _err(f"error: {exc.format_message()}")
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    except Exception as exc:  # a bug in Skeleton: one line, details on request
        if os.environ.get("SKELETON_DEBUG"):
            raise
        _err(
            f"internal error: {type(exc).__name__}: {exc} (set SKELETON_DEBUG=1 for the traceback, "
            "and please report it)"
        )
        return 3
    return rv if isinstance(rv, int) else 0
