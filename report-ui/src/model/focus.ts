// Focus view: a node's neighbourhood. Callers on the left, the node (its inside at the coarsest level
// that fits) in the middle, callees on the right, one or more hops; each side's neighbours at the
// finest level that keeps the side within its budget. Pure, no React.
import type { GraphIndex } from './graph';
import { aggregateEdges, autoCut, cutView, firstKids, treeOrder, type Cut, type VisibleEdges } from './lod';

export interface FocusOptions {
  /** Leaf boxes inside the centre. */
  inner: number;
  /** Boxes per neighbour column. */
  side: number;
  /** Columns of callers / callees (1 = direct neighbours). */
  hops: number;
}

export const FOCUS_DEFAULTS: FocusOptions = { inner: 18, side: 10, hops: 1 };

export interface FocusView extends VisibleEdges {
  center: number;
  cut: Cut;
  /** Boxes of the centre (the centre first, parents before children). */
  inner: number[];
  /** Neighbour columns, nearest first: callers[0] calls into the centre, callees[0] is called by it. */
  callers: number[][];
  callees: number[][];
  /** Neighbours left out per column (beyond the side budget even at the coarsest level). */
  callersMore: number[];
  calleesMore: number[];
  /** Children of the centre left out (it has more than fit). */
  innerMore: number;
  /** Per node: the box standing for it, -1 when not in the view. */
  rep: Int32Array;
}

/** Per node: 1 inside `c` (itself, its descendants; for a method aggregate, its members and below). */
export function insideOf(g: GraphIndex, c: number): Uint8Array {
  const n = g.nodes.length;
  const inside = new Uint8Array(n);
  inside[c] = 1;
  if (g.nodes[c].kind === 'agg') for (const id of g.nodes[c].members ?? []) { const m = g.byId.get(id); if (m !== undefined) inside[m] = 1; }
  for (const i of treeOrder(g)) { const p = g.parent[i]; if (p >= 0 && inside[p] && g.nodes[i].kind !== 'agg') inside[i] = 1; }
  return inside;
}

/** Coarsening chain of a neighbour: itself, then its containers (a grouped method goes through its
 * aggregate and its group), stopping below anything that contains `blocked` nodes. */
function chainOf(g: GraphIndex, x: number, blocked: Uint8Array): number[] {
  const out = [x];
  let p = g.parent[x];
  const a = g.aggFor[x];
  if (a >= 0 && !blocked[a] && !blocked[g.parent[a]]) { out.push(a); p = g.parent[a]; }
  for (let hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) {
    if (blocked[p] || g.nodes[p].kind === 'scenario') break;
    out.push(p);
  }
  return out;
}

/** The finest level at which the neighbours fit in `budget` boxes (heaviest kept when none does). */
function coarsen(g: GraphIndex, weights: Map<number, number>, budget: number, blocked: Uint8Array): { boxes: number[]; more: number } {
  const chains = [...weights.keys()].map((x) => chainOf(g, x, blocked));
  const maxL = Math.max(0, ...chains.map((c) => c.length - 1));
  for (let L = 0; L <= maxL; L++) {
    const w = new Map<number, number>();
    chains.forEach((c) => { const b = c[Math.min(L, c.length - 1)]; w.set(b, (w.get(b) ?? 0) + weights.get(c[0])!); });
    // a box inside another picked box merges into it
    const picked = new Set(w.keys());
    for (const b of [...picked]) {
      for (let p = g.parent[b], hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) {
        if (picked.has(p)) { w.set(p, w.get(p)! + w.get(b)!); w.delete(b); break; }
      }
    }
    if (w.size <= budget || L === maxL) {
      const sorted = [...w].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([b]) => b);
      return { boxes: sorted.slice(0, budget), more: Math.max(0, sorted.length - budget) };
    }
  }
  return { boxes: [], more: 0 };
}

