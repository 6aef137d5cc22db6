import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSteps } from './decode';
import { buildGraphIndex, NEVER } from './graph';
import { buildReplayIndex } from './replay';
import { clampPos, eventRanges, firstPos, lastPos, mergeRanges, nearestEvent, positionRanges, posRank, rangeOf, stepPos, type Range } from './ranges';
import { buildScenarioIndex, exceptionStep, matchScenarios, pickScenarios, scenarioRanges, selectionReveals, selectScenarios, splitName } from './scenarios';
import { filterEvents, nodeMask, NO_FILTERS } from './filter';
import { buildSequence } from './sequence';
import { formatHash, parseHash, parseIds, DEFAULT_LINK } from './hash';
import type { Snapshot } from '../types/snapshot';

const load = (f: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', 'samples', f), 'utf8')) as Snapshot;

describe('ranges', () => {
  it('merges overlapping and touching ranges, drops empty ones', () => {
    expect(mergeRanges([[10, 12], [0, 3], [4, 5], [11, 20], [30, 29]])).toEqual([[0, 5], [10, 20]]);
    expect(mergeRanges([])).toEqual([]);
  });

  it('cuts scenario ranges to the window', () => {
    expect(eventRanges(100, null, null)).toBeNull();
    expect(eventRanges(100, [10, 50], null)).toEqual([[10, 50]]);
    expect(eventRanges(100, [10, 50], [[0, 12], [40, 60], [70, 80]])).toEqual([[10, 12], [40, 50]]);
    expect(eventRanges(100, null, [[90, 200]])).toEqual([[90, 99]]);
  });

  it('gives replay positions whose current event is inside the selection', () => {
    expect(positionRanges(100, null, null)).toEqual([[0, 100]]);
    expect(positionRanges(100, [10, 50], null)).toEqual([[10, 51]]);
    expect(positionRanges(100, null, [[5, 9], [20, 29]])).toEqual([[6, 10], [21, 30]]);
    // consecutive tests merge into one range
    expect(positionRanges(100, null, [[5, 9], [10, 19]])).toEqual([[6, 20]]);
    // nothing of the selection inside the window: the window alone
    expect(positionRanges(100, [50, 60], [[5, 9]])).toEqual([[50, 61]]);
  });

  it('steps across the gaps and clamps to the nearest allowed position', () => {
    const rs: Range[] = [[6, 10], [21, 30], [41, 41]];
    expect(firstPos(rs)).toBe(6);
    expect(lastPos(rs)).toBe(41);
    expect(stepPos(rs, 9, 1)).toBe(10);
    expect(stepPos(rs, 10, 1)).toBe(21);
    expect(stepPos(rs, 21, -1)).toBe(10);
    expect(stepPos(rs, 8, 10)).toBe(28); // 9, 10, then 21..28
    expect(stepPos(rs, 30, 1)).toBe(41);
    expect(stepPos(rs, 41, 5)).toBe(41);
    expect(stepPos(rs, 6, -3)).toBe(6);
    expect(stepPos(rs, 0, 1)).toBe(7);
    expect(clampPos(rs, 0)).toBe(6);
    expect(clampPos(rs, 12)).toBe(10);
    expect(clampPos(rs, 19)).toBe(21);
    expect(clampPos(rs, 99)).toBe(41);
    expect(rangeOf(rs, 25)).toBe(1);
    expect(rangeOf(rs, 15)).toBe(-1);
    expect(nearestEvent([[5, 9], [20, 29]], 12, 1)).toBe(20);
    expect(nearestEvent([[5, 9], [20, 29]], 12, -1)).toBe(9);
    expect(nearestEvent([[5, 9], [20, 29]], 30, 1)).toBe(-1);
    expect(nearestEvent([[5, 9], [20, 29]], 2, -1)).toBe(-1);
    expect(posRank(rs, 6)).toEqual({ rank: 1, total: 16 });
    expect(posRank(rs, 21)).toEqual({ rank: 6, total: 16 });
    expect(posRank(rs, 41)).toEqual({ rank: 16, total: 16 });
  });
});

describe('scenario index on the pytest sample', async () => {
  const snap = load('example-pytest.json');
  const g = buildGraphIndex(snap);
  const si = buildScenarioIndex(snap, g)!;
  const r = buildReplayIndex(await decodeSteps(snap.steps));
  const failed = snap.scenarios!.find((s) => s.outcome === 'failed')!;

  it('is null for a plain script run', () => {
    expect(buildScenarioIndex(load('example-shop.json'), buildGraphIndex(load('example-shop.json')))).toBeNull();
  });

  it('gives containers the union of their descendants', () => {
    for (let i = 0; i < g.nodes.length; i++) {
      if (!g.children[i].length) continue;
      const expected = new Set<number>(g.nodes[i].scenarios ?? []);
      const walk = (k: number) => { for (const id of g.nodes[k].scenarios ?? []) expected.add(id); g.children[k].forEach(walk); };
      walk(i);
      expect([...si.nodeScenarios[i]]).toEqual([...expected].sort((a, b) => a - b));
    }
    const mod = g.byId.get('mod:shop.services.inventory')!;
    expect(si.nodeScenarios[mod]).toContain(failed.id);
  });

  it('counts outcomes and marks harness containers', () => {
    expect(si.counts.get('failed')).toBe(1);
    expect(si.counts.get('skipped')).toBe(1);
    expect(si.harness[g.byId.get('mod:examples.shop.app')!]).toBe(1);
    expect(si.harness[g.byId.get('fn:examples.shop.app:checkout')!]).toBe(1);
    expect(si.harness[g.byId.get('mod:shop.services.inventory')!]).toBe(0);
    const mask = nodeMask(g, { ...NO_FILTERS, hideHarness: true }, si.harness);
    expect(mask[g.byId.get('fn:examples.shop.app:checkout')!]).toBe(0);
    expect(mask[g.byId.get('mod:shop.services.inventory')!]).toBe(1);
  });

  it('selects the evidence of some tests and lights it inside their steps', () => {
    const sel = selectScenarios(si, [failed.id, 999]);
    expect(sel.ids).toEqual([failed.id]);
    expect(sel.ranges).toEqual([[failed.first_event, failed.last_event]]);
    const lit = selectionReveals(r, g, sel, sel.ranges);
    for (let i = 0; i < g.nodes.length; i++) {
      const evidence = (si.nodeScenarios[i] as Int32Array).includes(failed.id);
      expect(sel.nodes[i]).toBe(evidence ? 1 : 0);
      if (!evidence) expect(lit.nodes[i]).toBe(NEVER);
      else expect(lit.nodes[i]).toBeGreaterThanOrEqual(failed.first_event!);
    }
    for (let j = 0; j < g.edges.length; j++) expect(sel.edges[j]).toBe((g.edges[j].scenarios ?? []).includes(failed.id) ? 1 : 0);
    // several tests: consecutive ones merge
    expect(scenarioRanges(si, [1, 2, 4])).toEqual([[42, 69], [200, 321]]);
    expect(scenarioRanges(si, [snap.scenarios!.find((s) => s.first_event === null)!.id])).toEqual([]);
  });

  it('restricts the events and the sequence to the selected steps', () => {
    const ranges: Range[] = [[42, 55], [200, 210]];
    const ev = filterEvents(r, NO_FILTERS, null, null, null, ranges);
    expect(ev.length).toBe(14 + 11);
    expect(ev[0]).toBe(42);
    expect(ev[14]).toBe(200);
    const seq = buildSequence(r, g, 55, 10, [42, 210], null, ranges);
    expect(seq.messages.map((m) => m.event)).toEqual([51, 52, 53, 54, 55, 200, 201, 202, 203, 204]);
  });

  it('finds where a failed test raised', () => {
    const e = exceptionStep(r, failed);
    expect(e).toBeGreaterThanOrEqual(failed.first_event!);
    expect(r.kindName[r.steps.kind[e]]).toBe('exception');
    expect(r.kindName[r.steps.kind[e - 1]]).not.toBe('exception');
    expect(exceptionStep(r, snap.scenarios![0])).toBe(-1);
  });

  it('filters tests by name, message and outcome', () => {
    expect(matchScenarios(si.list, 'checkout', null).length).toBe(3);
    expect(matchScenarios(si.list, 'insufficient', null)).toEqual([failed]);
    expect(matchScenarios(si.list, '', 'skipped').length).toBe(1);
    expect(splitName('tests/a.py::T::test_x[1]')).toEqual({ file: 'tests/a.py', test: 'T::test_x[1]' });
  });
});

describe('picking tests', () => {
  const order = [4, 1, 7, 2, 9];
  it('click, ctrl-click, shift-click', () => {
    expect(pickScenarios([], 7, order, null, { toggle: false, range: false })).toEqual([7]);
    expect(pickScenarios([7], 7, order, 7, { toggle: false, range: false })).toEqual([]);
    expect(pickScenarios([7], 2, order, 7, { toggle: true, range: false })).toEqual([2, 7]);
    expect(pickScenarios([2, 7], 7, order, 7, { toggle: true, range: false })).toEqual([2]);
    expect(pickScenarios([7], 9, order, 1, { toggle: false, range: true })).toEqual([1, 2, 7, 9]);
    expect(pickScenarios([4], 2, order, 7, { toggle: true, range: true })).toEqual([2, 4, 7]);
  });
});

describe('scenario deep links', () => {
  it('parses and writes scenario=<id>[,<id>]', () => {
    expect(parseHash('#scenario=3').scenarios).toEqual([3]);
    expect(parseHash('#scenario=7,3,3,x,-1').scenarios).toEqual([3, 7]);
    expect(parseHash('#scenario=7%2C3').scenarios).toEqual([3, 7]);
    expect(parseHash('#view=map').scenarios).toEqual([]);
    expect(parseIds('')).toEqual([]);
    const h = formatHash({ ...DEFAULT_LINK, pos: 10, scenarios: [2, 5] });
    expect(h).toBe('#view=map&pos=10&scenario=2,5');
    expect(parseHash(h).scenarios).toEqual([2, 5]);
    expect(formatHash({ ...DEFAULT_LINK })).toBe('#view=map');
  });
});
