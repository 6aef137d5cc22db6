// The diff report's model: marks indexed by graph position, rolled up for aggregated edges, method
// aggregates and closed boxes, fixed violations on their edges, and the Changes panel's targets.
import { describe, expect, it } from 'vitest';
import type { Diff, DiffChange, DiffMark, Snapshot } from '../types/snapshot';
import { buildGraphIndex } from '../model/graph';
import { aggregateEdges } from '../model/lod';
import { buildDiffIndex, changeGroups, changeTarget, countText, edgeMark, fixedRules, nodeMark, rollUp } from './model';

type N = [id: string, kind: string, parent: string | null, calls?: number];

function snap(nodes: N[], edges: [string, string, number][], extra: Partial<Snapshot> = {}): Snapshot {
  return {
    format_version: 1, skeleton_version: 't',
    run: { app_name: 'app', command: ['x'], target: { kind: 'script', path: 'x', args: [] }, project_root: '/p', python_version: '3.12',
      backend: 'sysmon', backend_reason: '', started_at: '', duration_s: 0, exit_code: 0, status: 'ok', error: null },
    stats: { events: 0, recorded_events: 0, dropped_events: 0, calls: 0, max_depth: 0, threads: [], gaps: [], nodes: nodes.length, edges: edges.length },
    nodes: nodes.map(([id, kind, parent, calls], k) => ({
      id, kind, label: id.replace(/^.*[.:]/, ''), parent, module: (parent ?? id).replace(/^[a-z]+:/, '').replace(/[#:].*$/, ''),
      qualified_name: id, file: null, line: null, first_seen: k, last_seen: k, call_count: calls ?? 1, internal: false,
    })) as Snapshot['nodes'],
    edges: edges.map(([s, t, c], k) => ({ id: `${s}->${t}`, source: s, target: t, kind: 'call' as const, count: c, first_seen: k,
      last_seen: k, total_ns: 0, max_ns: 0, raised: 0, example_events: [] })),
    module_edges: [],
    steps: { count: 0, kinds: ['call'], time_unit_ns: 1, columns: {} as Snapshot['steps']['columns'] },
    ...extra,
  };
}

const mark = (id: string, status: DiffMark['status'], a: number | null, b: number | null, key = id): DiffMark => ({ id, status, a, b, key });
const change = (section: string, node: string | null, edge: string | null, sign: DiffChange['sign'] = '+'): DiffChange =>
  ({ section, title: section, sign, shape: edge ? 'edge' : 'actor', parts: ['x', 'y'], note: '', node, edge });

function diffBlock(d: Partial<Diff>): Diff {
  const run = { path: 'a', app_name: 'app', status: 'ok', calls: 1 };
  return { format: 1, a: run, b: { ...run, path: 'b' }, threshold: { relative: 0.5, absolute: 1 }, summary: {}, nodes: [], edges: [],
    violations: [], changes: [], notes: [], ...d };
}

/** B: main -> svc -> write (added) and svc -> store; A only: svc -> old (removed); write's calls went 2 -> 9. */
function merged(extra: Partial<Diff> = {}): Snapshot {
  return snap([
    ['scenario:run', 'scenario', null], ['mod:app', 'module', null], ['fn:app:main', 'function', 'mod:app'],
    ['mod:svc', 'module', null], ['fn:svc:svc', 'function', 'mod:svc'], ['fn:svc:old', 'function', 'mod:svc'],
    ['mod:io', 'module', null], ['fn:io:write', 'function', 'mod:io', 9], ['fn:io:store', 'function', 'mod:io'],
  ], [['fn:app:main', 'fn:svc:svc', 1], ['fn:svc:svc', 'fn:io:write', 9], ['fn:svc:svc', 'fn:io:store', 1], ['fn:svc:svc', 'fn:svc:old', 2]], {
    diff: diffBlock({
      nodes: [mark('fn:svc:old', 'removed', 2, null), mark('fn:io:write', 'changed', 2, 9)],
      edges: [mark('fn:svc:svc->fn:io:store', 'added', null, 1), mark('fn:svc:svc->fn:svc:old', 'removed', 2, null),
        mark('fn:svc:svc->fn:io:write', 'changed', 2, 9)],
      violations: [{ rule: 'layers', source: 'fn:svc:svc', target: 'fn:svc:old', status: 'removed' }],
      changes: [change('actors_removed', 'fn:svc:old', null, '-'), change('edges_added', 'fn:svc:svc', 'fn:svc:svc->fn:io:store'),
        change('edges_added', null, 'fn:app:main->fn:svc:svc'), change('io_added', 'fn:nowhere', null)],
      ...extra,
    }),
  });
}

describe('diff index', () => {
  it('is null for an ordinary report', () => {
    const s = merged();
    delete s.diff;
    expect(buildDiffIndex(s, buildGraphIndex(s))).toBeNull();
  });

  it('marks nodes and edges by id, counts the marks inside containers, and finds fixed violations', () => {
    const s = merged();
    const g = buildGraphIndex(s);
    const di = buildDiffIndex(s, g)!;
    const at = (id: string) => g.byId.get(id)!;
    expect(nodeMark(di, g, at('fn:svc:old'))?.status).toBe('removed');
    expect(nodeMark(di, g, at('fn:io:write'))).toMatchObject({ status: 'changed', a: 2, b: 9 });
    expect(nodeMark(di, g, at('fn:svc:svc'))).toBeNull();
    expect(di.inside[at('mod:svc')]).toBe(1);
    expect(di.inside[at('mod:io')]).toBe(1);
    expect(di.inside[at('mod:app')]).toBe(0);
    const old = g.edgeById.get('fn:svc:svc->fn:svc:old')!;
    expect(edgeMark(di, [old])?.status).toBe('removed');
    expect(fixedRules(di, [old])).toEqual(['layers']);
    expect(fixedRules(di, [g.edgeById.get('fn:svc:svc->fn:io:store')!])).toEqual([]);
  });

  it('rolls up an aggregated edge between modules: all added stays added, a mix reads "changes"', () => {
    const s = merged();
    const g = buildGraphIndex(s);
    const di = buildDiffIndex(s, g)!;
    // fold every callable into its module: svc -> io carries write (changed) and store (added)
    const rep = Int32Array.from(g.nodes.map((n, i) => (g.callable[i] && n.kind !== 'scenario' ? g.parent[i] : i)));
    const vis = aggregateEdges(g, rep);
    const svcIo = vis.edges.find((e) => e.source === g.byId.get('mod:svc') && e.target === g.byId.get('mod:io'))!;
    expect(svcIo.members).toHaveLength(2);
    const m = edgeMark(di, svcIo.members)!;
    expect(m).toMatchObject({ status: 'changed', a: null, b: null });
    expect(countText(m)).toBe('changes');
    const appSvc = vis.edges.find((e) => e.source === g.byId.get('mod:app'))!;
    expect(edgeMark(di, appSvc.members)).toBeNull();
  });

  it('rollUp and countText', () => {
    expect(rollUp([mark('x', 'added', null, 3), mark('y', 'added', null, 4)])).toMatchObject({ status: 'added', b: 7 });
    expect(rollUp([mark('x', 'removed', 5, null), undefined])).toMatchObject({ status: 'changed', a: null, b: null });
    expect(rollUp([mark('x', 'changed', 12, 40), mark('y', 'changed', 1, 2)])).toMatchObject({ status: 'changed', a: 13, b: 42 });
    expect(rollUp([undefined, undefined])).toBeNull();
    expect(countText(mark('x', 'changed', 12, 40))).toBe('12 → 40');
    expect(countText(mark('x', 'added', null, 3))).toBe('+3');
    expect(countText(mark('x', 'removed', 2, null))).toBe('−2');
  });

  it('a method aggregate of an instance group stands for its members, their key counted once', () => {
    // C.f on two objects: one key, its calls (3 in A, 9 in B) on both marks
    const s = snap([
      ['mod:m', 'module', null], ['inst:m.C#1', 'instance', 'mod:m'], ['meth:m.C#1.f', 'method', 'inst:m.C#1'],
      ['inst:m.C#2', 'instance', 'mod:m'], ['meth:m.C#2.f', 'method', 'inst:m.C#2'],
    ], [], { diff: diffBlock({ nodes: [mark('meth:m.C#1.f', 'changed', 3, 9, 'meth:m.C.f'), mark('meth:m.C#2.f', 'changed', 3, 9, 'meth:m.C.f')] }) });
    const g = buildGraphIndex(s);
    const di = buildDiffIndex(s, g)!;
    const agg = g.nodes.findIndex((n) => n.kind === 'agg');
    expect(agg).toBeGreaterThan(0);
    expect(nodeMark(di, g, agg)).toMatchObject({ status: 'changed', a: 3, b: 9, key: 'meth:m.C.f' });
    expect(countText(nodeMark(di, g, agg)!)).toBe('3 → 9');
  });
});

describe('changes panel', () => {
  it('groups rows by section in order and points each at its node and edges', () => {
    const s = merged();
    const g = buildGraphIndex(s);
    const groups = changeGroups(s.diff!);
    expect(groups.map((x) => [x.section, x.rows.length])).toEqual([['actors_removed', 1], ['edges_added', 2], ['io_added', 1]]);
    const [removed, added, addedNoNode, missing] = s.diff!.changes;
    expect(changeTarget(g, removed)).toEqual({ node: g.byId.get('fn:svc:old'), edges: [] });
    expect(changeTarget(g, added)).toEqual({ node: g.byId.get('fn:svc:svc'), edges: [g.edgeById.get('fn:svc:svc->fn:io:store')] });
    // no node given: the edge's caller
    expect(changeTarget(g, addedNoNode)).toEqual({ node: g.byId.get('fn:app:main'), edges: [g.edgeById.get('fn:app:main->fn:svc:svc')] });
    expect(changeTarget(g, missing)).toEqual({ node: null, edges: [] });
  });
});
