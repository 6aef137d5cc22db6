// Rule violations (snapshot `violations`) on edges, through every level of detail, the matrix, and
// "Copy as Mermaid" of a view.
import { describe, expect, it } from 'vitest';
import type { Snapshot, Violation } from '../types/snapshot';
import { buildGraphIndex, type GraphIndex } from './graph';
import { aggregateEdges, cutView, emptyCut } from './lod';
import { buildMatrix } from './matrix';
import { fullEdges } from './layoutGraph';
import { overview } from './overview';
import { focusView } from './focus';
import { violationsOf, violationsWithin } from './violations';
import { mermaidLabel, viewToMermaid } from './mermaid';
import type { VisibleGraph } from './lod';

type N = [id: string, kind: string, parent: string | null];

function snap(nodes: N[], edges: [string, string, number][], extra: Partial<Snapshot> = {}): Snapshot {
  return {
    format_version: 1, skeleton_version: 't',
    run: { app_name: 'app', command: ['x'], target: { kind: 'script', path: 'x', args: [] }, project_root: '/p', python_version: '3.12',
      backend: 'sysmon', backend_reason: '', started_at: '', duration_s: 0, exit_code: 0, status: 'ok', error: null },
    stats: { events: 0, recorded_events: 0, dropped_events: 0, calls: 0, max_depth: 0, threads: [], gaps: [], nodes: nodes.length, edges: edges.length },
    nodes: nodes.map(([id, kind, parent], k) => ({
      id, kind, label: id.replace(/^.*[.:]/, ''), parent, module: (parent ?? id).replace(/^[a-z]+:/, '').replace(/[#:].*$/, ''),
      qualified_name: id, file: null, line: null, first_seen: k, last_seen: k, call_count: 1, internal: false,
    })) as Snapshot['nodes'],
    edges: edges.map(([s, t, c], k) => ({ id: `${s}->${t}`, source: s, target: t, kind: 'call' as const, count: c, first_seen: k,
      last_seen: k, total_ns: 0, max_ns: 0, raised: 0, example_events: [] })),
    module_edges: [],
    steps: { count: 0, kinds: ['call'], time_unit_ns: 1, columns: {} as Snapshot['steps']['columns'] },
    ...extra,
  };
}

const V = (rule: string, kind: string, source: string, target: string): Violation =>
  ({ rule, kind, source, target, count: 1, first_seen: 3, detail: `${kind} detail` });

/** app (main) -> shop.services (svc) -> shop.adapters (write); the adapter calls back up into shop.repo (all);
 * the service writes a file itself. */
function shop(violations?: Violation[]): Snapshot {
  return snap([
    ['scenario:run', 'scenario', null], ['mod:app', 'module', null], ['fn:app:main', 'function', 'mod:app'],
    ['mod:shop', 'module', null], ['mod:shop.services', 'module', 'mod:shop'], ['fn:shop.services:svc', 'function', 'mod:shop.services'],
    ['mod:shop.adapters', 'module', 'mod:shop'], ['fn:shop.adapters:write', 'function', 'mod:shop.adapters'],
    ['mod:shop.repo', 'module', 'mod:shop'], ['fn:shop.repo:all', 'function', 'mod:shop.repo'],
  ], [['scenario:run', 'fn:app:main', 1], ['fn:app:main', 'fn:shop.services:svc', 2], ['fn:shop.services:svc', 'fn:shop.adapters:write', 3],
    ['fn:shop.adapters:write', 'fn:shop.repo:all', 4], ['fn:shop.services:svc', 'fn:shop.repo:all', 5]], {
    boundaries: [{ id: 'io:file:/tmp/x.json', kind: 'file', target: '/tmp/x.json', label: 'x.json', count: 1, first_seen: 4, ops: ['write'],
      uses: [{ actor: 'fn:shop.services:svc', count: 1, first_seen: 4, ops: ['write'], details: [], scenarios: [] }] }],
    ...(violations ? { violations } : {}),
  });
}

const LAYERS = V('shop layers', 'layers', 'fn:shop.adapters:write', 'fn:shop.repo:all');
const IO = V('only storage touches files', 'io', 'fn:shop.services:svc', 'io:file:/tmp/x.json');

const marked = (g: GraphIndex, vis: VisibleGraph) =>
  vis.edges.filter((e) => violationsOf(g.viol.byEdge, e.members).length).map((e) => `${g.nodes[e.source].id} -> ${g.nodes[e.target].id}`).sort();

describe('rule violations', () => {
  it('finds the violating call edge and the boundary use of an io rule', () => {
    const g = buildGraphIndex(shop([LAYERS, IO, V('gone', 'forbidden', 'fn:nope', 'fn:shop.repo:all')]));
    expect(g.viol.list.map((h) => h.edge >= 0 ? g.edges[h.edge].id : null)).toEqual([
      'fn:shop.adapters:write->fn:shop.repo:all', 'fn:shop.services:svc->io:file:/tmp/x.json', null]);
    expect([...g.viol.byEdge.keys()].map((j) => g.edges[j].id).sort()).toEqual(
      ['fn:shop.adapters:write->fn:shop.repo:all', 'fn:shop.services:svc->io:file:/tmp/x.json']);
    // the inspector of a node: the violations of the node and of what it holds
    expect(violationsWithin(g, g.byId.get('mod:shop.adapters')!).map((v) => v.rule)).toEqual(['shop layers']);
    expect(violationsWithin(g, g.byId.get('fn:shop.services:svc')!).map((v) => v.rule)).toEqual(['only storage touches files']);
    expect(violationsWithin(g, g.byId.get('mod:app')!)).toEqual([]);
  });

  it('marks nothing when the run was not checked or passed', () => {
    for (const s of [shop(), shop([])]) {
      const g = buildGraphIndex(s);
      expect(g.viol.list).toEqual([]);
      expect(marked(g, fullEdges(g))).toEqual([]);
      expect(buildMatrix(g).violating).toBe(0);
    }
  });

  it('marks the edge at every level of detail: methods, modules, packages, overview and focus', () => {
    const g = buildGraphIndex(shop([LAYERS, IO]));
    expect(marked(g, fullEdges(g))).toEqual(['fn:shop.adapters:write -> fn:shop.repo:all', 'fn:shop.services:svc -> io:file:/tmp/x.json']);
    // modules closed: the calls between them aggregate, and so does the mark, but only on the edge holding the violation
    const at = (id: string) => g.byId.get(id)!;
    const cut = emptyCut(); cut.open.add(at('mod:shop'));
    const cv = cutView(g, cut, g.roots);
    const mods = { nodes: cv.boxes, rep: cv.rep, ...aggregateEdges(g, cv.rep) };
    expect(marked(g, mods)).toEqual(['mod:shop.adapters -> mod:shop.repo', 'mod:shop.services -> io:file:/tmp/x.json']);
    expect(mods.edges.find((e) => g.nodes[e.source].id === 'mod:shop.services' && g.nodes[e.target].id === 'mod:shop.repo')).toBeTruthy();
    // the package closed: the layering call is inside it (no edge drawn: the box carries it), the io use leaves it
    const pk = cutView(g, emptyCut(), g.roots);
    expect(marked(g, { nodes: pk.boxes, rep: pk.rep, ...aggregateEdges(g, pk.rep) })).toEqual(['mod:shop -> io:file:/tmp/x.json']);
    const ov = overview(g);
    expect(marked(g, { nodes: ov.boxes, rep: ov.rep, edges: ov.edges, edgeToVis: ov.edgeToVis }).length).toBeGreaterThan(0);
    const fv = focusView(g, at('fn:shop.adapters:write'));
    expect(marked(g, { nodes: fv.inner, rep: fv.rep, edges: fv.edges, edgeToVis: fv.edgeToVis })).toContain('fn:shop.adapters:write -> fn:shop.repo:all');
  });

  it('marks the matrix cell of the violating calls only', () => {
    const g = buildGraphIndex(shop([LAYERS, IO]));
    const m = buildMatrix(g);
    const cell = (a: string, b: string) => m.cells.get(m.index.get(g.byId.get(a)!)! * m.rows.length + m.index.get(g.byId.get(b)!)!)!;
    expect(cell('mod:shop.adapters', 'mod:shop.repo').violations).toBe(1);
    expect(cell('mod:shop.services', 'mod:shop.repo').violations).toBe(0);
    // the io rule: the services module's cell in the file column (boundaries are columns per I/O kind, not units)
    expect(m.ioKinds).toEqual(['file']);
    const io = m.ioCells.get(m.index.get(g.byId.get('mod:shop.services')!)! * m.ioKinds.length + 0)!;
    expect(io).toMatchObject({ count: 1, violations: 1 });
    expect(io.members.map((j) => g.edges[j].id)).toEqual(['fn:shop.services:svc->io:file:/tmp/x.json']);
    expect(m.ioCells.size).toBe(1);
    expect(m.violating).toBe(2);
  });

  it('has a file column without a violation when the run was not checked', () => {
    const m = buildMatrix(buildGraphIndex(shop()));
    expect(m.ioKinds).toEqual(['file']);
    expect([...m.ioCells.values()].map((c) => [c.count, c.violations])).toEqual([[1, 0]]);
    expect(m.violating).toBe(0);
  });
});

describe('Copy as Mermaid', () => {
  it('writes the visible boxes, subgraphs and aggregated calls with counts, violations in red', () => {
    const g = buildGraphIndex(shop([LAYERS]));
    const at = (id: string) => g.byId.get(id)!;
    const cut = emptyCut(); cut.open.add(at('mod:shop'));
    const cv = cutView(g, cut, g.roots);
    const vis = { nodes: cv.boxes, rep: cv.rep, ...aggregateEdges(g, cv.rep) };
    const text = viewToMermaid(g, vis, (i) => g.nodes[i].kind !== 'boundary', ['app: "x"']);
    expect(text).toBe([
      'flowchart LR',
      '  %% app: "x"',
      '  n0["run"]',
      '  n1["app"]',
      '  subgraph n2["shop"]',
      '    n3["services"]',
      '    n4["adapters"]',
      '    n5["repo"]',
      '  end',
      '  n0 -->|1| n1',
      '  n1 -->|2| n3',
      '  n3 -->|3| n4',
      '  n4 -->|4| n5',
      '  n3 -->|5| n5',
      '  linkStyle 3 stroke:#dc2626,stroke-width:2px',
      '',
    ].join('\n'));
  });

  it('makes hostile labels inert: one quoted label per box, one line, capped', () => {
    expect(mermaidLabel('a"] --> evil["x')).toBe('a#34;#93; --#62; evil#91;#34;x');
    expect(mermaidLabel('x\ny')).toBe('x#92;ny');
    expect(mermaidLabel('<b>%%{init}%%</b>')).not.toMatch(/[<>%{}"\n]/);
    expect(mermaidLabel('Größe_ñ')).toBe('Größe_ñ');
    expect([...mermaidLabel('y'.repeat(200))].length).toBe(80 + '#8230;'.length - 1);
    const g = buildGraphIndex(snap([['mod:a"]-->b', 'module', null], ['fn:a"]-->b:f\nend\nclick n0 call x()', 'function', 'mod:a"]-->b']], []));
    const text = viewToMermaid(g, fullEdges(g), () => true);
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(4); // flowchart, subgraph, the box, end
    for (const l of lines.slice(1)) expect(l).toMatch(/^\s*(subgraph n\d+\["[^"\n]*"\]|n\d+\["[^"\n]*"\]|end)$/);
    expect(text).not.toMatch(/^\s*click/m); // the label's "click" stays inside its quotes
  });
});
