// Builds the graph handed to ELK for a small run's full map (big runs: overview.ts, focusLayout.ts).
// Edges come from lod.ts's aggregateEdges, the one place where calls are summed onto boxes. Pure.
import type { GraphIndex } from './graph';
import { aggregateEdges, identityRep, type VisibleGraph } from './lod';

export type { VisEdge, VisibleEdges, VisibleGraph } from './lod';

export const BIG_GRAPH_CALLABLES = 40;
export const HEADER = 34;
const PAD = `[top=${HEADER},left=14,bottom=14,right=14]`;

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

export const isBigGraph = (g: GraphIndex) => g.callableCount > BIG_GRAPH_CALLABLES;

export function leafSize(g: GraphIndex, i: number, collapsed = false): { width: number; height: number } {
  const n = g.nodes[i];
  const appName = n.kind === 'scenario' && n.label === 'run' ? g.appName : null;
  const len = [...n.label].length;
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

/** The whole hierarchy with every call edge (small graphs). */
export function fullGraph(g: GraphIndex): ElkIn {
  return {
    id: '__root',
    layoutOptions: ROOT_OPTIONS,
    children: g.roots.flatMap((r) => (g.nodes[r].kind === 'group' ? openKids(g, r) : [r])).map((r) => subtree(g, r, () => 'open')).filter((x): x is ElkIn => !!x),
    edges: fullEdges(g).edges.filter((e) => e.source !== e.target)
      .map((e) => ({ id: e.id, sources: [g.nodes[e.source].id], targets: [g.nodes[e.target].id] })),
  };
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
