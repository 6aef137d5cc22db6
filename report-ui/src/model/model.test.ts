import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSteps } from './decode';
import { buildGraphIndex, countRevealed, isRevealed, NEVER, sortedReveals } from './graph';
import { activity, buildReplayIndex, callerOf, stackAt, windowReveals } from './replay';
import { formatSummary, formatNs } from './summary';
import { fuzzyScore, searchNodes } from './search';
import { filterEvents, nodeMask, NO_FILTERS, replayBounds } from './filter';
import { fullEdges, fullGraph } from './layoutGraph';
import { aggregateEdges, identityRep } from './lod';
import { buildSequence } from './sequence';
import { formatHash, parseHash } from './hash';
import { exportWindow } from './exportWindow';
import type { Snapshot } from '../types/snapshot';

const samplesDir = join(__dirname, '..', '..', 'samples');
const samples = readdirSync(samplesDir).filter((f) => f.endsWith('.json') && !f.startsWith('big'));
const load = (f: string) => JSON.parse(readFileSync(join(samplesDir, f), 'utf8')) as Snapshot;

function col(arr: ArrayLike<number>, dtype: 'u8' | 'u16' | 'u32' | 'i32') {
  const T = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, i32: Int32Array }[dtype];
  const a = T.from(arr);
  return { dtype, data: deflateSync(Buffer.from(a.buffer)).toString('base64') };
}

/** A tiny snapshot: scenario -> main() -> gen() yields, main resumes it; thread 1 runs work(). */
function tiny(): Snapshot {
  const node = (id: string, kind: string, parent: string | null, first: number | null) => ({
    id, kind, label: id, parent, module: 'm', qualified_name: 'm.' + id, file: 'm.py', line: 1,
    first_seen: first, last_seen: first, call_count: 1, internal: id.startsWith('_'),
  });
  // events: 0 call main(t0) 1 call gen(t0) 2 yield gen 3 call work(t1) 4 resume gen 5 return gen 6 return work(t1) 7 return main
  const kinds = [0, 0, 3, 0, 4, 1, 1, 1];
  const nodeCol = [1, 2, 2, 3, 2, 2, 3, 1];
  const edge = [0, 1, 1, 2, 1, 1, 2, 0];
  const thread = [0, 0, 0, 1, 0, 0, 1, 0];
  const depth = [0, 1, 1, 0, 1, 1, 0, 0];
  const callId = [0, 1, 1, 3, 1, 1, 3, 0];
  return {
    format_version: 1, skeleton_version: 't',
    run: { app_name: 't', command: ['x'], target: { kind: 'script', path: 'x', args: [] }, project_root: '/p', python_version: '3.12',
      backend: 'sysmon', backend_reason: '', started_at: '', duration_s: 0, exit_code: 0, status: 'ok', error: null },
    stats: { events: 8, recorded_events: 8, dropped_events: 0, calls: 3, max_depth: 2, threads: [], gaps: [], nodes: 5, edges: 3 },
    nodes: [node('scenario:run', 'scenario', null, 0), node('main', 'function', 'mod:m', 0), node('gen', 'function', 'mod:m', 1),
      node('_work', 'function', 'mod:m', 3), node('mod:m', 'module', null, null)] as Snapshot['nodes'],
    edges: [['scenario:run', 'main', 0], ['main', 'gen', 1], ['scenario:run', '_work', 3]].map(([s, t, f]) => ({
      id: `${s}->${t}`, source: s as string, target: t as string, kind: 'call' as const, count: 1, first_seen: f as number, last_seen: f as number,
      total_ns: 0, max_ns: 0, raised: 0, example_events: [f as number] })),
    module_edges: [],
    steps: { count: 8, kinds: ['call', 'return', 'exception', 'yield', 'resume'], time_unit_ns: 1,
      columns: { kind: col(kinds, 'u8'), node: col(nodeCol, 'u16'), edge: col(edge, 'i32'), thread: col(thread, 'u8'),
        depth: col(depth, 'u16'), call_id: col(callId, 'u32'), t: col([1, 2, 3, 4, 5, 6, 7, 8], 'u32') } },
  };
}