export function focusView(g: GraphIndex, center: number, opts: Partial<FocusOptions> = {}): FocusView {
  const o = { ...FOCUS_DEFAULTS, ...opts };
  const n = g.nodes.length;
  const inC = insideOf(g, center);
  const cut = autoCut(g, [center], o.inner);
  // a centre with more children than fit: open it on its heaviest ones
  const first = firstKids(g, center);
  let innerMore = 0;
  if (!cut.open.has(center) && first.length) {
    const keep = [...first].sort((a, b) => g.nodes[b].call_count - g.nodes[a].call_count || a - b).slice(0, o.inner);
    const kept = new Set(keep);
    cut.open.add(center);
    cut.hidden = new Set(first.filter((k) => !kept.has(k)));
    innerMore = cut.hidden.size;
  }
  const cv = cutView(g, cut, [center]);
  // nodes that may not become neighbour boxes: the centre, its inside and its containers
  const blocked = Uint8Array.from(inC);
  for (let p = center; p >= 0; p = g.parent[p]) blocked[p] = 1;
  if (g.nodes[center].kind === 'agg') for (let p = g.parent[center]; p >= 0; p = g.parent[p]) blocked[p] = 1;
  const taken = Uint8Array.from(inC); // nodes already drawn (inside a box of the view)
  const callers: number[][] = [], callees: number[][] = [], callersMore: number[] = [], calleesMore: number[] = [];
  const nbRep = new Int32Array(n).fill(-1);
  let frontIn = inC, frontOut = inC;
  const cur = new Int32Array(n);
  /** Assign every node inside one of `boxes` to it; returns the nodes now drawn by them. */
  const mark = (boxes: number[]) => {
    cur.fill(-1);
    boxes.forEach((b) => { cur[b] = b; });
    const out = new Uint8Array(n);
    for (const i of treeOrder(g)) {
      if (cur[i] < 0) {
        const a = g.aggFor[i], p = g.parent[i];
        if (a >= 0 && cur[a] === a) cur[i] = a;
        else if (p >= 0 && cur[p] >= 0) cur[i] = cur[p];
      }
      if (cur[i] >= 0 && !inC[i]) { nbRep[i] = cur[i]; out[i] = 1; taken[i] = 1; }
    }
    // later boxes may not contain these
    for (const b of boxes) for (let p = g.parent[b], hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) blocked[p] = 1;
    return out;
  };
  for (let h = 0; h < Math.max(1, o.hops); h++) {
    const win = new Map<number, number>(), wout = new Map<number, number>();
    for (let j = 0; j < g.edges.length; j++) {
      const s = g.edgeSrc[j], t = g.edgeTgt[j];
      if (s < 0 || t < 0) continue;
      const c = g.edges[j].count;
      if (frontIn[t] && !taken[s]) win.set(s, (win.get(s) ?? 0) + c);
      if (frontOut[s] && !taken[t]) wout.set(t, (wout.get(t) ?? 0) + c);
    }
    // a neighbour on both sides is drawn once, as a caller
    for (const x of win.keys()) wout.delete(x);
    const L = coarsen(g, win, o.side, blocked);
    // the callers' boxes are taken before the callees are picked, so the two never overlap
    const inL = mark(L.boxes);
    const R = coarsen(g, new Map([...wout].filter(([x]) => !taken[x])), o.side, blocked);
    const inR = mark(R.boxes);
    if (!L.boxes.length && !R.boxes.length) break;
    if (L.boxes.length || h === 0) { callers.push(L.boxes); callersMore.push(L.more); }
    if (R.boxes.length || h === 0) { callees.push(R.boxes); calleesMore.push(R.more); }
    frontIn = inL;
    frontOut = inR;
  }
  const rep = new Int32Array(n);
  for (let i = 0; i < n; i++) rep[i] = inC[i] ? cv.rep[i] : nbRep[i];
  // edges that touch the centre, and those between neighbour columns next to each other
  const col = new Int32Array(n).fill(0x7fff);
  cv.boxes.forEach((b) => { col[b] = 0; });
  callers.forEach((c, k) => c.forEach((b) => { col[b] = -(k + 1); }));
  callees.forEach((c, k) => c.forEach((b) => { col[b] = k + 1; }));
  // inside a centre with many boxes, only the calls that cross its border (else a hairball)
  const innerLeaves = cv.boxes.filter((b) => !cut.open.has(b)).length;
  // a centre with many boxes inside takes its calls at its border (one edge per neighbour)
  const erep = innerLeaves > 8 ? rep.map((r, i) => (inC[i] ? center : r)) : rep;
  const ve = aggregateEdges(g, erep, (rs, rt) => {
    if (Math.abs(col[rs] - col[rt]) > 1) return false;
    if (col[rs] === 0 && col[rt] === 0) return innerLeaves <= 8 || rs === center || rt === center;
    return col[rs] !== col[rt];
  });
  return { center, cut, inner: cv.boxes, innerMore, callers, callees, callersMore, calleesMore, rep, ...ve };
}

/** Containers of a node, outermost first (for breadcrumbs); a method aggregate counts its group. */
export function trail(g: GraphIndex, i: number): number[] {
  const out: number[] = [];
  for (let p = g.parent[i], hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) out.unshift(p);
  return out;
}
