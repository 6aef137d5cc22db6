"""`skeleton export OUT_DIR`: a run as a diagram or a timeline (docs/export.md).

The work is in skeleton_replay/export/ (pure); this module is the thin click command.
Exit codes: 0 written, 2 bad input (not a run, an unknown format or level, a malformed window).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..export.select import Counts, Window
    from ..runfolder import RunFolder

FORMATS = ("mermaid", "dot", "plantuml", "perfetto")
LEVELS = ("modules", "classes", "methods")


def _header(run: RunFolder, fmt: str, level: str, scenario: dict[str, Any] | None, window: Window | None) -> list[str]:
    snap = run.snapshot
    app = (snap.get("run") or {}).get("app_name") or "run"
    words = [f"skeleton export of {app} ({run.path.name})", f"level {level}"]
    if scenario is not None:
        words.append(f"test {scenario.get('name')}")
    if window is not None:
        words.append(f"events {window.describe()}")
    return [", ".join(words)]


def _selection(run: RunFolder, scenario: dict[str, Any] | None, window: Window | None) -> tuple[Counts, str]:
    """(calls per edge, run box label) for the diagram."""
    from ..export import select
    from ..options import UsageError

    app = (run.snapshot.get("run") or {}).get("app_name") or "run"
    label = f"(test) {scenario.get('name')}" if scenario is not None else f"(run) {app}"
    if scenario is None and window is None:
        return select.from_snapshot(run.snapshot), label
    trace = run.trace
    if trace is None:
        if window is not None:
            raise UsageError(f"--window needs {run.path / 'trace.jsonl'}, which is missing; export without --window")
        assert scenario is not None  # no test and no window: answered above
        return select.from_snapshot(run.snapshot, scenario["id"]), label  # edges of the test, counts unknown
    return select.from_trace(trace, window, scenario.get("name") if scenario else None).counts, label


def _check_window(run: RunFolder, window: Window) -> None:
    from ..options import UsageError

    recorded = (run.snapshot.get("stats") or {}).get("recorded_events")
    if isinstance(recorded, int) and window.first is not None and window.first >= recorded:
        span = f"E0..E{recorded - 1}" if recorded else "no events"
        raise UsageError(f"--window {window.describe()} is past the end of the trace ({span})")


@click.command("export")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="mermaid",
    show_default=True,
    help="A diagram (mermaid, dot, plantuml) or a timeline for Perfetto / chrome://tracing (perfetto).",
)
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="modules",
    show_default=True,
    help="Diagrams: one box per module, per class (instances folded) or per method.",
)
@click.option("--scenario", metavar="TEST_ID", help="Only what this test did (pytest node id, or its index).")
@click.option("--window", metavar="E100:E500", help="Only the events in this range (both ends included).")
@click.option(
    "--max-nodes",
    type=click.IntRange(min=2),
    default=60,
    show_default=True,
    help="Diagrams: at most this many boxes; those with the fewest calls fold into one.",
)
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
def export(
    out_dir: Path, fmt: str, level: str, scenario: str | None, window: str | None, max_nodes: int, output: Path | None
) -> None:
    """Write a run as a Mermaid, DOT or PlantUML diagram, or as a Perfetto timeline.

    \b
    skeleton export out/ --format mermaid --level modules
    skeleton export out/ --format dot --level classes --scenario tests/test_x.py::test_y
    skeleton export out/ --format perfetto --window E100:E500 -o run.trace.json
    """
    from .. import runfolder
    from ..export.select import parse_window
    from .output import emit

    win = parse_window(window) if window is not None else None
    run = runfolder.load(out_dir)
    test = run.scenario(scenario) if scenario is not None else None
    if win is not None:
        _check_window(run, win)
    if fmt == "perfetto":
        import orjson

        from ..export.perfetto import timeline
        from ..options import UsageError

        if run.trace is None:
            raise UsageError(f"--format perfetto needs {run.path / 'trace.jsonl'}, which is missing")
        doc = timeline(run.trace, win, test.get("name") if test else None)
        emit(orjson.dumps(doc).decode() + "\n", output)
        return
    from ..export.diagrams import WRITERS
    from ..export.graph import build

    counts, label = _selection(run, test, win)
    graph = build(run.snapshot, counts, level, max_nodes, label)
    if not graph.edges:
        graph.notes.append("no calls in this selection")
    emit(WRITERS[fmt](graph, _header(run, fmt, level, test, win)), output)