describe('calls counted past the event cap', () => {
  it('puts what only ran past the cap on the map at the last step', () => {
    const snap = tiny();
    snap.nodes.push({ ...snap.nodes[2], id: 'late', label: 'late', first_seen: null, last_seen: null, call_count: 5 });
    snap.nodes.push({ ...snap.nodes[2], id: 'idle', label: 'idle', first_seen: null, last_seen: null, call_count: 0 });
    snap.edges.push({ ...snap.edges[1], id: 'main->late', target: 'late', count: 5, first_seen: null, last_seen: null, example_events: [] });
    const g = buildGraphIndex(snap);
    const late = g.byId.get('late')!;
    expect(isRevealed(g.revealAt[late], 7)).toBe(false);
    expect(isRevealed(g.revealAt[late], 8)).toBe(true); // pos 8: all 8 recorded steps happened
    expect(isRevealed(g.edgeRevealAt[3], 7)).toBe(false);
    expect(isRevealed(g.edgeRevealAt[3], 8)).toBe(true);
    expect(g.revealAt[g.byId.get('idle')!]).toBe(NEVER);
    expect(g.revealAt[g.byId.get('main')!]).toBe(0);
  });
});

describe('decode + replay on a tiny snapshot', async () => {
  const snap = tiny();
  const steps = await decodeSteps(snap.steps);
  const g = buildGraphIndex(snap);
  const r = buildReplayIndex(steps);

  it('decodes every column', () => {
    expect(Array.from(steps.kind)).toEqual([0, 0, 3, 0, 4, 1, 1, 1]);
    expect(Array.from(steps.edge)).toEqual([0, 1, 1, 2, 1, 1, 2, 0]);
    expect(steps.edge).toBeInstanceOf(Int32Array);
  });

  it('reveals containers with their first child and nothing at position 0', () => {
    const mod = g.byId.get('mod:m')!;
    expect(g.revealAt[mod]).toBe(0);
    const sorted = sortedReveals(g.revealAt);
    expect(countRevealed(sorted, 0)).toBe(0);
    expect(countRevealed(sorted, 1)).toBe(3); // scenario, main, module
    expect(countRevealed(sorted, 8)).toBe(5);
    expect(isRevealed(g.revealAt[g.byId.get('gen')!], 1)).toBe(false);
    expect(isRevealed(g.revealAt[g.byId.get('gen')!], 2)).toBe(true);
  });

  it('keeps per-thread call stacks through yield and resume', () => {
    const ids = (i: number) => stackAt(r, i).map((e) => g.nodes[steps.node[e]].id);
    expect(ids(1)).toEqual(['gen', 'main']);
    expect(ids(2)).toEqual(['gen', 'main']); // the yield leaves gen
    expect(ids(3)).toEqual(['_work']); // other thread
    expect(ids(4)).toEqual(['gen', 'main']);
    expect(ids(7)).toEqual(['main']);
    expect(g.nodes[callerOf(r, g, 5)].id).toBe('main');
  });

  it('builds an activity histogram', () => {
    const a = activity(r, g, 4);
    expect(a.bins).toBe(4);
    expect(Array.from(a.calls).reduce((x, y) => x + y, 0)).toBe(3);
  });

  it('filters events by window, thread and internal', () => {
    expect(Array.from(filterEvents(r, { ...NO_FILTERS, thread: 1 }, null, null, null))).toEqual([3, 6]);
    const mask = nodeMask(g, { ...NO_FILTERS, hideInternal: true });
    expect(mask[g.byId.get('_work')!]).toBe(0);
    expect(Array.from(filterEvents(r, { ...NO_FILTERS, window: [2, 5] }, mask, null, null))).toEqual([2, 4, 5]);
    expect(replayBounds(8, { ...NO_FILTERS, window: [2, 5] })).toEqual([2, 6]);
  });

  it('marks what a window touches', () => {
    const w = windowReveals(r, g, 3, 3);
    expect(w.nodes[g.byId.get('_work')!]).toBe(3);
    expect(w.nodes[g.byId.get('gen')!]).toBe(NEVER);
    expect(w.edges[2]).toBe(3);
  });

  it('builds a sequence window with lifelines', () => {
    const seq = buildSequence(r, g, 4, 10, [0, 7], 0);
    expect(seq.messages.map((m) => m.event)).toEqual([0, 1, 2, 4, 5, 7]);
    expect(seq.messages[2].kind).toBe('yield');
  });

  it('exports a window', () => {
    const out = exportWindow(snap, g, r, 1, 2);
    expect(out.events.map((e) => e.kind)).toEqual(['call', 'yield']);
    expect(out.nodes.map((n) => n.id)).toContain('gen');
    expect(out.note).toMatch(/events 1\.\.2/);
  });
});

