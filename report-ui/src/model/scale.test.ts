// The report with thousands of instances of one class (the capture keeps every instance): grouped
// as `Class ×N` wherever one by one would not fit, fast to index, overview and focus. Pure model.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../types/snapshot';
import { buildGraphIndex } from './graph';
import { focusView } from './focus';
import { focusLayout, layered } from './focusLayout';
import ELK from 'elkjs/lib/elk.bundled.js';
import { boundarySize, fullGraph, leafSize, readBoxes, withIoColumn, type ElkIn } from './layoutGraph';
import { openingFocus, overview, overviewLayout } from './overview';

const node = (id: string, kind: string, parent: string | null, calls = 0, cls?: string, k = 0) => ({
  id, kind, label: id.replace(/^.*[.:]/, '').replace(/^.*\.(?=[^.]*#)/, ''), parent, module: 'sim', qualified_name: id, file: null, line: null,
  first_seen: k, last_seen: k, call_count: calls, internal: false, ...(cls ? { class_name: cls } : {}),
});

/** One module `sim`: a Field whose advance() steps N particles (step, energy on each), main() drives it. */
function particles(n: number): Snapshot {
  const nodes = [node('scenario:run', 'scenario', null), node('mod:sim', 'module', null), node('fn:sim:main', 'function', 'mod:sim', 1),
    node('inst:sim.Field#1', 'instance', 'mod:sim', 2, 'Field'), node('meth:sim.Field#1.advance', 'method', 'inst:sim.Field#1', 1),
    node('meth:sim.Field#1.total', 'method', 'inst:sim.Field#1', 1)];
  const edges: [string, string, number][] = [['scenario:run', 'fn:sim:main', 1], ['fn:sim:main', 'meth:sim.Field#1.advance', 1],
    ['fn:sim:main', 'meth:sim.Field#1.total', 1]];
  for (let k = 1; k <= n; k++) {
    const inst = `inst:sim.Particle#${k}`;
    nodes.push(node(inst, 'instance', 'mod:sim', 3, 'Particle', k), node(`meth:sim.Particle#${k}.step`, 'method', inst, 2, undefined, k),
      node(`meth:sim.Particle#${k}.energy`, 'method', inst, 1, undefined, k));
    edges.push(['meth:sim.Field#1.advance', `meth:sim.Particle#${k}.step`, 2], ['meth:sim.Field#1.total', `meth:sim.Particle#${k}.energy`, 1]);
  }
  return {
    format_version: 1, skeleton_version: 't',
    run: { app_name: 'sim', command: ['x'], target: { kind: 'script', path: 'x', args: [] }, project_root: '/p', python_version: '3.12',
      backend: 'sysmon', backend_reason: '', started_at: '', duration_s: 0, exit_code: 0, status: 'ok', error: null },
    stats: { events: 0, recorded_events: 0, dropped_events: 0, calls: 0, max_depth: 0, threads: [], gaps: [], nodes: nodes.length, edges: edges.length },
    nodes: nodes as Snapshot['nodes'],
    edges: edges.map(([s, t, c], k) => ({ id: `${s}->${t}`, source: s, target: t, kind: 'call' as const, count: c, first_seen: k,
      last_seen: k, total_ns: 0, max_ns: 0, raised: 0, example_events: [] })),
    module_edges: [],
    steps: { count: 0, kinds: ['call'], time_unit_ns: 1, columns: {} as Snapshot['steps']['columns'] },
  };
}

// Speed is measured by bench/report_speed.py, not asserted here: a loaded CI machine made timed tests flaky.

describe('thousands of instances of one class', () => {
  const N = 5000;
  const s = particles(N);
  const g = buildGraphIndex(s);
  const at = (id: string) => g.byId.get(id)!;
  const group = at('group:sim.Particle');

  it('folds them into one group with one aggregate per method name', () => {
    expect(g.nodes[group]).toMatchObject({ kind: 'group', label: `Particle ×${N}` });
    expect(g.children[group].length).toBe(N);
    expect(g.aggOf.get(group)!.map((a) => g.nodes[a].label)).toEqual(['energy', 'step']);
    expect(g.nodes[at('agg:sim.Particle.step')].call_count).toBe(2 * N);
  });

  it('opens a one-module program on the focus of its module, the group as one box with its aggregates', () => {
    const ov = overview(g);
    expect(openingFocus(g, ov)).toBe(at('mod:sim'));
    const fv = focusView(g, at('mod:sim'));
    focusLayout(g, fv);
    const ids = fv.inner.map((i) => g.nodes[i].id);
    expect(ids).toContain('group:sim.Particle');
    expect(ids).toContain('agg:sim.Particle.step');
    expect(ids.filter((i) => i.startsWith('inst:sim.Particle#')).length).toBe(0);
    expect(fv.inner.length).toBeLessThan(20);
    // the calls from the Field's methods to the particles are drawn once per aggregate, with the sum
    const step = fv.edges.find((e) => g.nodes[e.target].id === 'agg:sim.Particle.step')!;
    expect(step.count).toBe(2 * N);
    expect(step.members.length).toBe(N);
  });

  it('focuses one instance\'s method among thousands, its caller on the left', () => {
    const fv = focusView(g, at('meth:sim.Particle#4321.step'));
    focusLayout(g, fv);
    expect(fv.callers[0].map((i) => g.nodes[i].id)).toEqual(['meth:sim.Field#1.advance']);
    // the group's caller sees the thousands of callees as the aggregate, not one box each
    const adv = focusView(g, at('meth:sim.Field#1.advance'));
    expect(adv.callees[0].map((i) => g.nodes[i].id)).toEqual(['agg:sim.Particle.step']);
  });

  it('sizes an aggregate box for its ×N badge', () => {
    const small = buildGraphIndex(particles(3));
    const a3 = leafSize(small, small.byId.get('agg:sim.Particle.energy')!).width;
    const aN = leafSize(g, at('agg:sim.Particle.energy')).width;
    expect(aN - a3).toBeGreaterThanOrEqual(24); // "×5000" is three digits wider than "×3"
  });

  it('lays out a container in focus callers first (column by column, by layer)', () => {
    const fv = focusView(g, at('mod:sim'));
    const kids = layered(g, fv, [at('group:sim.Particle'), at('inst:sim.Field#1'), at('fn:sim:main')]);
    expect(kids.map((i) => g.nodes[i].id)).toEqual(['fn:sim:main', 'inst:sim.Field#1', 'group:sim.Particle']);
    const boxes = focusLayout(g, fv).boxes;
    expect(boxes['fn:sim:main'].x).toBeLessThanOrEqual(boxes['inst:sim.Field#1'].x);
    expect(boxes['inst:sim.Field#1'].x).toBeLessThan(boxes['group:sim.Particle'].x);
  });

  it('keeps the overview of a run with many modules on the overview', () => {
    expect(Object.keys(overviewLayout(g, overview(g))).length).toBeGreaterThan(0);
  });
});

describe('I/O boundaries', () => {
  const s = particles(3);
  const use = (actor: string, count: number, first: number) => ({ actor, count, first_seen: first, ops: ['write'], details: [], scenarios: [] });
  (s as { boundaries?: unknown }).boundaries = [
    { id: 'io:file:out/energy.csv', kind: 'file', target: 'out/energy.csv', label: 'energy.csv', count: 3, first_seen: 5, ops: ['open', 'write'],
      uses: [use('meth:sim.Field#1.total', 2, 5), use('fn:sim:main', 1, 9), use('meth:sim.Nobody#1.x', 4, 1)] },
    { id: 'io:network:api.example:443', kind: 'network', target: 'api.example:443', label: 'api.example:443', count: 1, first_seen: 7,
      ops: ['connect'], uses: [use('fn:sim:main', 1, 7)] },
  ];
  const g = buildGraphIndex(s);
  const at = (id: string) => g.byId.get(id)!;

  it('are boxes of their own with an edge from each callable that did the I/O (unknown actors left out)', () => {
    const b = at('io:file:out/energy.csv');
    expect(g.nodes[b]).toMatchObject({ kind: 'boundary', label: 'energy.csv', call_count: 3, io: { kind: 'file', ops: ['open', 'write'] } });
    expect(g.parent[b]).toBe(-1);
    const into = g.edges.filter((e) => e.target === 'io:file:out/energy.csv').map((e) => [e.source, e.count]);
    expect(into).toEqual([['meth:sim.Field#1.total', 2], ['fn:sim:main', 1]]);
    expect(g.realCount).toBe(s.nodes.length);
  });

  it('sit in a column right of everything on the overview, never as hubs', () => {
    const big = buildGraphIndex({ ...particles(60), boundaries: (s as { boundaries?: unknown }).boundaries } as Snapshot);
    const ov = overview(big);
    expect(ov.io.map((i) => big.nodes[i].id).sort()).toEqual(['io:file:out/energy.csv', 'io:network:api.example:443']);
    const boxes = overviewLayout(big, ov);
    const right = Math.max(...Object.entries(boxes).filter(([id]) => !id.startsWith('io:')).map(([, b]) => b.x + b.width));
    for (const id of ['io:file:out/energy.csv', 'io:network:api.example:443']) expect(boxes[id].x).toBeGreaterThan(right);
    expect(openingFocus(big, ov)).toBe(big.byId.get('mod:sim'));
    // many boundaries wrap into more columns rather than one column taller than the layers
    const many = Array.from({ length: 30 }, (_, k) => ({ id: `io:file:f${k}`, kind: 'file', target: `f${k}`, label: `f${k}`, count: 1,
      first_seen: k, ops: ['read'], uses: [{ actor: 'fn:sim:main', count: 1, first_seen: k, ops: ['read'], details: [], scenarios: [] }] }));
    const lots = buildGraphIndex({ ...particles(60), boundaries: many } as Snapshot);
    const lb = overviewLayout(lots, overview(lots));
    const xs = new Set(many.map((b) => lb[b.id].x));
    expect(xs.size).toBeGreaterThan(1);
    expect(Math.max(...many.map((b) => lb[b.id].y + lb[b.id].height))).toBeLessThanOrEqual(700);
  });

  it('sit in a column right of every box on the small map, ELK laying out the rest', async () => {
    const graph = fullGraph(g);
    const ids = JSON.stringify(graph);
    expect(ids).not.toMatch(/"io:/); // neither boxes nor edges: ELK would put them in the layer after their callers' box
    const boxes = withIoColumn(g, readBoxes(await new ELK().layout(graph as Parameters<InstanceType<typeof ELK>['layout']>[0]) as ElkIn));
    const top = g.roots.filter((r) => g.nodes[r].kind !== 'boundary').map((r) => boxes[g.nodes[r].id]);
    const right = Math.max(...top.map((b) => b.x + b.width));
    const io = ['io:file:out/energy.csv', 'io:network:api.example:443'].map((id) => boxes[id]);
    for (const b of io) expect(b.x).toBeGreaterThan(right);
    expect(io[0].x).toBe(io[1].x); // one column
    expect(Math.abs(io[0].y - io[1].y)).toBeGreaterThanOrEqual(io[0].height); // not overlapping
    // a box tall enough for its three lines (kind, label, operations) and wide enough for the label
    for (const id of ['io:file:out/energy.csv', 'io:network:api.example:443']) {
      expect(boxes[id].height).toBeGreaterThanOrEqual(60);
      expect(boxes[id].width).toBeGreaterThanOrEqual([...g.nodes[at(id)].label].length * 7.2 + 28);
      expect(leafSize(g, at(id))).toEqual(boundarySize(g, at(id)));
    }
  });

  it('sit in a last column of their own in a focus view, right of callees of callees', () => {
    const fv = focusView(g, at('fn:sim:main'), { hops: 2 });
    expect(fv.callees.length).toBeGreaterThan(1);
    const pl = focusLayout(g, fv);
    const side = [...fv.callers.flat(), ...fv.callees.flat(), fv.center];
    const io = side.filter((i) => g.nodes[i].kind === 'boundary');
    expect(io.map((i) => g.nodes[i].id).sort()).toEqual(['io:file:out/energy.csv', 'io:network:api.example:443']);
    const right = Math.max(...side.filter((i) => !io.includes(i)).map((i) => pl.boxes[g.nodes[i].id]).map((b) => b.x + b.width));
    for (const i of io) {
      expect(pl.boxes[g.nodes[i].id].x).toBeGreaterThan(right);
      expect(pl.boxes[g.nodes[i].id].height).toBeGreaterThanOrEqual(60);
    }
  });

  it('are callees in the focus of the callable that did the I/O, and the focus of a boundary lists its users', () => {
    expect(focusView(g, at('fn:sim:main')).callees[0].map((i) => g.nodes[i].id)).toContain('io:network:api.example:443');
    const fv = focusView(g, at('io:file:out/energy.csv'));
    expect(fv.callers[0].map((i) => g.nodes[i].id).sort()).toEqual(['fn:sim:main', 'meth:sim.Field#1.total']);
    expect(fv.edges.map((e) => e.count).sort()).toEqual([1, 2]);
  });
});
