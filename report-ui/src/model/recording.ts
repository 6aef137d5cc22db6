// What the run recorded and what it only counted, per phase (snapshot stats.sampling: imports, the work,
// the scenarios, the edges' first calls, the hard cap), and the one sentence the header's banner says about
// the run's gaps. Pure, no React.
import type { Gap, Snapshot } from '../types/snapshot';

export const num = (n: number): string => Math.round(n).toLocaleString('en-US');

export interface PhaseRow {
  key: 'imports' | 'tests' | 'work' | 'edges';
  label: string;
  recorded: number;
  /** The budget or share it had, in words (`5,000`, `19,000–188,832 each`, `what is left`). */
  budget: string;
  note: string;
}

export interface Recording {
  /** Events in the replay (stats.recorded_events) and in the run (stats.events). */
  recorded: number;
  total: number;
  notRecorded: number;
  /** Calls counted on their edges instead of recorded, and those of them made in tests; null when unknown. */
  countedCalls: number | null;
  countedInTests: number | null;
  /** The hard total (--max-events); null when unlimited or unknown. */
  maxEvents: number | null;
  capReached: boolean;
  /** Events the phases took past the hard cap (the tracer appended them, the trace kept max_events). */
  pastCap: number;
  phases: PhaseRow[];
  /** Scenarios (tests, requests) and how many of them have recorded steps; null without scenarios. */
  tests: { count: number; withSteps: number; noun: string } | null;
  gaps: Gap[];
}

type SnapLike = Pick<Snapshot, 'stats'> & { scenarios?: Snapshot['scenarios'] };

export function describeRecording(snap: SnapLike): Recording {
  const { stats } = snap;
  const s = stats.sampling;
  const recorded = stats.recorded_events;
  const total = Math.max(stats.events, recorded);
  const maxEvents = s && s.max_events > 0 ? s.max_events : null;
  const scen = Array.isArray(snap.scenarios) ? snap.scenarios : null;
  let tests: Recording['tests'] = null;
  if (scen && scen.length) {
    const noun = scen.every((x) => x.kind === 'test') ? 'tests' : 'scenarios';
    tests = { count: scen.length, withSteps: scen.filter((x) => x.first_event != null).length, noun };
  } else if (s?.scenarios?.count) {
    tests = { count: s.scenarios.count, withSteps: s.scenarios.count - (s.scenarios.without_events ?? 0), noun: 'scenarios' };
  }
  const phases: PhaseRow[] = [];
  if (s) {
    const ib = s.imports.budget ?? null, ir = s.imports.recorded ?? 0;
    phases.push({ key: 'imports', label: 'Imports (module bodies running)', recorded: ir, budget: ib == null ? 'none' : num(ib),
      note: ib != null && ir >= ib ? 'budget spent: later import-time calls were counted' : '' });
    const sc = s.scenarios;
    if (sc?.count) {
      const share = sc.share_min == null || sc.share_max == null ? 'no fixed share'
        : sc.share_min === sc.share_max ? `${num(sc.share_min)} each` : `${num(sc.share_min)}–${num(sc.share_max)} each`;
      const t = tests ?? { count: sc.count, withSteps: sc.count - (sc.without_events ?? 0), noun: 'scenarios' };
      phases.push({ key: 'tests', label: `${t.noun[0].toUpperCase()}${t.noun.slice(1)} (${num(t.count)})`, recorded: sc.recorded ?? 0,
        budget: share, note: `${num(t.withSteps)} of ${num(t.count)} with recorded steps` });
    }
    phases.push({ key: 'work', label: sc?.count ? 'Work outside imports and tests' : 'Work (after the imports)',
      recorded: s.work.recorded ?? 0, budget: 'what is left', note: '' });
    const e = s.edges;
    phases.push({ key: 'edges', label: 'First calls of each edge', recorded: e.recorded ?? 0, budget: `reserve ${num(e.reserve ?? 0)}`,
      note: e.first_calls_per_edge ? `the first ${e.first_calls_per_edge} calls of every caller → callee edge met past the budgets` : '' });
  }
  return {
    recorded, total, notRecorded: total - recorded,
    countedCalls: s?.counted?.calls ?? null, countedInTests: s?.counted?.in_scenarios ?? null,
    maxEvents, capReached: maxEvents != null && recorded >= maxEvents,
    pastCap: Math.max(0, phases.reduce((a, p) => a + p.recorded, 0) - recorded),
    phases, tests, gaps: stats.gaps,
  };
}

/** The header's events figure: `4,000 recorded of 35,894`, or `424, all recorded`. */
export function eventsFigure(r: Recording): string {
  return r.notRecorded > 0 ? `${num(r.recorded)} recorded of ${num(r.total)}` : `${num(r.total)}, all recorded`;
}

/** The banner's one sentence about what is missing from the record (null: nothing is), and how many gaps
 * of other kinds the details list besides. */
export function bannerText(r: Recording): { text: string; more: number } | null {
  const partial = r.notRecorded > 0;
  const budgetKinds = new Set(['cap', 'sampling']);
  const others = r.gaps.filter((g) => !(partial && budgetKinds.has(g.kind)));
  if (!partial && !others.length) return null;
  if (!partial) {
    const g = others[0];
    return { text: `${g.message}${g.at_event != null ? ` (at event ${g.at_event})` : ''}`, more: others.length - 1 };
  }
  const why = r.capReached ? `hard cap --max-events ${num(r.maxEvents!)} reached`
    : r.maxEvents != null ? `recording budgets within --max-events ${num(r.maxEvents)}` : 'the event cap was reached';
  let text = `Partly recorded: ${num(r.recorded)} of ${num(r.total)} events in the replay (${why}); the other ` +
    `${num(r.notRecorded)} counted on their call edges`;
  if (r.tests && r.tests.withSteps < r.tests.count) text += `; ${num(r.tests.withSteps)} of ${num(r.tests.count)} ${r.tests.noun} have recorded steps`;
  return { text: `${text}.`, more: others.length };
}
