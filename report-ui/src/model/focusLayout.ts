// Places a focus view: the centre (a box, or a shell packing its inside in a grid) between columns of
// callers and callees, each column ordered by where its partners sit. Instant, deterministic. Pure.
import type { GraphIndex } from './graph';
import { HEADER, leafSize, type Boxes } from './layoutGraph';
import { shownKids } from './lod';
import { layering } from './layers';
import type { FocusView } from './focus';

const GAP = 16, PADX = 14, PADB = 14, COL_GAP = 120, IO_GAP = 44; // IO_GAP: before the I/O boundaries' column

type Size = { width: number; height: number };

/** Size of a closed box (callables, aggregates and closed containers). */
export function closedSize(g: GraphIndex, i: number): Size {
  const n = g.nodes[i];
  if (g.callable[i] || n.kind === 'agg') return leafSize(g, i);
  if (n.kind === 'scenario') return leafSize(g, i);
  return leafSize(g, i, true);
}

/** Label of a neighbour callable: with its owner (instance, group class or module), since many
 * callables share a name (`run`, `visit`). */
export function sideLabel(g: GraphIndex, i: number): string {
  const n = g.nodes[i];
  if (!(g.callable[i] || n.kind === 'agg') || n.kind === 'scenario') return n.label;
  const p = g.parent[i];
  if (p < 0) return n.label;
  const owner = n.kind === 'agg' ? (n.class_name ?? '').split('.').pop() : g.nodes[p].label;
  return `${owner}.${n.label}`;
}

function sideSize(g: GraphIndex, i: number): Size {
  const s = closedSize(g, i);
  const extra = [...sideLabel(g, i)].length - [...g.nodes[i].label].length;
  return extra > 0 ? { width: Math.round(Math.min(420, s.width + extra * 7.4)), height: s.height } : s;
}

/** `kids` in layer order (callers before callees, by the view's edges between them); ties keep their order. */
export function layered(g: GraphIndex, fv: FocusView, kids: number[]): number[] {
  return layers(g, fv, kids).flat();
}

/** `kids` by layer (callers before callees, by the view's edges between them): one list per layer. */
export function layers(g: GraphIndex, fv: FocusView, kids: number[]): number[][] {
  if (kids.length < 2) return [kids];
  const set = new Set(kids);
  const kidOf = (x: number) => {
    for (let p = x, hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) if (set.has(p)) return p;
    return -1;
  };
  const succ = new Map<number, number[]>();
  for (const e of fv.edges) {
    const a = kidOf(e.source), b = kidOf(e.target);
    if (a < 0 || b < 0 || a === b) continue;
    const list = succ.get(a);
    if (list) list.push(b); else succ.set(a, [b]);
  }
  if (!succ.size) return [kids];
  const lay = layering(kids, succ).layer;
  const out: number[][] = [];
  for (const k of kids) (out[lay.get(k) ?? 0] ??= []).push(k);
  return out.filter((l) => l?.length);
}

export interface FocusPlacement {
  /** Boxes by node id, relative to their parent box (`parent`) or to the view. */
  boxes: Boxes;
  /** Visible parent box of a nested box. */
  parent: Map<number, number>;
  /** "+N more" notes under the columns: column index (negative: callers) -> position. */
  notes: { col: number; more: number; x: number; y: number }[];
}

