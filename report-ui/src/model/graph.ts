// Index of the snapshot graph: parents, children, categories, reveal orders. Pure, no React.
import type { Edge, Snapshot } from '../types/snapshot';
import { augmentNodes, boundaryNodes, type VNode } from './levels';
import { indexViolations, type ViolationIndex } from './violations';

export const NEVER = 0x7fffffff;

export const CALLABLE_KINDS = new Set(['function', 'method', 'scenario']);
export const CONTAINER_KINDS = new Set(['package', 'module', 'class', 'instance']);

export interface GraphIndex {
  /** The snapshot's nodes (same positions) followed by synthetic ones (see levels.ts). */
  nodes: VNode[];
  /** How many nodes come from the snapshot; synthetic ones follow. */
  realCount: number;
  /** Instance group -> its method aggregates (not in `children`: they stand for the instances' methods). */
  aggOf: Map<number, number[]>;
  /** Method -> the aggregate standing for it in its instance group, else -1. */
  aggFor: Int32Array;
  edges: Edge[];
  byId: Map<string, number>;
  edgeById: Map<string, number>;
  parent: Int32Array;
  children: number[][];
  roots: number[];
  callable: Uint8Array;
  /** Index of the nearest module ancestor (or itself); -1 when none (the scenario). */
  moduleOf: Int32Array;
  /** Effective first-seen order: min over the node and its descendants, NEVER if never seen. */
  revealAt: Int32Array;
  edgeSrc: Int32Array;
  edgeTgt: Int32Array;
  edgeRevealAt: Int32Array;
  callsIn: Float64Array;
  callsOut: Float64Array;
  callableCount: number;
  appName: string;
  /** Rule violations of the last check (snapshot `violations`) on their edges; empty when unchecked. */
  viol: ViolationIndex;
}

/** A node is revealed at replay position `pos` (pos 0 = nothing; pos k = events 0..k-1 happened). */
export const isRevealed = (revealAt: number, pos: number): boolean => revealAt < pos;

