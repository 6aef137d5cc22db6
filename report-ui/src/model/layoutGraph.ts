// Builds the graphs handed to ELK and the visible graph (collapsed modules vs expanded). Pure.
import type { GraphIndex } from './graph';

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
  const extra = ((n.raised ?? 0) > 0 ? 22 : 0) + badge + Math.max(0, digits - 2) * 7 + (n.kind === 'agg' ? 34 : 0);
  if (g.callable[i]) return { width: Math.round(Math.min(320 + badge, Math.max(120, len * 7.4 + 74 + extra))), height: 34 };
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

function edgesFor(g: GraphIndex, rep: Int32Array, keep: (s: number, t: number) => boolean) {
  const seen = new Set<string>();
  const out: ElkIn['edges'] = [];
  for (let j = 0; j < g.edges.length; j++) {
    const s = g.edgeSrc[j], t = g.edgeTgt[j];
    if (s < 0 || t < 0) continue;
    const rs = rep[s], rt = rep[t];
    if (rs === rt || !keep(rs, rt)) continue;
    const id = `${g.nodes[rs].id}->${g.nodes[rt].id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ id, sources: [g.nodes[rs].id], targets: [g.nodes[rt].id] });
  }
  return out;
}

/** The whole hierarchy with every call edge (small graphs). */
export function fullGraph(g: GraphIndex): ElkIn {
  const rep = Int32Array.from({ length: g.nodes.length }, (_, i) => i);
  return {
    id: '__root',
    layoutOptions: ROOT_OPTIONS,
    children: g.roots.flatMap((r) => (g.nodes[r].kind === 'group' ? openKids(g, r) : [r])).map((r) => subtree(g, r, () => 'open')).filter((x): x is ElkIn => !!x),
    edges: edgesFor(g, rep, () => true),
  };
}

/** Representative of each node when the modules not in `expanded` are collapsed. */
export function representatives(g: GraphIndex, expanded: Set<number> | null): Int32Array {
  const rep = new Int32Array(g.nodes.length);
  for (let i = 0; i < rep.length; i++) {
    rep[i] = i;
    if (expanded === null) continue;
    const m = g.moduleOf[i];
    if (m >= 0 && m !== i && !expanded.has(m)) rep[i] = m;
  }
  return rep;
}

/** Top level for big graphs: packages and modules as leaves (expanded modules sized by their own layout).
 * Laid out level by level (SEPARATE_CHILDREN): each edge goes into the lowest container holding both
 * ends, as an edge between that container's children, so ELK never routes across the hierarchy. */
export function levelGraph(g: GraphIndex, moduleSizes: Map<number, { width: number; height: number }>): ElkIn {
  const stop = (i: number) => (g.nodes[i].kind === 'module' ? 'leaf' : 'open') as 'leaf' | 'open';
  const rep = representatives(g, new Set());
  const root: ElkIn = {
    id: '__root',
    layoutOptions: { ...ROOT_OPTIONS, 'elk.hierarchyHandling': 'SEPARATE_CHILDREN' },
    children: g.roots.map((r) => subtree(g, r, stop, moduleSizes)).filter((x): x is ElkIn => !!x),
    edges: [],
  };
  const byId = new Map<string, ElkIn>();
  const walk = (n: ElkIn) => { byId.set(n.id, n); n.children?.forEach(walk); };
  walk(root);
  // chain of laid-out ancestors (outermost first) for a representative node
  const chain = (i: number) => {
    const out: number[] = [];
    for (let p = i; p >= 0; p = g.parent[p]) if (byId.has(g.nodes[p].id)) out.unshift(p);
    return out;
  };
  const seen = new Set<string>();
  for (let j = 0; j < g.edges.length; j++) {
    const s = g.edgeSrc[j], t = g.edgeTgt[j];
    if (s < 0 || t < 0 || rep[s] === rep[t]) continue;
    const a = chain(rep[s]), b = chain(rep[t]);
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    if (k >= a.length || k >= b.length) continue; // one contains the other
    const holder = k === 0 ? root : byId.get(g.nodes[a[k - 1]].id)!;
    const src = g.nodes[a[k]].id, tgt = g.nodes[b[k]].id;
    const id = `${src}->${tgt}`;
    if (seen.has(id)) continue;
    seen.add(id);
    (holder.edges ??= []).push({ id, sources: [src], targets: [tgt] });
  }
  return root;
}

/** One module's inside, laid out alone; the module box is the single child of the root. */
export function moduleGraph(g: GraphIndex, m: number): ElkIn {
  const inside = (i: number) => g.moduleOf[i] === m && i !== m;
  const rep = Int32Array.from({ length: g.nodes.length }, (_, i) => i);
  const mod = subtree(g, m, () => 'open') as ElkIn;
  return {
    id: '__root',
    layoutOptions: { ...ROOT_OPTIONS, 'elk.padding': '[top=0,left=0,bottom=0,right=0]' },
    children: [mod],
    edges: edgesFor(g, rep, (s, t) => inside(s) && inside(t)),
  };
}

export interface VisEdge {
  id: string;
  source: number;
  target: number;
  count: number;
  raised: number;
  /** Snapshot edge indices aggregated into this visible edge. */
  members: number[];
  /** Drawn against the layering (a call back to an earlier layer: part of a cycle). */
  back?: boolean;
}

export interface VisibleGraph {
  nodes: number[];
  rep: Int32Array;
  edges: VisEdge[];
  /** Snapshot edge index -> visible edge index (-1 when not drawn). */
  edgeToVis: Int32Array;
}

/** Nodes and (aggregated) edges drawn on the map; `expanded` null means everything is open. */
export function visibleGraph(g: GraphIndex, expanded: Set<number> | null): VisibleGraph {
  const rep = representatives(g, expanded);
  const nodes: number[] = [];
  for (let i = 0; i < rep.length; i++) if (rep[i] === i) nodes.push(i);
  const byKey = new Map<string, number>();
  const edges: VisEdge[] = [];
  const edgeToVis = new Int32Array(g.edges.length).fill(-1);
  for (let j = 0; j < g.edges.length; j++) {
    const s = g.edgeSrc[j], t = g.edgeTgt[j];
    if (s < 0 || t < 0) continue;
    const rs = rep[s], rt = rep[t];
    if (rs === rt && (rs !== s || rt !== t)) continue; // calls inside a collapsed module
    const id = expanded === null ? g.edges[j].id : `${g.nodes[rs].id}->${g.nodes[rt].id}`;
    let k = byKey.get(id);
    if (k === undefined) {
      k = edges.length;
      byKey.set(id, k);
      edges.push({ id, source: rs, target: rt, count: 0, raised: 0, members: [] });
    }
    const e = edges[k];
    e.count += g.edges[j].count;
    e.raised += g.edges[j].raised;
    e.members.push(j);
    edgeToVis[j] = k;
  }
  return { nodes, rep, edges, edgeToVis };
}

/** Read an ELK result into boxes relative to the parent. */
export function readBoxes(out: ElkIn & { x?: number; y?: number }, into: Boxes = {}): Boxes {
  for (const c of (out.children ?? []) as (ElkIn & { x?: number; y?: number })[]) {
    into[c.id] = { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 };
    readBoxes(c, into);
  }
  return into;
}