describe.each(samples)('sample %s', async (file) => {
  const snap = load(file);
  const steps = await decodeSteps(snap.steps);
  const g = buildGraphIndex(snap);
  buildReplayIndex(steps);

  it('has consistent columns', () => {
    expect(steps.count).toBe(snap.steps.count);
    for (let i = 0; i < steps.count; i++) expect(steps.node[i]).toBeLessThan(snap.nodes.length);
  });

  it('reveals every callable at its first call', () => {
    for (let i = 0; i < steps.count; i++) {
      const nd = steps.node[i];
      expect(g.revealAt[nd]).toBeLessThanOrEqual(i);
    }
  });

  it('builds layout graphs that reference existing nodes', () => {
    const ids = new Set(snap.nodes.map((n) => n.id));
    const graph = fullGraph(g);
    for (const e of graph.edges ?? []) {
      expect(ids.has(e.sources[0])).toBe(true);
      expect(ids.has(e.targets[0])).toBe(true);
    }
    // the full map draws every snapshot edge under its own id (self-calls are not handed to ELK)
    const full = fullEdges(g);
    expect(full.edges.map((e) => e.id).sort()).toEqual(snap.edges.map((e) => e.id).sort());
    expect((graph.edges ?? []).map((e) => e.id).sort()).toEqual(snap.edges.filter((e) => e.source !== e.target).map((e) => e.id).sort());
    expect([...full.edgeToVis].every((k, j) => full.edges[k].members.includes(j))).toBe(true);
  });
});

describe('edge aggregation', () => {
  it('sums the calls between the boxes that stand for their ends and drops calls inside one box', () => {
    const s = {
      nodes: [['mod:a', 'module', null], ['fn:a:f', 'function', 'mod:a'], ['fn:a:g', 'function', 'mod:a'], ['mod:b', 'module', null],
        ['fn:b:h', 'function', 'mod:b']].map(([id, kind, parent]) => ({ id, kind, parent, label: id, module: 'm', qualified_name: id, file: null,
        line: null, first_seen: 0, last_seen: 0, call_count: 1, internal: false })),
      edges: [['fn:a:f', 'fn:b:h', 2, 1], ['fn:a:g', 'fn:b:h', 3, 0], ['fn:a:f', 'fn:a:g', 5, 0], ['fn:b:h', 'fn:b:h', 7, 0]]
        .map(([source, target, count, raised]) => ({ id: `${source}->${target}`, source, target, kind: 'call', count, raised, first_seen: 0,
          last_seen: 0, total_ns: 0, max_ns: 0, example_events: [] })),
      steps: { count: 0, kinds: ['call'], time_unit_ns: 1, columns: {} }, run: { app_name: 'x' },
    } as unknown as Snapshot;
    const gi = buildGraphIndex(s);
    const rep = identityRep(gi);
    const mods = rep.map((_, i) => (gi.moduleOf[i] >= 0 ? gi.moduleOf[i] : i));
    const byMod = aggregateEdges(gi, mods);
    expect(byMod.edges.map((e) => [e.id, e.count, e.raised, e.members])).toEqual([['mod:a->mod:b', 5, 1, [0, 1]]]);
    expect([...byMod.edgeToVis]).toEqual([0, 0, -1, -1]);
    // every node its own box: every edge, recursion included
    expect(aggregateEdges(gi, rep).edges.map((e) => e.count)).toEqual([2, 3, 5, 7]);
    // keep filters by the two boxes
    expect(aggregateEdges(gi, rep, (a, b) => gi.nodes[a].id !== gi.nodes[b].id).edges.length).toBe(3);
  });
});

