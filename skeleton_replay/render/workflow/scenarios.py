"""The "Scenarios" section: each pytest test or traced request with its outcome and main calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...model import phases as ph
from ...model.calltree import CallNode
from .. import md
from .common import Write, brief_md, n_calls

if TYPE_CHECKING:
    from ...model.build import Record

SCENARIO_LINES = 40  # scenarios described one by one
SCENARIO_CALLS = 5  # main calls listed per scenario


def scenarios_section(w: Write, scenarios: list[Record], threads: list[tuple[int, CallNode]]) -> None:
    w("## Scenarios")
    w("")
    outcomes: dict[str, int] = {}
    for s in scenarios:
        key = s["outcome"] or "unknown"
        outcomes[key] = outcomes.get(key, 0) + 1
    w("- " + ", ".join(f"{n:,} {md.text(k, 40)}" for k, n in sorted(outcomes.items(), key=lambda kv: -kv[1])))
    by_name: dict[str, list[CallNode]] = {}
    for _tid, root in threads:
        for c in root.children:
            if c.scenario is not None:
                by_name.setdefault(c.scenario, []).append(c)
    shown = 0
    for s in scenarios:
        if shown >= SCENARIO_LINES:
            break
        shown += 1
        events_md = "no recorded events"
        if s["first_event"] is not None:
            events_md = f"E{s['first_event']:d}–E{s['last_event']:d}"
        took_md = f", {s['duration_s']:.3f} s" if s.get("duration_s") is not None else ""
        why_md = f": {md.text(s['message'], 160)}" if s.get("message") and s["outcome"] != "passed" else ""
        w(
            f"- S{s['id']:d} {md.code(s['name'])} {md.text(s['outcome'] or 'unknown', 40)}{why_md} "
            f"({n_calls(s['calls'])}{took_md}; {events_md})"
        )
        entries = by_name.get(s["name"], [])
        main = sorted(entries, key=ph.importance)[:SCENARIO_CALLS]
        main.sort(key=lambda n: n.order)
        if main:
            w("  - main calls: " + "; ".join(brief_md(n) for n in main))
        if len(entries) > len(main):
            w(f"  - … {len(entries) - len(main):,} more top-level calls in it")
    if len(scenarios) > shown:
        w(f"- … {len(scenarios) - shown:,} more scenarios (see snapshot.json `scenarios`)")
    w("")
