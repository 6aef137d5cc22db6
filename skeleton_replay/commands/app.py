"""The `skeleton` command line as click commands (imported only when click parses the command line).

`skeleton run` with plain options is parsed without click (cli.py's fast path: importing click costs
more than the rest of the command line); --help, errors and every other command come here, and so does
`run` whenever its arguments are anything but the plain forms the fast path knows (cli.fast_run).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from .. import __version__
from ..cli import _clear_progress, _err, _json_line, _out, _progress, do_run
from ..options import DEFAULTS, KINDS, SPECS, UsageError, option_argv, options_from_flags, prepare_out_dir
from ..render.text import run_summary

F = TypeVar("F", bound=Callable[..., Any])


class _LazyGroup(click.Group):
    """The commands that have a module of their own (commands/*.py) are imported when they are used or
    listed: `skeleton run` starts without them (and without what they import)."""

    LAZY = ("check", "diff", "export", "runs")  # command name = module name = the click command's name in it

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in self.LAZY:
            module = importlib.import_module(f"{__package__}.{cmd_name}")
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
    do_run(json_out, module, script, args, **options)


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
    from ..integrations.pytest_recording import run_pytest

    opts = options_from_flags(options)
    opts.validate()
    if opts.check or opts.rules_file:  # a bad rule file is exit 2 before pytest runs
        from ..commands.check import before_run

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
        from ..render.browser import open_in_browser

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
    from ..events.jsonl import TraceFormatError
    from ..pipeline import TRACE, from_killed_run, from_trace, unfinished_run

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
        from ..render.browser import open_in_browser

        open_in_browser(arts.report_path)
