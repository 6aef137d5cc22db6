"""The "Phases" section: start-up (imports, definitions; model/phases.py) apart from the work, per thread."""

from __future__ import annotations

from ...model import phases as ph
from ...model.calltree import CallNode
from .. import md
from .common import Write, brief_md, by_method, n_calls, n_entries

STARTUP_MODULES = 12
STARTUP_BUSIEST = 5

Split = list[tuple[int, ph.Phase, ph.Phase]]  # per thread: (thread id, start-up, work)


def split_phases(threads: list[tuple[int, CallNode]], scenarios: bool) -> Split:
    """Per thread (start-up, work); start-up is looked for in the first thread only."""
    out = []
    for i, (tid, root) in enumerate(threads):
        if i == 0:
            start, work = ph.split(root.children, scenarios)
        else:
            start, work = ph.Phase("start-up"), ph.Phase("work", list(root.children))
        out.append((tid, start, work))
    return out


def phases_section(w: Write, split: Split, module_of: dict[str, str], scenarios: bool) -> None:
    w("## Phases")
    w("")
    _tid, start, work = split[0] if split else (0, ph.Phase("start-up"), ph.Phase("work"))
    if start.entries:
        mods: dict[str, int] = {}
        for e in start.entries:
            mods[module_of.get(e.node_id, "")] = mods.get(module_of.get(e.node_id, ""), 0) + e.size
        start_n_md = n_entries(len(start.entries))
        w(
            f"- start-up (imports, definitions; inferred, see docs/workflow.md): E{start.first:d}–E{start.last:d}, "
            f"{start_n_md}, {n_calls(start.calls)} in {len(mods):,} modules; "
            "not expanded in the call tree"
        )
        top_mods = sorted(mods.items(), key=lambda kv: (-kv[1], kv[0]))
        mods_md = ", ".join(f"{md.code(m)} ({n_calls(n)})" for m, n in top_mods[:STARTUP_MODULES])
        more_md = f", … {len(top_mods) - STARTUP_MODULES:,} more" if len(top_mods) > STARTUP_MODULES else ""
        w(f"  - modules called at top level: {mods_md}{more_md}")
        busiest = by_method(start.entries)[:STARTUP_BUSIEST]
        w("  - most repeated: " + ", ".join(f"{md.code(k)} ×{n:,}" for k, n in busiest))
    elif scenarios:
        w("- start-up: no traced calls before the first scenario")
    else:
        w("- start-up: none told apart (no leading top-level calls that define functions or classes)")
    if work.entries and scenarios:
        n_scen = len({e.scenario for e in work.entries if e.scenario is not None})
        work_n_md = n_entries(len(work.entries))
        w(
            f"- work: E{work.first:d}–E{work.last:d}, {work_n_md}, {n_calls(work.calls)} in {n_scen:,} scenarios "
            "(their main calls are under Scenarios)"
        )
    elif work.entries:
        work_n_md = n_entries(len(work.entries))
        w(f"- work: E{work.first:d}–E{work.last:d}, {work_n_md}, {n_calls(work.calls)}")
        main = sorted(work.entries, key=ph.importance)[:8]
        main.sort(key=lambda n: n.order)
        w("  - its biggest calls, in order: " + "; ".join(brief_md(n) for n in main))
    else:
        w("- work: no top-level calls after start-up")
    for tid, _s, other in split[1:]:
        if other.entries:
            other_n_md = n_entries(len(other.entries))
            w(f"- thread {tid:d}: E{other.first:d}–E{other.last:d}, {other_n_md}, {n_calls(other.calls)}")
    w("")
