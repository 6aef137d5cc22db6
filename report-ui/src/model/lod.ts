// Cuts through the tree: which containers are open, which nodes are boxes, what each node is drawn as.
// A cut is chosen within a box budget, coarsest first, so a view never holds more boxes than a person
// can read. Pure, no React.
import { depthOrder, type GraphIndex } from './graph';

export interface Cut {
  /** Open containers (drawn as shells with their children inside). */
  open: Set<number>;
  /** Open instance groups shown one instance at a time (else their method aggregates). */
  indiv: Set<number>;
  /** Children left out of an open box (too many to show): drawn as their container. */
  hidden?: Set<number>;
}

export const emptyCut = (): Cut => ({ open: new Set(), indiv: new Set() });

/** What an open node shows inside it. */
export function shownKids(g: GraphIndex, i: number, cut: Cut): number[] {
  const kids = g.nodes[i].kind === 'group' && !cut.indiv.has(i) ? g.aggOf.get(i) ?? g.children[i] : g.children[i];
  return cut.hidden ? kids.filter((k) => !cut.hidden!.has(k)) : kids;
}

/** Children a closed node would show once opened (its first level of detail). */
export function firstKids(g: GraphIndex, i: number): number[] {
  if (g.nodes[i].kind === 'group') return g.aggOf.get(i) ?? g.children[i];
  return g.children[i];
}

const orders = new WeakMap<GraphIndex, number[]>();
export function treeOrder(g: GraphIndex): number[] {
  let o = orders.get(g);
  if (!o) {
    o = depthOrder(g.parent, g.nodes.length);
    orders.set(g, o);
  }
  return o;
}

export interface CutView {
  /** Visible boxes (shells and leaves), parents before children. */
  boxes: number[];
  /** Per node: the visible box that stands for it, -1 when outside the scope. */
  rep: Int32Array;
}

/** Boxes of `cut` below the scope roots, and the representative of every node inside the scope. */
export function cutView(g: GraphIndex, cut: Cut, scope: readonly number[]): CutView {
  const n = g.nodes.length;
  const rep = new Int32Array(n).fill(-1);
  const shown = new Uint8Array(n);
  const inScope = new Set(scope);
  const aggShown = (a: number) => {
    const gi = g.parent[a];
    return gi >= 0 && shown[gi] === 1 && cut.open.has(gi) && !cut.indiv.has(gi);
  };
  const boxes: number[] = [];
  for (const i of treeOrder(g)) {
    const p = g.parent[i];
    if (inScope.has(i)) { shown[i] = 1; rep[i] = i; boxes.push(i); continue; }
    if (p < 0) continue;
    const nd = g.nodes[i];
    if (nd.kind === 'agg') {
      if (aggShown(i) && !cut.hidden?.has(i)) { shown[i] = 1; rep[i] = i; boxes.push(i); }
      else rep[i] = rep[p];
      continue;
    }
    if (shown[p] && cut.open.has(p) && (g.nodes[p].kind !== 'group' || cut.indiv.has(p)) && !cut.hidden?.has(i)) {
      shown[i] = 1; rep[i] = i; boxes.push(i);
      continue;
    }
    const a = g.aggFor[i];
    rep[i] = a >= 0 && shown[a] ? a : rep[p];
  }
  return { boxes, rep };
}

/** Leaf boxes of a cut (visible and not open). */
export function leafBoxes(g: GraphIndex, cut: Cut, boxes: readonly number[]): number[] {
  return boxes.filter((i) => !(cut.open.has(i) && shownKids(g, i, cut).length > 0));
}

/**
 * Open containers below the scope, biggest first, while the number of leaf boxes stays within
 * `budget`. Containers with a single child open for free. `canOpen` limits the levels (the
 * overview keeps modules closed). Instance groups open to their method aggregates first, and to
 * their instances one by one only when those fit too.
 */
export function autoCut(g: GraphIndex, scope: readonly number[], budget: number, canOpen: (i: number) => boolean = () => true): Cut {
  const cut = emptyCut();
  let leaves = scope.length;
  type Cand = { i: number; indiv: boolean; cost: number; w: number };
  const cands: Cand[] = [];
  const weight = (i: number) => g.nodes[i].call_count + g.children[i].length;
  const consider = (i: number) => {
    if (!canOpen(i)) return;
    const k = firstKids(g, i).length;
    if (!k) return;
    cands.push({ i, indiv: false, cost: k - 1, w: weight(i) });
  };
  scope.forEach(consider);
  for (let guard = 0; cands.length && guard < 100000; guard++) {
    // cheapest free opens first, then the heaviest that still fits
    let best = -1;
    for (let k = 0; k < cands.length; k++) {
      const c = cands[k];
      if (leaves + c.cost > budget) continue;
      if (best < 0) { best = k; continue; }
      const b = cands[best];
      if ((c.cost <= 0) !== (b.cost <= 0)) { if (c.cost <= 0) best = k; continue; }
      if (c.w > b.w || (c.w === b.w && c.i < b.i)) best = k;
    }
    if (best < 0) break;
    const c = cands.splice(best, 1)[0];
    leaves += c.cost;
    if (c.indiv) {
      cut.indiv.add(c.i);
      g.children[c.i].forEach(consider);
      continue;
    }
    cut.open.add(c.i);
    if (g.nodes[c.i].kind === 'group' && g.aggOf.has(c.i)) {
      const insts = g.children[c.i].length;
      if (insts <= 12) cands.push({ i: c.i, indiv: true, cost: insts - (g.aggOf.get(c.i)?.length ?? 0), w: weight(c.i) / 2 });
    } else firstKids(g, c.i).forEach(consider);
  }
  return cut;
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

export interface VisibleEdges {
  edges: VisEdge[];
  /** Snapshot edge index -> visible edge index (-1 when not drawn). */
  edgeToVis: Int32Array;
}

export interface VisibleGraph extends VisibleEdges {
  /** Boxes drawn. */
  nodes: number[];
  /** Per node: the box standing for it (-1: not in the view). */
  rep: Int32Array;
}

/** Every node standing for itself. */
export const identityRep = (g: GraphIndex): Int32Array => Int32Array.from({ length: g.nodes.length }, (_, i) => i);

/**
 * Call edges drawn between boxes (`rep`), counts summed: the one aggregation of calls onto what is
 * visible, for every view (full map, overview, focus). Calls inside one box are left out, except a
 * box's calls to itself (recursion) when it stands for itself; `keep` filters by the two boxes.
 * Visible edge ids are `<source box id>-><target box id>`, the snapshot's own edge ids when every
 * node stands for itself.
 */
export function aggregateEdges(g: GraphIndex, rep: Int32Array, keep: (rs: number, rt: number) => boolean = () => true): VisibleEdges {
  const byKey = new Map<string, number>();
  const edges: VisEdge[] = [];
  const edgeToVis = new Int32Array(g.edges.length).fill(-1);
  for (let j = 0; j < g.edges.length; j++) {
    const s = g.edgeSrc[j], t = g.edgeTgt[j];
    if (s < 0 || t < 0) continue;
    const rs = rep[s], rt = rep[t];
    if (rs < 0 || rt < 0) continue;
    if (rs === rt && (rs !== s || rt !== t)) continue; // calls inside one box
    if (!keep(rs, rt)) continue;
    const id = `${g.nodes[rs].id}->${g.nodes[rt].id}`;
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
  return { edges, edgeToVis };
}

