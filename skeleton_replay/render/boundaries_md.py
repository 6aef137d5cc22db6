"""workflow.md sections on the outside world: "Boundaries (I/O)" and "Rule violations".

Same rules as the sections in render/workflow/: program text only through md.text()/md.code(), numbers formatted here,
locals holding finished Markdown end in `_md`.
"""

from __future__ import annotations

import re
from typing import Any

from . import md

BOUNDARY_LINES = 30  # boundaries listed (first seen first)
USE_LINES = 5  # actors listed per boundary
VIOLATION_LINES = 40
VIOLATIONS_HEADING = "## Rule violations"
_KIND_WORDS = {
    "file": "file",
    "network": "network",
    "subprocess": "program",
    "database": "database",
    "console": "console",
    "env": "environment variable",
}


def _first_md(first: object) -> str:
    return f", first E{first:d}" if isinstance(first, int) and not isinstance(first, bool) else ""


def _times(n: int) -> str:
    return f"{n:,} time" if n == 1 else f"{n:,} times"


def boundaries_section(snapshot: dict[str, Any]) -> list[str]:
    """The "Boundaries (I/O)" section, or [] when the run did no I/O from project code."""
    found = snapshot.get("boundaries") or []
    if not found:
        return []
    out = [
        "## Boundaries (I/O)",
        "",
        "Where project code touched the outside world, attributed to the nearest traced callable "
        "(docs/boundaries.md), or to a project module whose body ran it (`mod:`). Targets are folded: "
        "project-relative paths, `<tmp>/NAME`, `host:port`, program names, environment variable names (never "
        "values), `stdout`/`stderr`; SQL statements by shape only (verb and tables, no literals or parameters).",
        "",
    ]
    actors: dict[str, set[str]] = {}
    for b in found:
        for u in b["uses"]:
            actors.setdefault(u["actor"], set()).add(b["kind"])
    kinds_md = "; ".join(f"{md.code(a)} ({md.text(', '.join(sorted(k)), 80)})" for a, k in sorted(actors.items())[:20])
    more_md = f"; … {len(actors) - 20:,} more" if len(actors) > 20 else ""
    out.append(f"- actors doing I/O: {kinds_md}{more_md}")
    for b in found[:BOUNDARY_LINES]:
        kind_md = md.text(_KIND_WORDS.get(b["kind"], b["kind"]), 40)
        ops_md = md.text(", ".join(b["ops"]), 120)
        times_md, first_md = _times(b["count"]), _first_md(b["first_seen"])
        out.append(f"- {kind_md} {md.code(b['target'], 300)}: {times_md} ({ops_md}){first_md}")
        for u in b["uses"][:USE_LINES]:
            uops_md = md.text(", ".join(u["ops"]), 120)
            details_md = "".join(f"; {md.code(d, 200)}" for d in u.get("details") or ())
            times_md, first_md = _times(u["count"]), _first_md(u["first_seen"])
            out.append(f"  - {md.code(u['actor'])}: {times_md} ({uops_md}){first_md}{details_md}")
        if len(b["uses"]) > USE_LINES:
            out.append(f"  - … {len(b['uses']) - USE_LINES:,} more actors (see snapshot.json `boundaries`)")
    if len(found) > BOUNDARY_LINES:
        out.append(f"- … {len(found) - BOUNDARY_LINES:,} more boundaries (see snapshot.json `boundaries`)")
    out.append("")
    return out


def violations_section(violations: list[dict[str, Any]], rules_file: str | None) -> list[str]:
    """The "Rule violations" section written by `skeleton check` / `skeleton run --check`."""
    out = [VIOLATIONS_HEADING, ""]
    source_md = f" of {md.code(rules_file, 500)}" if rules_file else ""
    if not violations:
        out += [f"- none: every rule{source_md} holds", ""]
        return out
    plural_md = "s" if len(violations) != 1 else ""
    out.append(
        f"- {len(violations):,} violating edge{plural_md}{source_md} "
        "(`skeleton check`; replay with `report.html#event=N`)"
    )
    for v in violations[:VIOLATION_LINES]:
        count_md = f"{v['count']:,} {'time' if v['kind'] == 'io' else 'call'}" + ("s" if v["count"] != 1 else "")
        first_md = _first_md(v["first_seen"])
        out.append(
            f"- {md.text(v['kind'], 20)} {md.code(v['rule'], 200)}: {md.code(v['source'])} → "
            f"{md.code(v['target'])}: {count_md}{first_md}; {md.text(v['detail'], 300)}"
        )
    if len(violations) > VIOLATION_LINES:
        out.append(f"- … {len(violations) - VIOLATION_LINES:,} more (see check.json)")
    out.append("")
    return out


_SECTION = re.compile(r"^## Rule violations\n.*?(?=^## |\Z)", re.M | re.S)


def replace_violations(workflow: str, section: list[str]) -> str:
    """workflow.md with its "Rule violations" section replaced (or added at the end)."""
    text = "\n".join(section) + "\n"
    if _SECTION.search(workflow):
        return _SECTION.sub(lambda _: text, workflow, count=1)
    return workflow.rstrip("\n") + "\n\n" + text