describe('summaries', () => {
  it('renders values readably', () => {
    expect(formatSummary({ type: 'list', len: 5, items: [{ type: 'int', value: 1 }, { type: 'int', value: 2 }, { type: 'int', value: 3 }], truncated: true }))
      .toBe('list(len=5) [1, 2, 3…]');
    expect(formatSummary({ type: 'str', redacted: true, len: 12 })).toBe('<redacted str len=12>');
    expect(formatSummary({ type: 'str', value: 'a"b' })).toBe('"a\\"b"');
    expect(formatSummary({ type: 'Order', id: 7 })).toBe('<Order #7>');
    expect(formatSummary({ type: 'NoneType', value: null })).toBe('None');
    expect(formatSummary({ type: 'dict', len: 1, entries: [[{ type: 'str', value: 'k' }, { type: 'int', value: 1 }]] })).toBe('dict(len=1) {"k": 1}');
    expect(formatNs(1500)).toBe('1.5 µs');
  });
});

describe('search and deep links', () => {
  it('scores fuzzy matches', () => {
    expect(fuzzyScore('ordsvc', 'OrderService#1')).toBeGreaterThan(0);
    expect(fuzzyScore('xyz', 'OrderService#1')).toBe(-1);
    const nodes = [{ label: 'total()', qualified_name: 'shop.Order.total' }, { label: 'OrderService#1', qualified_name: 'shop.OrderService#1' }] as Snapshot['nodes'];
    expect(searchNodes(nodes, 'orderserv')[0].index).toBe(1);
  });

  it('round-trips the hash', () => {
    const s = { view: 'events' as const, node: 'meth:a.B#1.c', event: 12, pos: 13, ghost: true, window: [3, 40] as [number, number], scenarios: [2, 5] };
    expect(parseHash(formatHash(s))).toEqual(s);
    expect(parseHash('#view=bogus&pos=-1').view).toBe('map');
  });
});

import { overview, overviewLayout } from './overview';
describe('overview layout', () => {
  it.each(samples)('places every box of the overview of %s, siblings without overlaps', (file) => {
    const g = buildGraphIndex(load(file));
    const ov = overview(g);
    const boxes = overviewLayout(g, ov);
    ov.boxes.forEach((i) => expect(boxes[g.nodes[i].id], g.nodes[i].id).toBeDefined());
    const siblings = [...ov.kidsOf.values(), [...ov.hubs.keys()]];
    for (const kids of siblings) {
      const bs = kids.map((k) => boxes[g.nodes[k].id]);
      for (let a = 0; a < bs.length; a++) for (let c = a + 1; c < bs.length; c++) {
        const A = bs[a], B = bs[c];
        expect(A.x < B.x + B.width && B.x < A.x + A.width && A.y < B.y + B.height && B.y < A.y + A.height).toBe(false);
      }
    }
  });
});

describe.each(samples)('container call counts in %s', (file) => {
  it('count only the calls that cross the container boundary', () => {
    const snap = load(file);
    const g = buildGraphIndex(snap);
    const inside = (id: string, i: number) => {
      for (let k = g.byId.get(id) ?? -1; k >= 0; k = g.parent[k]) if (k === i) return true;
      return false;
    };
    for (let i = 0; i < g.nodes.length; i++) {
      if (g.nodes[i].kind !== 'module' && g.nodes[i].kind !== 'package') continue;
      const into = snap.edges.filter((e) => inside(e.target, i) && !inside(e.source, i)).reduce((t, e) => t + e.count, 0);
      const out = snap.edges.filter((e) => inside(e.source, i) && !inside(e.target, i)).reduce((t, e) => t + e.count, 0);
      expect(g.callsIn[i]).toBe(into);
      expect(g.callsOut[i]).toBe(out);
    }
  });
});
