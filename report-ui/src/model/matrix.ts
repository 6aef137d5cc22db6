// Dependency structure matrix: modules (and optionally instance groups) × the same, ordered by layer
// (callers first), cells = observed calls from the row to the column. Calls against the layering
// (back edges) fall below the diagonal; cells inside a cycle (one strongly connected component) are
// marked. I/O: one boundary column per I/O kind (file, network, subprocess, database...) after the module
// columns; a cell holds the row's uses of that kind of I/O (actor -> boundary edges), and its io rule
// violations. Pure.
import type { GraphIndex } from './graph';
import { layering } from './layers';
import { violationsOf } from './violations';

export interface MatrixCell {
  count: number; members: number[]; back: boolean; cycle: boolean;
  /** Rule violations carried by the cell's calls (snapshot `violations`). */
  violations: number;
}

export interface IoCell { count: number; members: number[]; violations: number }

export interface Matrix {
  /** Units in order (node indices). */
  rows: number[];
  /** Row index of a unit node. */
  index: Map<number, number>;
  layer: number[];
  /** Cells by row * rows.length + column. */
  cells: Map<number, MatrixCell>;
  maxCount: number;
  /** Cells with a rule violation. */
  violating: number;
  /** Rows inside a cycle (component of two or more units). */
  cyclic: Uint8Array;
  /** I/O kinds, one column each right of the module columns, sorted. */
  ioKinds: string[];
  /** I/O cells by row * ioKinds.length + kind index. */
  ioCells: Map<number, IoCell>;
  ioMax: number;
}

export function buildMatrix(g: GraphIndex, withGroups = false): Matrix {
  const n = g.nodes.length;
  const isUnit = (i: number) => g.nodes[i].kind === 'module' || (withGroups && g.nodes[i].kind === 'group');
  // unit of each node: the nearest unit at or above it
  const unit = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    for (let p = i, hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) if (isUnit(p)) { unit[i] = p; break; }
  }
  const units: number[] = [];
  for (let i = 0; i < n; i++) if (isUnit(i) && g.revealAt[i] !== 0x7fffffff) units.push(i);
  const pair = new Map<string, { s: number; t: number; count: number; members: number[] }>();
  const starts = new Set<number>();
  const io: { s: number; kind: string; j: number }[] = [];
  for (let j = 0; j < g.edges.length; j++) {
    const s = g.edgeSrc[j], t = g.edgeTgt[j];
    if (s < 0 || t < 0) continue;
    const us = unit[s], ut = unit[t];
    if (g.nodes[t].kind === 'boundary') { // actor -> I/O boundary: a use of that kind of I/O by the actor's unit
      if (us >= 0) io.push({ s: us, kind: g.nodes[t].io?.kind ?? 'io', j });
      continue;
    }
    if (ut < 0) continue;
    if (us < 0) { starts.add(ut); continue; }
    if (us === ut) continue;
    const k = `${us},${ut}`;
    let p = pair.get(k);
    if (!p) { p = { s: us, t: ut, count: 0, members: [] }; pair.set(k, p); }
    p.count += g.edges[j].count;
    p.members.push(j);
  }
  const succ = new Map<number, number[]>();
  for (const p of pair.values()) {
    if (!succ.has(p.s)) succ.set(p.s, []);
    succ.get(p.s)!.push(p.t);
  }
  const lay = layering(units, succ, [...starts].sort((a, b) => a - b));
  const rows = [...units].sort((a, b) => lay.layer.get(a)! - lay.layer.get(b)! || g.nodes[a].qualified_name.localeCompare(g.nodes[b].qualified_name) || a - b);
  const index = new Map(rows.map((u, k) => [u, k]));
  const size = new Map<number, number>();
  for (const c of lay.scc.values()) size.set(c, (size.get(c) ?? 0) + 1);
  const cyclic = new Uint8Array(rows.length);
  rows.forEach((u, k) => { if ((size.get(lay.scc.get(u)!) ?? 0) > 1) cyclic[k] = 1; });
  const cells = new Map<number, MatrixCell>();
  let maxCount = 0;
  for (const p of pair.values()) {
    const r = index.get(p.s), c = index.get(p.t);
    if (r === undefined || c === undefined) continue;
    const cycle = lay.scc.get(p.s) === lay.scc.get(p.t);
    cells.set(r * rows.length + c, { count: p.count, members: p.members, back: c < r, cycle,
      violations: violationsOf(g.viol.byEdge, p.members).length });
    if (p.count > maxCount) maxCount = p.count;
  }
  const ioKinds = [...new Set(io.map((x) => x.kind))].sort();
  const ioCells = new Map<number, IoCell>();
  let ioMax = 0;
  for (const { s, kind, j } of io) {
    const r = index.get(s);
    if (r === undefined) continue;
    const key = r * ioKinds.length + ioKinds.indexOf(kind);
    let c = ioCells.get(key);
    if (!c) { c = { count: 0, members: [], violations: 0 }; ioCells.set(key, c); }
    c.count += g.edges[j].count;
    c.members.push(j);
  }
  for (const c of ioCells.values()) {
    c.violations = violationsOf(g.viol.byEdge, c.members).length;
    if (c.count > ioMax) ioMax = c.count;
  }
  let violating = 0;
  for (const c of cells.values()) if (c.violations) violating++;
  for (const c of ioCells.values()) if (c.violations) violating++;
  return { rows, index, layer: rows.map((u) => lay.layer.get(u)!), cells, maxCount, violating, cyclic, ioKinds, ioCells, ioMax };
}
