"""Recording budgets: which part of the run is recorded as events, and which is only counted.

`--max-events` (Budget.max_events) is the hard total of event records. Within it (docs/trace-format.md,
"Sampling"):

* imports (calls made while a module body runs, i.e. while an import is in progress) are a phase of their
  own with a small budget (max_events // import_share); past it, import-time calls are counted per
  caller -> callee instead of recorded (what the module body calls: on the edge from the nearest traced
  frame below the import, or with no caller, as a recorded trace would show them);
* each scenario (a pytest test, a web request, a trace(scenario=) block) gets an equal share of what is
  left when it begins (what is left / scenarios still to run): what one test leaves unused flows on;
* a reserve (max_events // edge_share) is kept for the first calls of each caller -> callee edge met
  while counting: the first `first_per_edge` calls of every edge are recorded (with their arguments),
  even past the other budgets.

Phases are switched off the hot path (at an import's first and last event, at a scenario's start and
end, at a flush); the hot path only reads the Recorder's `mode` flag (record or count), as before.
"""

from __future__ import annotations

# Bound at import, before the program runs: a program that replaces a builtin is never called by the tracer.
from builtins import AttributeError, dict, len, max, min, range, sum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import layout as L
from . import records as R

UNLIMITED = 1 << 62  # --max-events 0
ROOT = R.MODULE_KEY  # the counting-stack key of a module body (an import): counted with caller None


@dataclass
class Budget:
    """When calls are recorded and when their argument/return summaries are taken."""

    first_calls: int = 10_000  # summaries: every call among the first N calls of the run and of each scenario
    per_code: int = 20  # the first K calls of each function
    sample_every: int = 1_000  # then one call in N per function
    max_events: int = 1_000_000  # the hard total of event records; past the budgets, calls are only counted
    import_share: int = 40  # imports: at most max_events // import_share events (5,000 of 200,000)
    edge_share: int = 20  # reserve for the first calls of edges: max_events // edge_share (10,000 of 200,000)
    first_per_edge: int = 3  # calls recorded per caller -> callee edge met while counting

    @property
    def limited(self) -> bool:
        return 0 < self.max_events < UNLIMITED

    def import_budget(self) -> int:
        return self.max_events // self.import_share if self.limited else self.max_events

    def edge_reserve(self) -> int:
        return self.max_events // self.edge_share if self.limited and self.first_per_edge > 0 else 0

    def policy(self) -> dict[str, Any]:
        """The header's statement of what will be sampled (trace.schema.json Header.sampling)."""
        return {
            "max_events": self.max_events if self.limited else 0,
            "import_budget": self.import_budget() if self.limited else None,
            "scenario_share": "equal share of what is left" if self.limited else None,
            "first_calls_per_edge": self.first_per_edge if self.limited else None,
            "edge_reserve": self.edge_reserve(),
            "summaries": {
                "first_calls": self.first_calls,
                "per_function": self.per_code,
                "then_one_in": self.sample_every,
            },
        }


class Phase:
    """One budgeted part of the run: the imports, the work outside scenarios, one scenario."""

    __slots__ = ("budget", "name", "used")

    def __init__(self, name: str, budget: int | None) -> None:
        self.name = name
        self.budget = budget  # event records it may take (None: whatever is left)
        self.used = 0  # event records appended while it ran


