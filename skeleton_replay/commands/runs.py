"""`skeleton runs`: the runs kept in the Skeleton home (or another folder), newest first."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
import orjson

from .. import runs as _runs
from ..options import UsageError, run_budget

COLUMNS = ("STARTED (UTC)", "APP", "STATUS", "EVENTS", "SIZE", "TARGET", "PATH")


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"  # not reached


def _clean(text: object) -> str:
    """One terminal-safe line: control characters (a newline in a path) shown as '?'."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", str(text))


def _started(run: _runs.Run) -> str:
    if run.started_at:
        return run.started_at[:19].replace("T", " ")
    n = run.path.name
    return f"{n[0:4]}-{n[4:6]}-{n[6:8]} {n[9:11]}:{n[11:13]}:{n[13:15]}"


def row(run: _runs.Run) -> tuple[str, ...]:
    status = run.status if run.exit_code is None else f"{run.status} {run.exit_code}"
    events = "-" if run.events is None else f"{run.events:,}"
    path = str(run.path) + ("  (latest)" if run.latest else "")
    return tuple(
        _clean(c) for c in (_started(run), run.app, status, events, human_size(run.size), run.target or "-", path)
    )


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Aligned columns, the last one (the path) left free."""
    rows = [COLUMNS, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    right = {3, 4}  # numbers
    return [
        "  ".join(
            (c.rjust(widths[i]) if i in right else c.ljust(widths[i])) if i < len(widths) else c
            for i, c in enumerate(r)
        ).rstrip()
        for r in rows
    ]


def select(found: list[_runs.Run], app: str | None) -> list[_runs.Run]:
    if app is None:
        return found
    return [r for r in found if app in (r.app, r.path.parent.name)]


def _project_root() -> Path | None:
    from ..capture.filters import find_project_root

    try:
        return find_project_root(Path.cwd() / "x.py")
    except OSError:
        return None


@click.command("runs")
@click.argument("folder", type=click.Path(path_type=Path), required=False)
@click.option(
    "--app", metavar="NAME", help="Only the runs of this app (its name, e.g. app, or its folder, app-1a2b3c4d)."
)
@click.option("--json", "json_out", is_flag=True, help="Print one JSON document instead of the table.")
@click.option(
    "--prune",
    is_flag=True,
    help="First remove the oldest runs over the budget "
    "($SKELETON_KEEP_RUNS / $SKELETON_KEEP_SIZE, [tool.skeleton] keep_runs / keep_size).",
)
def runs(folder: Path | None, app: str | None, json_out: bool, prune: bool) -> None:
    """List the runs kept in FOLDER (default: $SKELETON_HOME, else ~/.skeleton), newest first:
    when each started, the app, its status and exit code, events, size, target and folder.

    FOLDER may also be one app's folder, or a project's .skeleton folder (pytest runs).
    Runs written with --out-dir are not kept here and not listed.
    """
    where = folder if folder is not None else _runs.home_folder()
    if app is not None and not app.strip():
        raise UsageError("--app must not be empty; give an app name such as 'app' (see 'skeleton runs')")
    if folder is not None and not folder.exists():
        raise UsageError(f"{folder} does not exist; pass the Skeleton home or an app's folder (default: {where})")
    if folder is not None and not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; pass the Skeleton home or an app's folder")
    removed: list[Path] = []
    if prune:
        budget = run_budget(_project_root())
        removed = _runs.prune(where, budget) if where.is_dir() else []
        if not json_out:
            click.echo(
                f"skeleton: removed {len(removed)} old run{'s' if len(removed) != 1 else ''} "
                f"(keep_runs {budget.keep_runs or 'no limit'}, keep_size "
                f"{human_size(budget.keep_size) if budget.keep_size else 'no limit'})",
                err=True,
            )
    found = select(_runs.list_runs(where), app)
    if json_out:
        doc = {
            "folder": os.fspath(where),
            "runs": [r.as_json() for r in found],
            "removed": [os.fspath(p) for p in removed],
        }
        click.echo(orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS).decode())
        return
    if not found:
        click.echo(f"skeleton: no runs in {_clean(where)}" + (f" for app {_clean(app)!r}" if app else ""), err=True)
        return
    for line in table([row(r) for r in found]):
        click.echo(line)
