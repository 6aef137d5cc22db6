"""The "Phases" section: start-up (imports, definitions; model/phases.py) apart from the work, per thread."""

from __future__ import annotations

from ...model import phases as ph
from ...model.calltree import CallNode
from .. import md
from .common import Write, brief_md, by_method, n_calls, n_entries

STARTUP_MODULES = 12
STARTUP_BUSIEST = 5

Split = list[tuple[int, ph.Phase, ph.Phase]]  # per thread: (thread id, start-up, work)


def split_phases(threads: list[tuple[int, CallNode]], scenarios: bool, last: dict[int, int]) -> Split:
    """Per thread (start-up, work); start-up is looked for in the first thread only. `last`: each thread's
    last event (CallTree.last), for the top-level calls the call tree did not keep (its budget ran out)."""
    out = []
    for i, (tid, root) in enumerate(threads):
        if i == 0:
            start, work = ph.split(root.children, scenarios)
        else:
            start, work = ph.Phase("start-up"), ph.Phase("work", list(root.children))
        if root.cut:  # top-level calls past the tree's budget (and the calls inside them)
            work.untold = root.cut
            work.untold_last = last.get(tid)
        out.append((tid, start, work))
    return out


def write_untold(w: Write, work: ph.Phase, lead_md: str) -> None:
    """The line (after `lead_md`, finished Markdown) for what the call tree left out at the top level after its
    last kept entry, when it left something out: under the work in Phases, and as a thread's last tree line."""
    if not work.untold:
        return
    after = work.last if work.last is not None else -1
    until_md = f"–E{work.untold_last:d}" if work.untold_last is not None and work.untold_last > after else ""
    w(
        f"{lead_md}E{after + 1:d}{until_md}: top-level calls the call tree did not keep (its entries ran out: see "
        f"Limits), {n_calls(work.untold)} in all, counted in the sizes, actors and edges"
    )


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
        write_untold(w, work, "  - then ")
    elif work.entries:
        work_n_md = n_entries(len(work.entries))
        w(f"- work: E{work.first:d}–E{work.last:d}, {work_n_md}, {n_calls(work.calls)}")
        main = sorted(work.entries, key=ph.importance)[:8]
        main.sort(key=lambda n: n.order)
        w("  - its biggest calls, in order: " + "; ".join(brief_md(n) for n in main))
        write_untold(w, work, "  - then ")
    else:
        w("- work: no top-level calls after start-up")
    for tid, _s, other in split[1:]:
        if other.entries:
            other_n_md = n_entries(len(other.entries))
            w(f"- thread {tid:d}: E{other.first:d}–E{other.last:d}, {other_n_md}, {n_calls(other.calls)}")
            write_untold(w, other, "  - then ")
    w("")
