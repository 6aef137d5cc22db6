// What was recorded per phase (stats.sampling) and what the header says about it.
import { describe, expect, it } from 'vitest';
import type { Gap, Sampling, Scenario, Stats } from '../types/snapshot';
import { bannerText, describeRecording, eventsFigure } from './recording';

function stats(events: number, recorded: number, sampling?: Sampling, gaps: Gap[] = []): Stats {
  return { events, recorded_events: recorded, dropped_events: events - recorded, calls: events / 2, max_depth: 3, threads: [], gaps,
    nodes: 1, edges: 1, ...(sampling ? { sampling } : {}) };
}

const SCRIPT: Sampling = { max_events: 200_000, imports: { budget: 5_000, recorded: 5_008 }, work: { recorded: 29_178 },
  edges: { first_calls_per_edge: 3, reserve: 10_000, recorded: 12 }, counted: { calls: 3_507, in_scenarios: 0 } };
const GAPS: Gap[] = [
  { kind: 'cap', message: 'recording budgets spent: 7,014 events were not written', count: 7014 },
  { kind: 'sampling', message: 'recording budgets within --max-events 200,000: imports 5,008 events', count: 1 },
];

const scenario = (id: number, first: number | null): Scenario => ({ id, name: `t${id}`, kind: 'test', outcome: 'passed', duration_s: 0,
  message: null, file: 't.py', line: 1, first_event: first, last_event: first, calls: 3 });

describe('describeRecording', () => {
  it('states each phase of a script run with its budget, and the counted rest', () => {
    const r = describeRecording({ stats: stats(41_200, 34_198, SCRIPT, GAPS) });
    expect(r.notRecorded).toBe(7_002);
    expect(r.maxEvents).toBe(200_000);
    expect(r.capReached).toBe(false);
    expect(r.pastCap).toBe(0);
    expect(r.countedCalls).toBe(3_507);
    expect(r.phases.map((p) => [p.key, p.recorded, p.budget])).toEqual([
      ['imports', 5_008, '5,000'], ['work', 29_178, 'what is left'], ['edges', 12, 'reserve 10,000']]);
    expect(r.phases[0].note).toMatch(/budget spent/);
    expect(r.phases[2].note).toMatch(/first 3 calls/);
    expect(r.tests).toBeNull();
  });

  it('counts the tests with recorded steps from the scenarios', () => {
    const s: Sampling = { ...SCRIPT, scenarios: { count: 3, recorded: 900, share_min: 100, share_max: 600, without_events: 1 } };
    const r = describeRecording({ stats: stats(5_000, 2_000, s), scenarios: [scenario(0, 0), scenario(1, null), scenario(2, 40)] });
    expect(r.tests).toEqual({ count: 3, withSteps: 2, noun: 'tests' });
    const row = r.phases.find((p) => p.key === 'tests')!;
    expect(row).toMatchObject({ label: 'Tests (3)', recorded: 900, budget: '100–600 each', note: '2 of 3 with recorded steps' });
  });

  it('says the hard cap was reached when the recorded events fill it', () => {
    const r = describeRecording({ stats: stats(9_000, 1_000, { ...SCRIPT, max_events: 1_000 }) });
    expect(r.capReached).toBe(true);
    expect(r.pastCap).toBe(5_008 + 29_178 + 12 - 1_000);
    expect(bannerText(r)!.text).toContain('(hard cap --max-events 1,000 reached)');
  });

  it('has no phases without a sampling account (--max-events 0)', () => {
    const r = describeRecording({ stats: stats(424, 424) });
    expect(r.phases).toEqual([]);
    expect(r.maxEvents).toBeNull();
    expect(eventsFigure(r)).toBe('424, all recorded');
  });
});

describe('the header', () => {
  it('shows recorded of counted events, not their sum', () => {
    expect(eventsFigure(describeRecording({ stats: stats(35_894, 4_000, SCRIPT) }))).toBe('4,000 recorded of 35,894');
  });

  it('folds the cap and sampling gaps into one sentence, other gaps go to the details', () => {
    const other: Gap = { kind: 'unmatched', message: 'returns without a matching call', count: 2 };
    const b = bannerText(describeRecording({ stats: stats(41_200, 34_186, SCRIPT, [...GAPS, other]) }))!;
    expect(b.text).toBe('Partly recorded: 34,186 of 41,200 events in the replay (recording budgets within --max-events 200,000); '
      + 'the other 7,014 counted on their call edges.');
    expect(b.more).toBe(1);
  });

  it('names the tests without recorded steps in the sentence', () => {
    const r = describeRecording({ stats: stats(10_000, 2_000, SCRIPT), scenarios: [scenario(0, 0), scenario(1, null)] });
    expect(bannerText(r)!.text).toMatch(/; 1 of 2 tests have recorded steps\.$/);
  });

  it('shows a lone gap of another kind as it is, and nothing for a complete run', () => {
    const g: Gap = { kind: 'child_process', message: 'child processes ran untraced', count: 1, at_event: 7 };
    expect(bannerText(describeRecording({ stats: stats(10, 10, undefined, [g]) }))).toEqual(
      { text: 'child processes ran untraced (at event 7)', more: 0 });
    expect(bannerText(describeRecording({ stats: stats(10, 10) }))).toBeNull();
  });
});