export function buildGraphIndex(snap: Snapshot): GraphIndex {
  const base = augmentNodes(snap.nodes);
  // I/O boundaries (snapshot `boundaries`): boxes after every other node, their edges after the calls
  const raw = (snap as { boundaries?: unknown }).boundaries;
  const io = Array.isArray(raw) && raw.length ? boundaryNodes(raw, new Set(base.map((x) => x.id))) : { nodes: [], edges: [] };
  const nodes = io.nodes.length ? base.concat(io.nodes) : base;
  const edges = io.edges.length ? snap.edges.concat(io.edges) : snap.edges;
  const n = nodes.length;
  const last = Math.max(0, snap.steps.count - 1);
  const byId = new Map<string, number>();
  nodes.forEach((nd, i) => byId.set(nd.id, i));
  const parent = new Int32Array(n).fill(-1);
  const children: number[][] = nodes.map(() => []);
  const roots: number[] = [];
  const callable = new Uint8Array(n);
  let callableCount = 0;
  nodes.forEach((nd, i) => {
    const p = nd.parent == null ? undefined : byId.get(nd.parent);
    if (p !== undefined && p !== i) {
      parent[i] = p;
      children[p].push(i);
    } else roots.push(i);
    if (CALLABLE_KINDS.has(nd.kind)) {
      callable[i] = 1;
      callableCount++;
    }
  });
  // guard against parent cycles (malformed input): cut the link that closes each cycle. Each node is
  // walked once (0: not seen, 1: on the current walk, 2: leads to a root).
  const state = new Uint8Array(n);
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    path.length = 0;
    let v = i;
    while (v >= 0 && state[v] === 0) { state[v] = 1; path.push(v); v = parent[v]; }
    if (v >= 0 && state[v] === 1) { // back on this walk: a cycle through v; cut v's link
      const p = parent[v];
      children[p] = children[p].filter((c) => c !== v);
      parent[v] = -1;
      roots.push(v);
    }
    for (const w of path) state[w] = 2;
  }
  // parents before children (BFS from the roots)
  const order = depthOrder(parent, n);
  const moduleOf = new Int32Array(n).fill(-1);
  const depth = new Int32Array(n);
  for (const i of order) {
    const p = parent[i];
    if (p >= 0) depth[i] = depth[p] + 1;
    moduleOf[i] = nodes[i].kind === 'module' ? i : p >= 0 ? moduleOf[p] : -1;
  }
  // Never seen in the recorded steps but called (counted past the --max-events cap): on the map from
  // the last step on, so the end of the replay shows everything that ran.
  const clampSeen = (v: number | null | undefined, calls = 0) => (v == null ? (calls > 0 ? last : NEVER) : Math.min(v, last));
  const revealAt = new Int32Array(n);
  for (let i = 0; i < n; i++) revealAt[i] = clampSeen(nodes[i].first_seen, (nodes[i] as { call_count?: number }).call_count ?? 0);
  // propagate the minimum upward (children reveal their containers)
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k];
    const p = parent[i];
    if (p >= 0 && revealAt[i] < revealAt[p]) revealAt[p] = revealAt[i];
  }
  const m = edges.length;
  const edgeSrc = new Int32Array(m);
  const edgeTgt = new Int32Array(m);
  const edgeRevealAt = new Int32Array(m);
  const edgeById = new Map<string, number>();
  const callsIn = new Float64Array(n);
  const callsOut = new Float64Array(n);
  edges.forEach((e, j) => {
    edgeById.set(e.id, j);
    edgeSrc[j] = byId.get(e.source) ?? -1;
    edgeTgt[j] = byId.get(e.target) ?? -1;
    edgeRevealAt[j] = clampSeen(e.first_seen, e.count);
    // A call crosses the boundary of every container holding one end but not the other: it counts
    // as a call out of the source and its containers below the lowest one holding both ends, and
    // into the target and its containers below it.
    let a = edgeSrc[j], b = edgeTgt[j];
    if (a < 0 || b < 0) {
      for (; a >= 0; a = parent[a]) callsOut[a] += e.count;
      for (; b >= 0; b = parent[b]) callsIn[b] += e.count;
      return;
    }
    while (depth[a] > depth[b]) { callsOut[a] += e.count; a = parent[a]; }
    while (depth[b] > depth[a]) { callsIn[b] += e.count; b = parent[b]; }
    while (a !== b) {
      callsOut[a] += e.count; callsIn[b] += e.count;
      a = parent[a]; b = parent[b];
      if (a < 0 || b < 0) { for (; a >= 0; a = parent[a]) callsOut[a] += e.count; for (; b >= 0; b = parent[b]) callsIn[b] += e.count; break; }
    }
  });
  // method aggregates: out of the tree walks (their members are counted already), sums of their members
  const aggOf = new Map<number, number[]>();
  const aggFor = new Int32Array(n).fill(-1);
  for (let i = snap.nodes.length; i < n; i++) {
    const nd = nodes[i];
    if (nd.kind !== 'agg') continue;
    const gi = parent[i];
    if (gi >= 0) {
      children[gi] = children[gi].filter((c) => c !== i);
      const list = aggOf.get(gi);
      if (list) list.push(i); else aggOf.set(gi, [i]);
    }
    for (const mid of nd.members ?? []) {
      const m = byId.get(mid);
      if (m === undefined) continue;
      aggFor[m] = i;
      callsIn[i] += callsIn[m];
      callsOut[i] += callsOut[m];
      if (revealAt[m] < revealAt[i]) revealAt[i] = revealAt[m];
    }
  }
  return { nodes, realCount: snap.nodes.length, aggOf, aggFor, edges, byId, edgeById, parent, children, roots, callable, moduleOf, revealAt, edgeSrc, edgeTgt,
    edgeRevealAt, callsIn, callsOut, callableCount, appName: snap.run.app_name,
    viol: indexViolations({ edges, byId }, (snap as { violations?: unknown }).violations) };
}

/** Node indices ordered so that every parent precedes its children (BFS from the roots). */
export function depthOrder(parent: Int32Array, n: number): number[] {
  const kids: number[][] = Array.from({ length: n }, () => []);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (parent[i] >= 0) kids[parent[i]].push(i); else out.push(i);
  for (let k = 0; k < out.length; k++) for (const c of kids[out[k]]) out.push(c);
  return out;
}

/** Ancestors of a node, nearest first. */
export function ancestors(g: GraphIndex, i: number): number[] {
  const out: number[] = [];
  for (let p = g.parent[i]; p >= 0 && out.length < g.nodes.length; p = g.parent[p]) out.push(p);
  return out;
}

/** The actor (lifeline) of a callable: its instance, class or module; the scenario is its own actor. */
export function actorOf(g: GraphIndex, i: number): number {
  if (i < 0) return -1;
  if (!g.callable[i] || g.nodes[i].kind === 'scenario') return i;
  const p = g.parent[i];
  return p >= 0 ? p : i;
}

/** Sorted reveal orders for counting/searching: how many nodes are revealed at a position, in O(log n). */
export function sortedReveals(revealAt: Int32Array): Int32Array {
  return Int32Array.from(revealAt).sort();
}

export function countRevealed(sorted: Int32Array, pos: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < pos) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Where a node lives, to tell apart nodes with the same label: `Class#2 · pkg.mod` for a method on an
 * instance, `pkg.mod` for a function, the module for containers. */
export function ownerText(g: GraphIndex, i: number): string {
  const n = g.nodes[i];
  if (n.kind === 'scenario') return '';
  const p = g.parent[i];
  const owner = p >= 0 && (n.kind === 'method' || n.kind === 'agg') ? g.nodes[p].label : '';
  return owner ? `${owner} · ${n.module}` : n.module;
}
