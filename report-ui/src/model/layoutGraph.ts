// Builds the graph handed to ELK for a small run's full map (big runs: overview.ts, focusLayout.ts).
// Edges come from lod.ts's aggregateEdges, the one place where calls are summed onto boxes. Pure.
import type { GraphIndex } from './graph';
import { aggregateEdges, identityRep, type VisibleGraph } from './lod';

export type { VisEdge, VisibleEdges, VisibleGraph } from './lod';

export const BIG_GRAPH_CALLABLES = 40;
export const HEADER = 34;
const PAD = `[top=${HEADER},left=10,bottom=12,right=10]`;

export interface ElkIn {
  id: string;
  width?: number;
  height?: number;
  children?: ElkIn[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
  layoutOptions?: Record<string, string>;
}

export interface Box { x: number; y: number; width: number; height: number }
/** Layout result: boxes relative to their parent's top-left corner. */
export type Boxes = Record<string, Box>;

export const ROOT_OPTIONS: Record<string, string> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.layered.spacing.nodeNodeBetweenLayers': '56',
  'elk.spacing.nodeNode': '18',
  'elk.spacing.componentComponent': '36',
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.crossingMinimization.forceNodeModelOrder': 'false',
  'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
  'elk.padding': '[top=20,left=20,bottom=20,right=20]',
};

/** The small run's full map: tighter than ROOT_OPTIONS so that a small run, its I/O column included,
 * fits the map area at the readable zoom floor (1440 px wide screen, the inspector open). */
export const FULL_OPTIONS: Record<string, string> = {
  ...ROOT_OPTIONS,
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.layered.spacing.edgeNodeBetweenLayers': '4',
  'elk.layered.spacing.edgeEdgeBetweenLayers': '4',
};

export const isBigGraph = (g: GraphIndex) => g.callableCount > BIG_GRAPH_CALLABLES;

export function leafSize(g: GraphIndex, i: number, collapsed = false): { width: number; height: number } {
  const n = g.nodes[i];
  const appName = n.kind === 'scenario' && n.label === 'run' ? g.appName : null;
  const len = [...n.label].length;
  if (n.kind === 'boundary') return boundarySize(g, i);
  if (n.kind === 'scenario') return { width: Math.round(Math.min(260, Math.max(120, (appName ?? n.label).length * 8.2 + 56))), height: 46 };
  if (collapsed) return { width: Math.round(Math.min(340, Math.max(190, len * 7.4 + 48))), height: 64 };
  // room for the "!" of raised calls and the "test" badge of harness code
  const badge = n.role === 'harness' ? 40 : 0;
  const digits = n.call_count > 0 ? Math.min(6, String(n.call_count).length) : 0; // the call count badge
  const extra = ((n.raised ?? 0) > 0 ? 22 : 0) + badge + Math.max(0, digits - 2) * 7
    + (n.kind === 'agg' ? 20 + String(n.members?.length ?? 0).length * 8 : 0); // its "×N" instances
  if (g.callable[i] || n.kind === 'agg') return { width: Math.round(Math.min(320 + badge, Math.max(120, len * 7.4 + 74 + extra))), height: 34 };
  return { width: Math.round(Math.min(300, Math.max(150, len * 7.2 + 40))), height: 44 };
}

/** An I/O boundary's box (map and focus views): three lines (kind, label in mono, operations), all of
 * them shown whole. */
export function boundarySize(g: GraphIndex, i: number): { width: number; height: number } {
  const n = g.nodes[i];
  const io = n.io ?? { kind: '?', target: n.label, ops: [] };
  const kind = `I/O · ${io.kind}`.length * 7.6; // 9.5 px uppercase, spaced
  const label = [...n.label].length * 7.4; // 12 px mono
  const sub = `${io.ops.join(' · ')} · ${n.call_count}×`.length * 6.2 + 16; // 10.5 px, room for a diff mark
  return { width: Math.round(Math.min(420, Math.max(150, kind, label, sub) + 30)), height: BOUNDARY_H };
}

export const BOUNDARY_H = 64;

/** Children drawn inside a box of the full map: instance groups are transparent there (every instance shows). */
function openKids(g: GraphIndex, i: number): number[] {
  return g.children[i].flatMap((c) => (g.nodes[c].kind === 'group' ? openKids(g, c) : [c]));
}

