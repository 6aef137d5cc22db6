"""`skeleton check OUT_DIR`: architecture rules evaluated on a run's observed calls (docs/check.md).

Pure helpers first (find and read the snapshot and the rules, build check.json, format lines);
the click command is at the bottom. Exit codes: 0 every rule holds, 1 a rule is violated,
2 bad input (a missing snapshot, a malformed rule: one line, no traceback).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from .. import __version__
from ..options import UsageError
from ..runfolder import SNAPSHOT

if TYPE_CHECKING:  # imported when the command runs: `skeleton run` starts without them
    from .. import rules

CHECK = "check.json"
CHECK_FORMAT_VERSION = 1  # 1: first version (rules, status, violations with edge, count, first_seen)
MAX_LINES_PER_RULE = 20  # printed; check.json and --json hold every violation


def project_root(snap: dict[str, Any]) -> Path | None:
    root = (snap.get("run") or {}).get("project_root")
    return Path(root) if isinstance(root, str) and root else None


def load_rules(snap: dict[str, Any], rules_file: Path | None) -> rules.RuleSet:
    """--rules FILE, else [tool.skeleton.rules] in the run's project root's pyproject.toml."""
    from .. import rules

    if rules_file is not None:
        return rules.load_file(rules_file)
    root = project_root(snap)
    if root is None:
        raise UsageError("the snapshot names no project root to find pyproject.toml in; pass --rules FILE")
    found = rules.load_project(root)
    if found is None:
        raise UsageError(
            f"no rules: {root / 'pyproject.toml'} has no {rules.PYPROJECT_TABLE} table; add one "
            "or pass --rules FILE (see docs/check.md)"
        )
    return found


def event_text(first_seen: int | None) -> str:
    return f"first E{first_seen}" if first_seen is not None else "counted past the cap"


def _calls(n: int) -> str:
    return f"{n:,} call" + ("" if n == 1 else "s")


def violation_line(v: rules.Violation, kind: str) -> str:
    count = _calls(v.count) if kind != "io" else f"{v.count:,} time" + ("" if v.count == 1 else "s")  # I/O operations
    return f'{kind} "{v.rule}": {v.source} -> {v.target} ({count}, {event_text(v.first_seen)}): {v.detail}'


def show_path(path: str | Path) -> str:
    """A path relative to the current folder when it is below it, else as it is."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def summary_line(results: list[rules.RuleResult], source: str, written: Path | None) -> str:
    violated = [r for r in results if r.status == "violated"]
    skipped = sum(r.status == "not_evaluated" for r in results)
    parts = []
    if violated:
        edges = sum(len(r.violations) for r in violated)
        calls = sum(r.calls for r in violated)
        parts.append(
            f"FAILED: {len(violated)} of {len(results)} rules violated on {edges} "
            f"edge{'s' if edges != 1 else ''} ({_calls(calls)})"
        )
    else:
        held = len(results) - skipped
        parts.append(f"passed: {held} rule{'s' if held != 1 else ''} hold{'s' if held == 1 else ''}")
    if skipped:
        parts.append(f"{skipped} not evaluated")
    parts.append(f"rules: {show_path(source)}")
    if written is not None:
        parts.append(f"written: {show_path(written)}")
    return "skeleton check: " + "; ".join(parts)


def text_lines(results: list[rules.RuleResult]) -> list[str]:
    """One line per violation (at most MAX_LINES_PER_RULE a rule), one per rule not evaluated."""
    lines = []
    for r in results:
        for v in r.violations[:MAX_LINES_PER_RULE]:
            lines.append(violation_line(v, r.rule.kind))
        more = len(r.violations) - MAX_LINES_PER_RULE
        if more > 0:
            lines.append(f'{r.rule.kind} "{r.rule.name}": ... and {more:,} more violations (all in {CHECK}, or --json)')
        if r.note:
            lines.append(f'{r.rule.kind} "{r.rule.name}": {r.note}')
    return lines


def warnings(results: list[rules.RuleResult]) -> list[str]:
    return [
        f'warning: {r.rule.kind} "{r.rule.name}": pattern {p!r} matched no node of this run '
        "(a typo, or code the run did not reach)"
        for r in results
        for p in r.unmatched
    ]


def check_document(
    results: list[rules.RuleResult], ruleset: rules.RuleSet, snap: dict[str, Any], snap_path: Path
) -> dict[str, Any]:
    """What check.json holds (and --json prints)."""
    run = snap.get("run") or {}
    return {
        "format_version": CHECK_FORMAT_VERSION,
        "skeleton_version": __version__,
        "snapshot": str(snap_path),
        "run_started_at": run.get("started_at"),
        "rules_file": str(Path(ruleset.source).resolve()),
        "rules_table": ruleset.table or None,
        "status": "violated" if any(r.status == "violated" for r in results) else "passed",
        "rules": [_rule_doc(r) for r in results],
    }


def _rule_doc(r: rules.RuleResult) -> dict[str, Any]:
    return {
        "name": r.rule.name,
        "kind": r.rule.kind,
        "status": r.status,
        "note": r.note,
        "unmatched_patterns": r.unmatched,
        "violations": [
            {
                "source": v.source,
                "target": v.target,
                "edge": f"{v.source}->{v.target}",
                "count": v.count,
                "first_seen": v.first_seen,
                "event": None if v.first_seen is None else f"E{v.first_seen}",
                "raised": v.raised,
                "scenarios": list(v.scenarios),
                "detail": v.detail,
            }
            for v in r.violations
        ],
    }


