// Architecture rule violations (snapshot `violations`, written by skeleton check / run --check) matched
// to the graph's edges: call rules to the call edge source -> target, io rules to the boundary use
// actor -> boundary. Views mark an edge (or an aggregated edge, a matrix cell) when a member violates. Pure.
import type { Violation } from '../types/snapshot';

export interface ViolationHit {
  v: Violation;
  /** Index of the violating edge in g.edges; -1 when the snapshot has no such edge. */
  edge: number;
  source: number;
  target: number;
}

export interface ViolationIndex {
  list: ViolationHit[];
  /** Edge index -> the violations it carries. */
  byEdge: Map<number, Violation[]>;
}

interface EdgeEnds { edges: { source: string; target: string }[]; byId: Map<string, number> }

export function indexViolations(g: EdgeEnds, raw: unknown): ViolationIndex {
  const out: ViolationIndex = { list: [], byEdge: new Map() };
  if (!Array.isArray(raw) || !raw.length) return out;
  const pairs = new Map<string, number>();
  g.edges.forEach((e, j) => { const k = `${e.source}\u0000${e.target}`; if (!pairs.has(k)) pairs.set(k, j); });
  for (const v of raw as Violation[]) {
    if (!v || typeof v.source !== 'string' || typeof v.target !== 'string') continue;
    const edge = pairs.get(`${v.source}\u0000${v.target}`) ?? -1;
    out.list.push({ v, edge, source: g.byId.get(v.source) ?? -1, target: g.byId.get(v.target) ?? -1 });
    if (edge >= 0) {
      const l = out.byEdge.get(edge);
      if (l) l.push(v); else out.byEdge.set(edge, [v]);
    }
  }
  return out;
}

/** The violations carried by any of `members` (edge indices), in order, each once. */
export function violationsOf(byEdge: Map<number, Violation[]>, members: readonly number[]): Violation[] {
  if (!byEdge.size) return [];
  const out: Violation[] = [];
  for (const j of members) for (const v of byEdge.get(j) ?? []) if (!out.includes(v)) out.push(v);
  return out;
}

/** Violations where node `i` (or a node inside it) is the caller or the callee (the actor or the boundary
 * of an io rule). */
export function violationsWithin(g: { parent: Int32Array; viol: ViolationIndex }, i: number): Violation[] {
  const inside = (x: number) => { for (let k = 0; x >= 0 && k < 256; x = g.parent[x], k++) if (x === i) return true; return false; };
  return g.viol.list.filter((h) => inside(h.source) || inside(h.target)).map((h) => h.v);
}