function subtree(g: GraphIndex, i: number, stopAt: (i: number) => 'leaf' | 'skip' | 'open', sizes?: Map<number, { width: number; height: number }>): ElkIn | null {
  const mode = stopAt(i);
  if (mode === 'skip') return null;
  const id = g.nodes[i].id;
  const kids = mode === 'open' ? openKids(g, i).map((c) => subtree(g, c, stopAt, sizes)).filter((x): x is ElkIn => !!x) : [];
  if (kids.length) {
    const badge = g.nodes[i].role === 'harness' ? 50 : 0; // the "test" badge of harness code
    const minW = Math.round(Math.min(520 + badge, 150 + badge + [...g.nodes[i].label].length * 7.6));
    return { id, children: kids, layoutOptions: { 'elk.padding': PAD, 'elk.nodeSize.constraints': 'MINIMUM_SIZE', 'elk.nodeSize.minimum': `(${minW}, 60)` } };
  }
  const size = sizes?.get(i) ?? leafSize(g, i, mode === 'leaf' && g.nodes[i].kind === 'module' && g.children[i].length > 0);
  return { id, ...size };
}

const isIo = (g: GraphIndex, i: number) => g.nodes[i].kind === 'boundary';

/** The whole hierarchy with every call edge (small graphs). I/O boundaries are left out: `withIoColumn`
 * places them after ELK, in a column right of everything (ELK puts a top-level box in the layer after
 * its callers' top-level box, which can be left of a package the callers also call). */
export function fullGraph(g: GraphIndex): ElkIn {
  return {
    id: '__root',
    layoutOptions: FULL_OPTIONS,
    children: g.roots.flatMap((r) => (g.nodes[r].kind === 'group' ? openKids(g, r) : [r])).filter((r) => !isIo(g, r))
      .map((r) => subtree(g, r, () => 'open')).filter((x): x is ElkIn => !!x),
    edges: fullEdges(g).edges.filter((e) => e.source !== e.target && !isIo(g, e.target))
      .map((e) => ({ id: e.id, sources: [g.nodes[e.source].id], targets: [g.nodes[e.target].id] })),
  };
}

const IO_GAP_X = 44, IO_GAP_Y = 18, IO_MAX_COL_H = 620;

/** Top of a laid-out box in the map's coordinates (boxes are relative to their parent box; boxless
 * parents, such as instance groups, add nothing). */
export function absTop(g: GraphIndex, boxes: Boxes, i: number): number {
  let y = 0;
  for (let p = i, hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) { const b = boxes[g.nodes[p].id]; if (b) y += b.y; }
  return y;
}

/** `boxes` (the ELK result of `fullGraph`) plus the I/O boundaries: a column right of every top-level
 * box, ordered by where their callers sit, wrapped into more columns when taller than the map (or a
 * screen). Pure: returns a new object. */
export function withIoColumn(g: GraphIndex, boxes: Boxes): Boxes {
  const io = g.roots.filter((r) => isIo(g, r));
  if (!io.length) return boxes;
  const out: Boxes = { ...boxes };
  const top = g.roots.map((r) => boxes[g.nodes[r].id]).filter((b): b is Box => !!b && b.width > 0);
  const right = Math.max(0, ...top.map((b) => b.x + b.width));
  const y0 = top.length ? Math.min(...top.map((b) => b.y)) : 0;
  const bottom = Math.max(y0, ...top.map((b) => b.y + b.height));
  const ys = new Map<number, number[]>();
  for (const e of fullEdges(g).edges) {
    if (!isIo(g, e.target) || !boxes[g.nodes[e.source].id]) continue;
    const b = boxes[g.nodes[e.source].id];
    (ys.get(e.target) ?? ys.set(e.target, []).get(e.target)!).push(absTop(g, boxes, e.source) + b.height / 2);
  }
  const key = (b: number) => { const v = ys.get(b); return v?.length ? v.reduce((a, c) => a + c, 0) / v.length : 1e9; };
  const sizes = new Map(io.map((b) => [b, boundarySize(g, b)]));
  const colW = Math.max(...[...sizes.values()].map((s) => s.width));
  const maxH = Math.max(bottom - y0, IO_MAX_COL_H);
  let x = right + IO_GAP_X, y = y0;
  for (const b of [...io].sort((a, c) => key(a) - key(c) || a - c)) {
    const s = sizes.get(b)!;
    if (y > y0 && y - y0 + s.height > maxH) { y = y0; x += colW + IO_GAP_Y; }
    out[g.nodes[b].id] = { x, y, ...s };
    y += s.height + IO_GAP_Y;
  }
  return out;
}

/** Every node is its own box, every call edge drawn (small runs): the visible graph of the full map. */
export function fullEdges(g: GraphIndex): VisibleGraph {
  const rep = identityRep(g);
  const nodes: number[] = [];
  for (let i = 0; i < rep.length; i++) nodes.push(i);
  return { nodes, rep, ...aggregateEdges(g, rep) };
}

/** Read an ELK result into boxes relative to the parent. */
export function readBoxes(out: ElkIn & { x?: number; y?: number }, into: Boxes = {}): Boxes {
  for (const c of (out.children ?? []) as (ElkIn & { x?: number; y?: number })[]) {
    into[c.id] = { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 };
    readBoxes(c, into);
  }
  return into;
}