class Budgets:
    """The budget half of the Recorder (its __init__ calls init_budgets)."""

    budget: Budget
    buf: list[Any]
    mode: list[bool]
    limit: list[int]
    state: list[int]
    thread_states: list[list[Any]]
    tls: Any
    scenario: str | None
    new_thread: Callable[[], list[Any]]
    events_appended: Callable[[], int]
    chunk_size: Callable[[], int]

    def init_budgets(self) -> None:
        b = self.budget
        self.total = b.max_events
        self.edge_reserve = b.edge_reserve()
        self.reserve = [self.edge_reserve]  # events left for first calls of edges (the hot path takes 2 each)
        self.importing = [0]  # module bodies running now (all threads)
        self.module_codes: dict[int, int] = {}  # id(code of a module body running now) -> how many run it
        self.root_codes: set[int] = set()  # those of them that stand as ROOT on a counting stack
        self.imports = Phase("imports", b.import_budget())
        self.work = Phase("work", None)
        self.phase = self.work  # the phase the events appended now belong to
        self.outer = self.work  # the phase after the imports in progress: the work, or the scenario running
        self.mark = 0  # events_appended() when the phase began
        self.scenario_log: list[Phase] = []
        self.resume_refused = 0  # times recording could not resume: another thread was in a counted call
        self.counted_some = False  # some calls were counted rather than recorded
        self.sampled: dict[str, Any] | None = None  # sampling() when the capture finished (the end record's)
        self.limit = [max(1, min(R.CHUNK, self.left()))]

    # -- how much is left ------------------------------------------------------
    def left(self) -> int:
        """Event records the running phase may still append."""
        events = self.events_appended()
        pool = self.total - events - self.reserve[0]
        phase = self.phase
        if phase.budget is None:
            return pool
        return min(phase.budget - (phase.used + events - self.mark), pool)

    def apply_budget(self) -> None:
        """Record or count from here on, and when to look again (the buffer length that triggers a flush)."""
        left = self.left()
        chunk = self.chunk_size()
        mode = self.mode
        if left > 0 and (not mode[0] or self._resume_recording()):
            self.limit[0] = len(self.buf) + max(1, min(chunk, left))
            return
        mode[0] = True  # count, do not record (threads seed their counting stacks at their next event)
        self.counted_some = True
        self.limit[0] = len(self.buf) + chunk

    def _resume_recording(self) -> bool:
        """Back to recording, unless a thread is inside a counted call (its return would have no call)."""
        for p in self.thread_states:
            for key in p[L.P_STACK]:
                if key >= 0:
                    self.resume_refused += 1
                    return False
        for p in self.thread_states:
            del p[L.P_STACK][:]  # record-written frames only: the next switch to counting seeds them again
            p[L.P_SEEDED] = False
        self.mode[0] = False
        return True

    def switch(self, phase: Phase) -> None:
        events = self.events_appended()
        self.phase.used += events - self.mark
        self.mark = events
        self.phase = phase
        self.apply_budget()

    # -- scenarios -------------------------------------------------------------
    def scenario_phase(self, name: str, remaining: int | None) -> None:
        """A scenario begins: its share is what is left divided by the scenarios still to run (this one too)."""
        share = None
        if remaining is not None and remaining > 0 and self.budget.limited:
            pool = self.total - self.events_appended() - self.reserve[0]
            share = max(0, pool // remaining)
        phase = Phase(name, share)
        self.scenario_log.append(phase)
        self.state[0] = 0  # argument/return summaries: the first calls of each scenario
        self.outer = phase
        if not self.importing[0]:
            self.switch(phase)

    def scenario_phase_end(self) -> None:
        self.outer = self.work
        if not self.importing[0]:
            self.switch(self.work)

    # -- imports ---------------------------------------------------------------
    def import_began(self, code_id: int) -> None:
        """A module body starts (an import): its calls belong to the imports' budget."""
        self.module_codes[code_id] = self.module_codes.get(code_id, 0) + 1
        self.importing[0] += 1
        if self.importing[0] == 1:
            self.switch(self.imports)
        if self.mode[0]:
            p = self._thread()
            # Seeded, with no traced frame below: the module body is the caller of what it calls (no caller,
            # as in a recorded trace); below a traced frame, that frame is (else seed() decides it).
            if p[L.P_SEEDED] and not p[L.P_STACK]:
                p[L.P_STACK].append(ROOT)
                self.root_codes.add(code_id)

    def import_ended(self, code_id: int) -> None:
        n = self.module_codes.get(code_id)
        if not n:
            return  # its start was not seen (a module body run again after it was switched off)
        if n == 1:
            del self.module_codes[code_id]
        else:
            self.module_codes[code_id] = n - 1
        self.importing[0] = max(0, self.importing[0] - 1)
        if code_id in self.root_codes:
            self.root_codes.discard(code_id)
            stack = self._thread()[L.P_STACK]
            for i in range(len(stack) - 1, -1, -1):  # its counted calls have returned: ROOT is on top
                if stack[i] == ROOT:
                    del stack[i:]
                    break
        if not self.importing[0]:
            self.switch(self.outer)

    def _thread(self) -> list[Any]:
        try:
            p: list[Any] = self.tls.p
        except AttributeError:
            p = self.new_thread()
        return p

    # -- what was sampled --------------------------------------------------------
    def sampling(self) -> dict[str, Any]:
        """The end record's statement of what was recorded per phase (trace.schema.json End.sampling)."""
        self.switch(self.phase)  # brings the running phase's count up to date
        b = self.budget
        out: dict[str, Any] = {
            "max_events": self.total if b.limited else 0,
            "imports": {"budget": self.imports.budget if b.limited else None, "recorded": self.imports.used},
            "work": {"recorded": self.work.used},
            "edges": {
                "first_calls_per_edge": b.first_per_edge if b.limited else None,
                "reserve": self.edge_reserve,
                "recorded": self.edge_reserve - self.reserve[0],
            },
        }
        if self.scenario_log:
            shares = [p.budget for p in self.scenario_log if p.budget is not None]
            out["scenarios"] = {
                "count": len(self.scenario_log),
                "recorded": sum(p.used for p in self.scenario_log),
                "share_min": min(shares) if shares else None,
                "share_max": max(shares) if shares else None,
                "without_events": sum(1 for p in self.scenario_log if p.used == 0),
            }
        if self.resume_refused:
            out["resume_refused"] = self.resume_refused
        return out


def sampling_text(s: dict[str, Any]) -> str:
    """One line for people (the `sampling` gap: workflow.md, the report, `skeleton report`)."""
    parts = [
        f"recording budgets within --max-events {s['max_events']:,}: imports {s['imports']['recorded']:,} events "
        f"(budget {s['imports']['budget']:,})"
    ]
    sc = s.get("scenarios")
    if sc:
        share = f"{sc['share_min']:,}-{sc['share_max']:,}" if sc["share_min"] is not None else "no fixed share"
        parts.append(
            f"{sc['count']:,} scenarios {sc['recorded']:,} events (share each {share}, "
            f"{sc['without_events']:,} without events)"
        )
    parts.append(f"the rest {s['work']['recorded']:,}")
    e = s["edges"]
    if e["recorded"]:
        parts.append(
            f"first {e['first_calls_per_edge']} calls of edges met past the budgets: {e['recorded']:,} events "
            f"(reserve {e['reserve']:,})"
        )
    return "; ".join(parts) + ". Calls past the budgets are counted per caller -> callee."
