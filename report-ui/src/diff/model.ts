// A diff report (skeleton diff --format html): the snapshot is run B's with run A's evidence appended and
// a `diff` block marking what changed (schema $defs/Diff). This indexes the marks by graph position and
// rolls them up for what the map draws (aggregated edges, method aggregates, closed boxes). Pure.
import type { Diff, DiffChange, DiffMark, Snapshot } from '../types/snapshot';
import type { GraphIndex } from '../model/graph';

export type DiffStatus = DiffMark['status'];

export interface DiffIndex {
  diff: Diff;
  /** Node index -> its mark (nodes and I/O boundaries). */
  node: Map<number, DiffMark>;
  /** Edge index (g.edges: calls, then boundary uses) -> its mark. */
  edge: Map<number, DiffMark>;
  /** How many marked nodes sit inside each node (its descendants). */
  inside: Int32Array;
  /** Edge index -> the rules it violated in A that B no longer violates (fixed; not in the snapshot's violations). */
  fixed: Map<number, string[]>;
  /** Edge index -> the rules it violates in B and did not in A (new). */
  newViolations: Map<number, string[]>;
}

const cache = new WeakMap<GraphIndex, DiffIndex | null>();

/** The diff marks of a diff report's snapshot; null for an ordinary report. */
export function diffIndexOf(snap: Snapshot, g: GraphIndex): DiffIndex | null {
  if (cache.has(g)) return cache.get(g) ?? null;
  const out = buildDiffIndex(snap, g);
  cache.set(g, out);
  return out;
}

export function buildDiffIndex(snap: Snapshot, g: GraphIndex): DiffIndex | null {
  const diff = snap.diff;
  if (!diff || typeof diff !== 'object' || !Array.isArray(diff.nodes) || !Array.isArray(diff.edges)) return null;
  const node = new Map<number, DiffMark>();
  const edge = new Map<number, DiffMark>();
  for (const m of diff.nodes) {
    const i = g.byId.get(m.id);
    if (i !== undefined) node.set(i, m);
  }
  for (const m of diff.edges) {
    const j = g.edgeById.get(m.id);
    if (j !== undefined) edge.set(j, m);
  }
  const inside = new Int32Array(g.nodes.length);
  for (const i of node.keys()) for (let p = g.parent[i], k = 0; p >= 0 && k < 256; p = g.parent[p], k++) inside[p]++;
  const pairs = new Map<string, number>();
  g.edges.forEach((e, j) => { const k = `${e.source}\u0000${e.target}`; if (!pairs.has(k)) pairs.set(k, j); });
  const fixed = new Map<number, string[]>(), newViolations = new Map<number, string[]>();
  for (const v of diff.violations ?? []) {
    const j = pairs.get(`${v.source}\u0000${v.target}`);
    if (j === undefined) continue;
    const into = v.status === 'removed' ? fixed : newViolations;
    const l = into.get(j);
    if (l) l.push(v.rule); else into.set(j, [v.rule]);
  }
  return { diff, node, edge, inside, fixed, newViolations };
}

/** One mark standing for several: all added -> added, all removed -> removed, all changed -> changed with a
 * and b summed; any other mix (unmarked members count as unchanged) -> changed with a and b null. Counts are
 * per key (a method on three objects: three marks with the same key and counts), so each key counts once. */
export function rollUp(marks: readonly (DiffMark | undefined)[], id = ''): DiffMark | null {
  const present = marks.filter((m): m is DiffMark => !!m);
  if (!present.length) return null;
  if (present.length === 1 && marks.length === 1) return present[0];
  const all = (s: DiffStatus) => present.length === marks.length && present.every((m) => m.status === s);
  const once = [...new Map(present.map((m) => [m.key ?? m.id, m])).values()];
  const sum = (k: 'a' | 'b') => once.reduce((t, m) => t + (m[k] ?? 0), 0);
  const key = once.length === 1 ? once[0].key : id;
  if (all('added')) return { id, status: 'added', a: null, b: sum('b'), key };
  if (all('removed')) return { id, status: 'removed', a: sum('a'), b: null, key };
  if (all('changed')) return { id, status: 'changed', a: sum('a'), b: sum('b'), key };
  return { id, status: 'changed', a: null, b: null, key };
}

/** The mark of a drawn edge (the members: edge indices folded into it). */
export function edgeMark(di: DiffIndex, members: readonly number[]): DiffMark | null {
  if (!di.edge.size) return null;
  return rollUp(members.map((j) => di.edge.get(j)));
}

/** The mark of a drawn node; a method aggregate (`agg`) stands for its members. */
export function nodeMark(di: DiffIndex, g: GraphIndex, i: number): DiffMark | null {
  const own = di.node.get(i);
  if (own) return own;
  const n = g.nodes[i];
  if (n?.kind === 'agg' && n.members?.length) {
    return rollUp(n.members.map((id) => { const m = g.byId.get(id); return m === undefined ? undefined : di.node.get(m); }), n.id);
  }
  return null;
}

/** Rules fixed on a drawn edge (any member). */
export function fixedRules(di: DiffIndex, members: readonly number[]): string[] {
  if (!di.fixed.size) return [];
  const out: string[] = [];
  for (const j of members) for (const r of di.fixed.get(j) ?? []) if (!out.includes(r)) out.push(r);
  return out;
}

/** What a mark says about calls: "12 → 40" (changed), "+12" (added), "−12" (removed); "changes" for a mix. */
export function countText(m: DiffMark): string {
  if (m.status === 'added') return m.b !== null ? `+${m.b}` : 'new';
  if (m.status === 'removed') return m.a !== null ? `−${m.a}` : 'gone';
  if (m.a === null || m.b === null) return 'changes';
  return `${m.a} → ${m.b}`;
}

export const STATUS_WORD: Record<DiffStatus, string> = { added: 'only in B (added)', removed: 'only in A (removed)', changed: 'changed' };

/** The node and the edges a row of the Changes panel points at (indices into g), or nulls. */
export function changeTarget(g: GraphIndex, c: DiffChange): { node: number | null; edges: number[] } {
  const edge = c.edge !== null ? g.edgeById.get(c.edge) : undefined;
  let node = c.node !== null ? g.byId.get(c.node) ?? null : null;
  if (edge !== undefined && node === null) node = g.edgeSrc[edge] >= 0 ? g.edgeSrc[edge] : null;
  return { node, edges: edge !== undefined ? [edge] : [] };
}

/** The Changes panel's groups: section title -> its rows, in the order of the text output. */
export function changeGroups(diff: Diff): { section: string; title: string; rows: DiffChange[] }[] {
  const out: { section: string; title: string; rows: DiffChange[] }[] = [];
  for (const c of diff.changes ?? []) {
    const last = out[out.length - 1];
    if (last && last.section === c.section) last.rows.push(c);
    else out.push({ section: c.section, title: c.title, rows: [c] });
  }
  return out;
}
