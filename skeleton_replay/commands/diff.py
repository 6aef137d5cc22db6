"""`skeleton diff A B`: what changed between two runs (docs/diff.md).

The work is in skeleton_replay/compare/ (pure); this module is the thin click command.
Exit codes: 0 (differences or not), 1 when a --fail-on condition is met, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

FORMATS = ("text", "markdown", "json", "html")
HTML_DEFAULT = "diff.html"  # --format html without --output: a file in the current folder


@click.command("diff")
@click.argument("a", type=click.Path(path_type=Path))
@click.argument("b", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a PR comment, json for tools, html for the map with the changes marked "
    f"(written to ./{HTML_DEFAULT} unless --output is given; --output - for stdout).",
)
@click.option(
    "--threshold",
    default="50%",
    show_default=True,
    metavar="50%|N|50%,N",
    help="Report a call-count change only when it is at least this much (relative, absolute or both).",
)
@click.option(
    "--fail-on",
    metavar="LIST",
    help="Exit 1 when any of these happened (comma-separated): new-actors, removed-actors, new-edges, "
    "removed-edges, new-dependencies, removed-dependencies, changed-calls, new-io, new-boundaries, new-violations.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Entries per section in text and markdown (json lists all).",
)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path), help="Write to this file instead of stdout (html: ./diff.html)."
)
def diff(a: Path, b: Path, fmt: str, threshold: str, fail_on: str | None, limit: int, output: Path | None) -> None:
    """What changed from run A to run B: actors, call edges, module dependencies, call counts.

    \b
    skeleton diff before/ after/
    skeleton diff before/ after/ --format markdown --fail-on new-edges
    skeleton diff before/ after/ --format html -o diff.html

    A and B are run folders (the --out-dir of `skeleton run` or `skeleton pytest`). Actors and
    edges are matched by module, class and callable, not by run-local instance numbers.
    """
    import orjson

    from .. import runfolder
    from ..compare import compute, failed, parse_fail_on, parse_threshold, render
    from ..options import UsageError

    conditions = parse_fail_on(fail_on)
    limits = parse_threshold(threshold)
    run_a, run_b = runfolder.load(a), runfolder.load(b)
    result = compute(str(a), run_a.snapshot, str(b), run_b.snapshot, limits)
    result["fail_on"] = conditions
    result["failed"] = failed(result, conditions)
    if fmt == "json":
        text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n"
    elif fmt == "html":
        from ..compare.html import merged_snapshot
        from ..render.html import ReportTemplateMissing, render_html

        try:
            text = render_html(merged_snapshot(result, run_a.snapshot, run_b.snapshot))
        except ReportTemplateMissing as exc:
            raise UsageError(str(exc)) from None
        if output is None:
            output = Path(HTML_DEFAULT)
    elif fmt == "markdown":
        text = render.markdown(result, limit)
    else:
        text = render.text(result, limit)
    from .output import emit

    emit(text, None if output == Path("-") else output)
    if fmt == "html" and output != Path("-"):
        click.echo(f"skeleton diff: {render.headline(result)}")
        click.echo(f"wrote {output} (open it in a browser)")
    if result["failed"]:
        click.echo(f"skeleton: diff: {', '.join(result['failed'])} (--fail-on)", err=True)
        sys.exit(1)