export function focusLayout(g: GraphIndex, fv: FocusView): FocusPlacement {
  const boxes: Boxes = {};
  const parent = new Map<number, number>();
  const shown = new Set(fv.inner);
  const abs = new Map<number, { x: number; y: number; w: number; h: number }>();
  const place = (i: number): Size => {
    const byLayer = layers(g, fv, fv.cut.open.has(i) ? shownKids(g, i, fv.cut).filter((k) => shown.has(k)) : []);
    const kids = byLayer.flat();
    if (!kids.length) return closedSize(g, i);
    const sizes = kids.map(place);
    // callers left of their callees: a column per layer when there are few, else a grid filled
    // column by column in layer order
    const grid = Math.max(1, Math.min(4, Math.ceil(Math.sqrt(kids.length / 2.5))));
    const perLayer = byLayer.length > 1 && byLayer.length <= 4 && Math.max(...byLayer.map((l) => l.length)) <= 8;
    const cols = perLayer ? byLayer.length : grid;
    const rows = perLayer ? Math.max(...byLayer.map((l) => l.length)) : Math.ceil(kids.length / cols);
    const cell: [number, number][] = perLayer ? byLayer.flatMap((l, c) => l.map((_, r): [number, number] => [c, r]))
      : kids.map((_, k): [number, number] => [Math.floor(k / rows), k % rows]);
    const colOf = (k: number) => cell[k][0], rowOf = (k: number) => cell[k][1];
    const colW = new Array(cols).fill(0), rowH = new Array(rows).fill(0);
    kids.forEach((_, k) => {
      colW[colOf(k)] = Math.max(colW[colOf(k)], sizes[k].width);
      rowH[rowOf(k)] = Math.max(rowH[rowOf(k)], sizes[k].height);
    });
    const gap = perLayer ? GAP * 4 : GAP; // room for the edges between layers
    const xs = colW.map((_, c) => PADX + colW.slice(0, c).reduce((a, b) => a + b + gap * (b ? 1 : 0), 0));
    const ys = rowH.map((_, r) => HEADER + rowH.slice(0, r).reduce((a, b) => a + b + GAP, 0));
    const used = colW.filter((w) => w > 0).length;
    kids.forEach((k, idx) => {
      boxes[g.nodes[k].id] = { x: xs[colOf(idx)], y: ys[rowOf(idx)], ...sizes[idx] };
      parent.set(k, i);
    });
    const last = Math.max(0, used - 1);
    const minW = 170 + [...g.nodes[i].label].length * 7.6;
    return { width: Math.max(minW, xs[last] + colW[last] + PADX), height: ys[rows - 1] + rowH[rows - 1] + PADB };
  };
  const cs = place(fv.center);
  // I/O boundaries (the outside world) in a column of their own, right of every callee column
  const isIo = (b: number) => g.nodes[b].kind === 'boundary';
  const io = fv.callees.flat().filter(isIo);
  const colsL = fv.callers, colsR = fv.callees.map((col) => col.filter((b) => !isIo(b)));
  const widthOf = (col: number[]) => Math.max(0, ...col.map((b) => sideSize(g, b).width));
  let x = 0;
  const xL: number[] = [];
  for (let k = colsL.length - 1; k >= 0; k--) { xL[k] = x; x += widthOf(colsL[k]) + COL_GAP; }
  const cx = x;
  boxes[g.nodes[fv.center].id] = { x: cx, y: 0, ...cs };
  // absolute centres of the centre's boxes, for ordering the columns
  const absOf = (i: number): { x: number; y: number } => {
    const b = boxes[g.nodes[i].id];
    const p = parent.get(i);
    const o = p !== undefined ? absOf(p) : { x: 0, y: 0 };
    return { x: o.x + b.x, y: o.y + b.y };
  };
  for (const i of fv.inner) { const a = absOf(i); const b = boxes[g.nodes[i].id]; abs.set(i, { x: a.x, y: a.y, w: b.width, h: b.height }); }
  const midY = cs.height / 2;
  const notes: FocusPlacement['notes'] = [];
  const placeCol = (col: number[], colX: number, k: number, colW: number) => {
    // barycentre of the partners already placed, then the heavier first
    const key = new Map<number, number>();
    for (const b of col) {
      let s = 0, c = 0;
      for (const e of fv.edges) {
        const other = e.source === b ? e.target : e.target === b ? e.source : -1;
        const a = other >= 0 ? abs.get(other) : undefined;
        if (a) { s += (a.y + a.h / 2) * e.count; c += e.count; }
      }
      key.set(b, c ? s / c : midY);
    }
    const order = [...col].sort((a, b) => key.get(a)! - key.get(b)! || a - b);
    const sizes = order.map((b) => sideSize(g, b));
    const total = sizes.reduce((t, s) => t + s.height + GAP, -GAP);
    let y = midY - total / 2;
    order.forEach((b, n) => {
      const s = sizes[n];
      const bx = k < 0 ? colX + colW - s.width : colX;
      boxes[g.nodes[b].id] = { x: bx, y, ...s };
      abs.set(b, { x: bx, y, w: s.width, h: s.height });
      y += s.height + GAP;
    });
    return y;
  };
  colsL.forEach((col, k) => {
    const y = placeCol(col, xL[k], -(k + 1), widthOf(col));
    if (fv.callersMore[k]) notes.push({ col: -(k + 1), more: fv.callersMore[k], x: xL[k], y: y + 4 });
  });
  x = cx + cs.width + COL_GAP;
  colsR.forEach((col, k) => {
    if (!col.length && !fv.calleesMore[k]) return; // a column of boundaries only
    const y = placeCol(col, x, k + 1, widthOf(col));
    if (fv.calleesMore[k]) notes.push({ col: k + 1, more: fv.calleesMore[k], x, y: y + 4 });
    x += Math.max(widthOf(col), fv.calleesMore[k] ? 200 : 0) + COL_GAP;
  });
  if (io.length) placeCol(io, x - COL_GAP + IO_GAP, colsR.length + 1, widthOf(io));
  return { boxes, parent, notes };
}