def write_check(folder: Path, doc: dict[str, Any]) -> Path:
    from ..safefiles import write_atomic

    return write_atomic(folder / CHECK, orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")


def snapshot_violations(results: list[rules.RuleResult]) -> list[dict[str, Any]]:
    """snapshot.json's `violations` (schema: $defs/Violation), in the order they are printed."""
    return [
        {
            "rule": r.rule.name,
            "kind": r.rule.kind,
            "source": v.source,
            "target": v.target,
            "count": v.count,
            "first_seen": v.first_seen,
            "detail": v.detail,
        }
        for r in results
        for v in r.violations
    ]


def record_violations(
    snap_path: Path, snap: dict[str, Any], results: list[rules.RuleResult], rules_file: str
) -> list[str]:
    """Write the violations into the run's artifacts: snapshot.json `violations`, the "Rule violations"
    section of workflow.md and report.html (when they are there). Returns warnings (nothing is fatal)."""
    from ..render.boundaries_md import replace_violations, violations_section
    from ..safefiles import write_atomic

    snap["violations"] = snapshot_violations(results)
    folder, out = snap_path.parent, []
    try:
        write_atomic(snap_path, orjson.dumps(snap))
        workflow = folder / "workflow.md"
        if snap_path.name == SNAPSHOT and workflow.is_file():
            section = violations_section(snap["violations"], show_path(rules_file))
            write_atomic(workflow, replace_violations(workflow.read_text("utf-8"), section))
        report = folder / "report.html"
        if snap_path.name == SNAPSHOT and report.is_file():
            from ..render.html import ReportTemplateMissing, render_html

            try:
                write_atomic(report, render_html(snap))
            except ReportTemplateMissing:
                pass
    except OSError as exc:
        out.append(f"could not record the violations in {folder} ({exc.strerror or exc})")
    return out


Checked = tuple[dict[str, Any], "list[rules.RuleResult]", "rules.RuleSet", Path | None, list[str]]


def run_check(out: Path, rules_file: Path | None) -> Checked:
    """Evaluate the rules on OUT (a run folder or a snapshot file), write check.json and record the violations.

    Returns (check.json document, results, rule set, check.json path or None, warnings)."""
    from .. import rules, runfolder

    run = runfolder.load(out)  # a run folder, or a snapshot file (runfolder.py: one loader for every command)
    snap_path, snap = run.snapshot_file, run.snapshot
    ruleset = load_rules(snap, rules_file)
    results = rules.evaluate(ruleset, snap)
    doc = check_document(results, ruleset, snap, snap_path)
    notes = warnings(results)
    written = None
    try:
        written = write_check(snap_path.parent, doc)
    except OSError as exc:
        notes.append(f"warning: could not write {snap_path.parent / CHECK} ({exc.strerror or exc})")
    notes += [f"warning: {w}" for w in record_violations(snap_path, snap, results, ruleset.source)]
    return doc, results, ruleset, written, notes


def report(
    doc: dict[str, Any],
    results: list[rules.RuleResult],
    ruleset: rules.RuleSet,
    written: Path | None,
    notes: list[str],
    json_out: bool,
) -> int:
    """Print the check (lines or JSON; warnings on stderr); the exit code (0 passed, 1 violated)."""
    for w in notes:
        click.echo(f"skeleton: {w}", err=True)
    if json_out:
        click.echo(orjson.dumps(doc).decode())
    else:
        for line in text_lines(results):
            click.echo(line)
        click.echo(summary_line(results, ruleset.source, written))
    return VIOLATED if doc["status"] == "violated" else 0


VIOLATED = 1  # the exit code of `skeleton check` (and of `skeleton run --check` on an otherwise clean run)


def before_run(rules_file: Path | None) -> None:
    """`skeleton run --check --rules FILE`: a malformed rule file is bad input before the program runs (exit 2)."""
    from .. import rules

    if rules_file is not None:
        rules.load_file(rules_file)


def after_run(snapshot: Path, rules_file: Path | None, say: Callable[[str], None], exit_code: int) -> int:
    """`skeleton run --check`, `skeleton pytest --check`: check the run just written, print the result with say()
    (stderr: stdout is the program's), record the violations, and return the exit code: the program's when it
    failed, else VIOLATED (1) when a rule is violated, else 0."""
    doc, results, ruleset, written, notes = run_check(snapshot, rules_file)
    summary = summary_line(results, ruleset.source, written).removeprefix("skeleton ")  # say() adds "skeleton: "
    for line in notes + text_lines(results) + [summary]:
        say(line)
    if exit_code != 0:
        return exit_code
    return VIOLATED if doc["status"] == "violated" else 0


@click.command("check")
@click.argument("out_dir", type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Rule file (TOML; or a pyproject.toml with [tool.skeleton.rules]). "
    "Default: [tool.skeleton.rules] in the run's project root's pyproject.toml.",
)
@click.option("--json", "json_out", is_flag=True, help="Print the result as one JSON document (as check.json).")
def check(out_dir: Path, rules_file: Path | None, json_out: bool) -> None:
    """Check architecture rules on the calls a run observed (OUT_DIR/snapshot.json).

    Prints one line per violating edge (rule, caller -> callee, calls, first event E<n> to
    replay), writes OUT_DIR/check.json, and exits 1 when a rule is violated (0 when all hold).
    """
    raise SystemExit(report(*run_check(out_dir, rules_file), json_out))
