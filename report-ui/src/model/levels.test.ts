// Levels of detail, cuts, focus, layering and the overview on small synthetic snapshots.
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../types/snapshot';
import { buildGraphIndex } from './graph';
import { autoCut, cutView, emptyCut } from './lod';
import { focusView } from './focus';
import { focusLayout, sideLabel } from './focusLayout';
import { layering } from './layers';
import { hubLabel, hubThreshold, overview, overviewLayout } from './overview';
import { buildMatrix } from './matrix';
import { nextReveal } from './replay';
import { buildScenarioIndex } from './scenarios';

type N = [id: string, kind: string, parent: string | null, calls?: number, cls?: string];

function snap(nodes: N[], edges: [string, string, number][]): Snapshot {
  return {
    format_version: 1, skeleton_version: 't',
    run: { app_name: 'app', command: ['x'], target: { kind: 'script', path: 'x', args: [] }, project_root: '/p', python_version: '3.12',
      backend: 'sysmon', backend_reason: '', started_at: '', duration_s: 0, exit_code: 0, status: 'ok', error: null },
    stats: { events: 0, recorded_events: 0, dropped_events: 0, calls: 0, max_depth: 0, threads: [], gaps: [], nodes: nodes.length, edges: edges.length },
    nodes: nodes.map(([id, kind, parent, calls, cls], k) => ({
      id, kind, label: id.replace(/^.*[.:]/, ''), parent, module: (parent ?? id).replace(/^[a-z]+:/, '').replace(/[#:].*$/, ''),
      qualified_name: id, file: null, line: null, first_seen: k, last_seen: k, call_count: calls ?? 0, internal: false,
      ...(cls ? { class_name: cls } : {}),
    })) as Snapshot['nodes'],
    edges: edges.map(([s, t, c], k) => ({ id: `${s}->${t}`, source: s, target: t, kind: 'call' as const, count: c, first_seen: k,
      last_seen: k, total_ns: 0, max_ns: 0, raised: 0, example_events: [] })),
    module_edges: [],
    steps: { count: 0, kinds: ['call'], time_unit_ns: 1, columns: {} as Snapshot['steps']['columns'] },
  };
}

/** pkg (with __init__ code f) > pkg.a (3 instances of C with methods m, n; a function g) and pkg.b (function h). */
function sample(): Snapshot {
  const inst = (k: number): N[] => [[`inst:pkg.a.C#${k}`, 'instance', 'mod:pkg.a', k + 1, 'C'], [`meth:pkg.a.C#${k}.m`, 'method', `inst:pkg.a.C#${k}`, k],
    [`meth:pkg.a.C#${k}.n`, 'method', `inst:pkg.a.C#${k}`, 1]];
  return snap([
    ['scenario:run', 'scenario', null], ['mod:pkg', 'module', null], ['fn:pkg:f', 'function', 'mod:pkg', 2],
    ['mod:pkg.a', 'module', 'mod:pkg'], ...inst(1), ...inst(2), ...inst(3), ['fn:pkg.a:g', 'function', 'mod:pkg.a', 4],
    ['mod:pkg.b', 'module', 'mod:pkg'], ['fn:pkg.b:h', 'function', 'mod:pkg.b', 9],
  ], [['scenario:run', 'fn:pkg:f', 2], ['fn:pkg:f', 'fn:pkg.a:g', 4], ['fn:pkg.a:g', 'meth:pkg.a.C#1.m', 1], ['fn:pkg.a:g', 'meth:pkg.a.C#2.m', 2],
    ['fn:pkg.a:g', 'meth:pkg.a.C#3.m', 3], ['meth:pkg.a.C#3.m', 'fn:pkg.b:h', 9], ['fn:pkg.b:h', 'meth:pkg.a.C#1.n', 1]]);
}

describe('levels of detail', () => {
  const s = sample();
  const g = buildGraphIndex(s);
  const at = (id: string) => g.byId.get(id)!;

  it('keeps the snapshot nodes at their positions and appends synthetic ones', () => {
    s.nodes.forEach((n, i) => expect(g.nodes[i].id).toBe(n.id));
    expect(g.realCount).toBe(s.nodes.length);
    expect(g.nodes.length).toBeGreaterThan(s.nodes.length);
  });

  it('makes a module with submodules a package whose own code is an __init__ module inside it', () => {
    expect(g.nodes[at('mod:pkg')].kind).toBe('package');
    const init = at('init:pkg');
    expect(g.nodes[init]).toMatchObject({ kind: 'module', label: 'pkg/__init__', synthetic: 'init', call_count: 2 });
    expect(g.parent[init]).toBe(at('mod:pkg'));
    expect(g.parent[at('fn:pkg:f')]).toBe(init);
    expect(g.moduleOf[at('fn:pkg:f')]).toBe(init);
    expect(g.children[at('mod:pkg')].map((c) => g.nodes[c].id).sort()).toEqual(['init:pkg', 'mod:pkg.a', 'mod:pkg.b']);
  });

  it('folds the instances of one class into a group with one aggregate per method name', () => {
    const grp = at('group:pkg.a.C');
    expect(g.nodes[grp]).toMatchObject({ kind: 'group', label: 'C ×3', call_count: 1 + 2 + 3 + 3 });
    expect(g.children[grp].map((c) => g.nodes[c].id)).toEqual(['inst:pkg.a.C#1', 'inst:pkg.a.C#2', 'inst:pkg.a.C#3']);
    const aggs = g.aggOf.get(grp)!.map((a) => g.nodes[a]);
    expect(aggs.map((a) => [a.label, a.call_count, a.members?.length])).toEqual([['m', 6, 3], ['n', 3, 3]]);
    expect(g.aggFor[at('meth:pkg.a.C#2.m')]).toBe(at('agg:pkg.a.C.m'));
    expect(g.callsIn[at('agg:pkg.a.C.m')]).toBe(6);
  });

  it('draws a grouped method as its aggregate while the group is not opened one by one', () => {
    const grp = at('group:pkg.a.C');
    const cut = { ...emptyCut(), open: new Set([at('mod:pkg'), at('mod:pkg.a'), grp]) };
    const cv = cutView(g, cut, g.roots);
    expect(cv.rep[at('meth:pkg.a.C#2.m')]).toBe(at('agg:pkg.a.C.m'));
    expect(cv.rep[at('inst:pkg.a.C#2')]).toBe(grp);
    expect(cv.rep[at('fn:pkg.b:h')]).toBe(at('mod:pkg.b'));
    cut.indiv.add(grp);
    expect(cutView(g, cut, g.roots).rep[at('meth:pkg.a.C#2.m')]).toBe(at('inst:pkg.a.C#2'));
  });

  it('opens containers within the box budget, single children for free', () => {
    const cut = autoCut(g, g.roots, 4, (i) => g.nodes[i].kind === 'package');
    expect([...cut.open].map((i) => g.nodes[i].id)).toEqual(['mod:pkg']); // scenario + 3 modules = 4 boxes
    expect(autoCut(g, g.roots, 3, (i) => g.nodes[i].kind === 'package').open.size).toBe(0);
  });
});

describe('focus view', () => {
  const g = buildGraphIndex(sample());
  const at = (id: string) => g.byId.get(id)!;

  it('puts callers left and callees right at the finest level that fits', () => {
    const fv = focusView(g, at('fn:pkg.a:g'));
    expect(fv.callers[0].map((i) => g.nodes[i].id)).toEqual(['fn:pkg:f']);
    expect(fv.callees[0].map((i) => g.nodes[i].id).sort()).toEqual(['meth:pkg.a.C#1.m', 'meth:pkg.a.C#2.m', 'meth:pkg.a.C#3.m']);
    const narrow = focusView(g, at('fn:pkg.a:g'), { side: 1 });
    expect(narrow.callees[0].map((i) => g.nodes[i].id)).toEqual(['agg:pkg.a.C.m']);
    const e = narrow.edges.find((x) => x.target === at('agg:pkg.a.C.m'))!;
    expect(e.count).toBe(6);
    expect(e.members).toHaveLength(3);
  });

  it('never draws a neighbour box that contains the centre', () => {
    const fv = focusView(g, at('meth:pkg.a.C#3.m'), { side: 1 });
    const boxes = [...fv.callers.flat(), ...fv.callees.flat()];
    for (const b of boxes) for (let p = at('meth:pkg.a.C#3.m'); p >= 0; p = g.parent[p]) expect(b).not.toBe(p);
    expect(fv.callees[0].map((i) => g.nodes[i].id)).toEqual(['fn:pkg.b:h']);
  });

  it('shows a container centre with its inside and the calls crossing its border', () => {
    const fv = focusView(g, at('mod:pkg.a'));
    expect(fv.inner[0]).toBe(at('mod:pkg.a'));
    expect(fv.inner).toContain(at('group:pkg.a.C'));
    expect(fv.callers[0].map((i) => g.nodes[i].id).sort()).toEqual(['fn:pkg.b:h', 'fn:pkg:f']);
    const pl = focusLayout(g, fv);
    const c = pl.boxes['mod:pkg.a'];
    const f = pl.boxes['fn:pkg:f'];
    expect(f.x + f.width).toBeLessThan(c.x); // callers on the left
  });

  it('labels neighbour callables with their owner', () => {
    expect(sideLabel(g, at('meth:pkg.a.C#2.m'))).toBe('C#2.m');
    expect(sideLabel(g, at('agg:pkg.a.C.m'))).toBe('C.m');
    expect(sideLabel(g, at('fn:pkg.b:h'))).toBe('b.h');
  });
});

describe('layering', () => {
  it('breaks cycles deterministically and puts callers before callees', () => {
    const succ = new Map<number, number[]>([[0, [1]], [1, [2]], [2, [1, 3]]]);
    const l = layering([3, 2, 1, 0], succ, [0]);
    expect([0, 1, 2, 3].map((v) => l.layer.get(v))).toEqual([0, 1, 2, 3]);
    expect([...l.back]).toEqual(['2,1']);
    expect(l.scc.get(1)).toBe(l.scc.get(2));
    expect(l.scc.get(0)).not.toBe(l.scc.get(1));
  });
});

describe('overview', () => {
  it('sets hubs apart and leaves their edges out', () => {
    // five modules all calling util
    const mods = ['a', 'b', 'c', 'd', 'e', 'f'];
    const nodes: N[] = [['scenario:run', 'scenario', null]];
    for (const m of [...mods, 'util']) nodes.push([`mod:${m}`, 'module', null], [`fn:${m}:x`, 'function', `mod:${m}`, 1]);
    const edges: [string, string, number][] = mods.map((m, k) => [k ? `fn:${mods[k - 1]}:x` : 'scenario:run', `fn:${m}:x`, 1]);
    for (const m of mods) edges.push([`fn:${m}:x`, 'fn:util:x', 1]);
    edges.push(['fn:c:x', 'fn:a:x', 1]); // a call back up the chain
    const g = buildGraphIndex(snap(nodes, edges));
    const ov = overview(g);
    expect(mods.length).toBeGreaterThanOrEqual(hubThreshold(ov.leaves.length));
    expect([...ov.hubs.keys()].map((i) => g.nodes[i].id)).toEqual(['mod:util']);
    expect(ov.edges.some((e) => g.nodes[e.target].id === 'mod:util')).toBe(false);
    const back = ov.edges.filter((e) => e.back).map((e) => e.id);
    expect(back).toEqual(['mod:c->mod:a']);
    const boxes = overviewLayout(g, ov);
    // callers before callees: to the right, or below in the same column when layers share one
    for (let k = 1; k < mods.length; k++) {
      const a = boxes[`mod:${mods[k - 1]}`], b = boxes[`mod:${mods[k]}`];
      expect(b.x > a.x || (b.x === a.x && b.y > a.y)).toBe(true);
    }
    expect(boxes['mod:util'].y).toBeLessThan(Math.min(...mods.map((m) => boxes[`mod:${m}`].y)));
    // drawn apart from its package, a hub module is titled by its full name, its box wide enough for its line
    const util = g.nodes.findIndex((n) => n.id === 'mod:util');
    expect(hubLabel(g, util)).toBe(g.nodes[util].qualified_name);
    expect(boxes['mod:util'].width).toBeGreaterThanOrEqual(330);
    expect(boxes['mod:a'].width).toBe(210);
  });

  it('opens a lone package even when its modules are a few more than the budget', () => {
    // a library traced on its own (rich: one package of 24 modules) must not open on one closed box
    const nodes: N[] = [['scenario:run', 'scenario', null], ['mod:lib', 'module', null], ['fn:lib:top', 'function', 'mod:lib', 1]];
    const edges: [string, string, number][] = [['scenario:run', 'fn:lib:top', 1]];
    for (let k = 0; k < 30; k++) {
      nodes.push([`mod:lib.m${k}`, 'module', 'mod:lib'], [`fn:lib.m${k}:f`, 'function', `mod:lib.m${k}`, 1]);
      edges.push(['fn:lib:top', `fn:lib.m${k}:f`, 1]);
    }
    const g = buildGraphIndex(snap(nodes, edges));
    const ov = overview(g);
    expect(ov.cut.open.has(g.byId.get('mod:lib')!)).toBe(true);
    expect(ov.leaves.length).toBe(32); // the run, lib/__init__ and the 30 modules
    // a package too big to read on one screen stays closed
    for (let k = 30; k < 80; k++) nodes.push([`mod:lib.m${k}`, 'module', 'mod:lib'], [`fn:lib.m${k}:f`, 'function', `mod:lib.m${k}`, 1]);
    const big = buildGraphIndex(snap(nodes, edges));
    expect(overview(big).cut.open.has(big.byId.get('mod:lib')!)).toBe(false);
  });
});

describe('dependency matrix', () => {
  it('orders units by layer, puts calls right of the diagonal and marks the calls back', () => {
    const g = buildGraphIndex(sample());
    const m = buildMatrix(g);
    const ids = m.rows.map((u) => g.nodes[u].id);
    expect(ids).toEqual(['init:pkg', 'mod:pkg.a', 'mod:pkg.b']); // f -> g -> C.m -> h (-> C.n back)
    const cell = (a: string, b: string) => m.cells.get(m.index.get(g.byId.get(a)!)! * m.rows.length + m.index.get(g.byId.get(b)!)!);
    expect(cell('init:pkg', 'mod:pkg.a')).toMatchObject({ count: 4, back: false, cycle: false });
    expect(cell('mod:pkg.a', 'mod:pkg.b')).toMatchObject({ count: 9, back: false, cycle: true });
    expect(cell('mod:pkg.b', 'mod:pkg.a')).toMatchObject({ count: 1, back: true, cycle: true });
    expect([...m.cyclic]).toEqual([0, 1, 1]);
    const withGroups = buildMatrix(g, true);
    expect(withGroups.rows.map((u) => g.nodes[u].id)).toContain('group:pkg.a.C');
  });
});

describe('next first sighting', () => {
  it('jumps to the step after the next callable seen for the first time', () => {
    const g = buildGraphIndex(sample());
    const firsts = [...g.revealAt].filter((_v, i) => i < g.realCount && g.callable[i] === 1).sort((a, b) => a - b);
    expect(nextReveal(g, g.revealAt, 0)).toBe(firsts[0] + 1);
    expect(nextReveal(g, g.revealAt, firsts[1])).toBe(firsts[1] + 1);
    expect(nextReveal(g, g.revealAt, firsts[firsts.length - 1] + 1)).toBeNull();
  });
});

describe('tests exercising an aggregate', () => {
  it('are the union over the aggregated methods', () => {
    const s = sample();
    const base = { kind: 'test' as const, outcome: 'passed' as const, duration_s: 0, message: null, file: null };
    s.scenarios = [1, 2, 3].map((id) => ({ ...base, id, name: `t${id}` })) as Snapshot['scenarios'];
    s.nodes.forEach((n) => { if (/C#\d\.m$/.test(n.id)) n.scenarios = [Number(n.id.slice(-3, -2))]; });
    const g = buildGraphIndex(s);
    const si = buildScenarioIndex(s, g)!;
    expect([...si.nodeScenarios[g.byId.get('agg:pkg.a.C.m')!]]).toEqual([1, 2, 3]);
    expect([...si.nodeScenarios[g.byId.get('agg:pkg.a.C.n')!]]).toEqual([]);
  });
});
