// The overview of a big run: packages opened while the boxes fit the budget (modules stay closed),
// edges aggregated to the visible boxes, layered callers before callees with back edges marked, and
// hubs (boxes that nearly every other box calls) set apart with their incoming edges left out. Pure.
import type { GraphIndex } from './graph';
import { aggregateEdges, autoCut, cutView, firstKids, leafBoxes, shownKids, type Cut, type VisibleEdges } from './lod';
import { layering } from './layers';
import { HEADER, type Boxes } from './layoutGraph';

export const OVERVIEW_BUDGET = 24;
/** When no package opens within the budget, the first one may take this many times the budget. */
export const LONE_PACKAGE_STRETCH = 1.5;

export interface Overview extends VisibleEdges {
  cut: Cut;
  /** Visible boxes: open packages (shells) and leaves, parents first. */
  boxes: number[];
  leaves: number[];
  rep: Int32Array;
  /** Layer of each box among its siblings (each open container is layered on its own). */
  layer: Map<number, number>;
  /** Children laid out in each open container (-1: the top level), hubs left out. */
  kidsOf: Map<number, number[]>;
  /** Boxes set apart (their edges left out); their value: how many other boxes call them. */
  hubs: Map<number, number>;
  /** I/O boundaries: a column on the right edge, outside the layers. */
  io: number[];
}

/** A box is a hub when at least this many of the other boxes call it. */
export function hubThreshold(leafCount: number): number {
  return Math.max(5, Math.ceil(0.4 * (leafCount - 1)));
}

export function overview(g: GraphIndex, budget = OVERVIEW_BUDGET): Overview {
  const isPackage = (i: number) => g.nodes[i].kind === 'package';
  // I/O boundaries sit in their own column: they take nothing from the box budget
  const scope = g.roots.filter((r) => g.nodes[r].kind !== 'boundary');
  let cut = autoCut(g, scope, budget, isPackage);
  let cv = cutView(g, cut, g.roots);
  let leaves = leafBoxes(g, cut, cv.boxes);
  if (![...cut.open].some(isPackage)) {
    // a library traced on its own is one package: open it a little over the budget rather than show
    // a single closed box (its modules still fit a screen at the overview's zoom)
    const wide = autoCut(g, scope, Math.round(budget * LONE_PACKAGE_STRETCH), isPackage);
    if ([...wide.open].some(isPackage)) {
      cut = wide;
      cv = cutView(g, cut, g.roots);
      leaves = leafBoxes(g, cut, cv.boxes);
    }
  }
  const all = aggregateEdges(g, cv.rep);
  const callers = new Map<number, Set<number>>();
  for (const e of all.edges) {
    if (e.source === e.target) continue;
    if (!callers.has(e.target)) callers.set(e.target, new Set());
    callers.get(e.target)!.add(e.source);
  }
  const hubs = new Map<number, number>();
  const th = hubThreshold(leaves.length);
  const isIo = (i: number) => g.nodes[i].kind === 'boundary';
  for (const [t, s] of callers) if (s.size >= th && g.nodes[t].kind !== 'scenario' && !isIo(t)) hubs.set(t, s.size);
  const ve = aggregateEdges(g, cv.rep, (rs, rt) => !hubs.has(rt) && !hubs.has(rs));
  // each open container is layered on its own: an edge counts between the children of the lowest
  // container holding both ends
  const shown = new Set(cv.boxes);
  const chain = (i: number) => {
    const out: number[] = [];
    for (let p = i; p >= 0; p = g.parent[p]) if (shown.has(p)) out.unshift(p);
    return out;
  };
  const kidsOf = new Map<number, number[]>(); // -1: the top level
  kidsOf.set(-1, g.roots.filter((r) => shown.has(r) && !hubs.has(r) && !isIo(r)));
  const io = g.roots.filter((r) => shown.has(r) && isIo(r));
  for (const b of cv.boxes) if (cut.open.has(b)) kidsOf.set(b, shownKids(g, b, cut).filter((k) => shown.has(k) && !hubs.has(k)));
  const succ = new Map<number, Map<number, number[]>>();
  const pairOf = new Map<number, [number, number, number]>(); // visible edge -> (container, from kid, to kid)
  ve.edges.forEach((e, k) => {
    if (e.source === e.target) return;
    const a = chain(e.source), b = chain(e.target);
    let d = 0;
    while (d < a.length && d < b.length && a[d] === b[d]) d++;
    if (d >= a.length || d >= b.length) return;
    const holder = d === 0 ? -1 : a[d - 1];
    if (!succ.has(holder)) succ.set(holder, new Map());
    const m = succ.get(holder)!;
    if (!m.has(a[d])) m.set(a[d], []);
    m.get(a[d])!.push(b[d]);
    pairOf.set(k, [holder, a[d], b[d]]);
  });
  const layer = new Map<number, number>();
  const backs = new Map<number, Set<string>>();
  for (const [holder, kids] of kidsOf) {
    const starts = kids.filter((i) => g.nodes[i].kind === 'scenario');
    const lay = layering(kids, succ.get(holder) ?? new Map(), starts);
    for (const [v, l] of lay.layer) layer.set(v, l);
    backs.set(holder, lay.back);
  }
  ve.edges.forEach((e, k) => {
    const p = pairOf.get(k);
    if (p && backs.get(p[0])?.has(`${p[1]},${p[2]}`)) e.back = true;
  });
  return { cut, boxes: cv.boxes, leaves, rep: cv.rep, layer, kidsOf, hubs, io, ...ve };
}

/** Where a big run opens when its overview would be one closed box next to the run (a program of one
 * module): focused on that box, its inside shown; null: on the overview. */
export function openingFocus(g: GraphIndex, ov: Overview = overview(g)): number | null {
  const rest = ov.leaves.filter((i) => g.nodes[i].kind !== 'scenario' && g.nodes[i].kind !== 'boundary');
  return rest.length === 1 && firstKids(g, rest[0]).length > 0 ? rest[0] : null;
}

export const OVERVIEW_LEAF_H = 74;

/** The title of a hub's box: drawn apart, outside its package's box, a module or package is named in full
 * (`markdown.util`, not `util` beside `pyparsing.util`). Other boxes: their label. */
export function hubLabel(g: GraphIndex, i: number): string {
  const n = g.nodes[i];
  return (n.kind === 'module' || n.kind === 'package') && n.qualified_name ? n.qualified_name : n.label;
}

/** Size of a closed box on the overview (big labels: the overview is read from afar). A hub's box is wide
 * enough for its full name and its line "N callables · N calls · called from N". */
export function overviewLeafSize(g: GraphIndex, i: number, hub = false): { width: number; height: number } {
  const n = g.nodes[i];
  if (n.kind === 'scenario') return { width: Math.round(Math.min(320, Math.max(150, g.appName.length * 11 + 70))), height: 56 };
  if (hub) return { width: Math.round(Math.min(440, Math.max(330, [...hubLabel(g, i)].length * 11.5 + 60))), height: OVERVIEW_LEAF_H };
  return { width: Math.round(Math.min(380, Math.max(210, [...n.label].length * 11.5 + 60))), height: OVERVIEW_LEAF_H };
}

const GAP_Y = 22, GAP_X = 64, PAD = 18, TOP_PAD = HEADER + 12, MAX_COL_H = 620;

/**
 * Places the overview: in each container, its children in columns by layer (callers left), a column
 * ordered by where its callers sit and wrapped when taller than a screen; containers sized to fit.
 * Hubs go in rows above everything. Boxes are relative to their parent box.
 */
export function overviewLayout(g: GraphIndex, ov: Overview, aspect = 1.6): Boxes {
  // denser containers (fewer, taller columns) until the whole is about as wide as the screen
  let best: Boxes = {};
  for (const density of [1.5, 3, 6, 12, 24]) {
    const { boxes, width, height } = layoutOnce(g, ov, density);
    best = boxes;
    if (width <= aspect * 1.15 * height) break;
  }
  return best;
}

function layoutOnce(g: GraphIndex, ov: Overview, density: number): { boxes: Boxes; width: number; height: number } {
  const boxes: Boxes = {};
  const place = (holder: number): { width: number; height: number } => {
    const kids = ov.kidsOf.get(holder) ?? [];
    const size = new Map<number, { width: number; height: number }>();
    for (const k of kids) size.set(k, ov.kidsOf.has(k) && (ov.kidsOf.get(k) ?? []).length ? place(k) : overviewLeafSize(g, k));
    const byLayer = new Map<number, number[]>();
    for (const k of kids) {
      const l = ov.layer.get(k) ?? 0;
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l)!.push(k);
    }
    // barycentre of each box's callers among the boxes placed so far (their row index)
    const rowOf = new Map<number, number>();
    const preds = new Map<number, number[]>();
    for (const e of ov.edges) {
      if (e.back || e.source === e.target) continue;
      const a = kidAncestor(g, e.source, kids), b = kidAncestor(g, e.target, kids);
      if (a < 0 || b < 0 || a === b) continue;
      if (!preds.has(b)) preds.set(b, []);
      preds.get(b)!.push(a);
    }
    const baryKey = (v: number) => {
      const ps = (preds.get(v) ?? []).filter((p) => rowOf.has(p));
      return ps.length ? ps.reduce((t, p) => t + rowOf.get(p)!, 0) / ps.length : 1e9;
    };
    const cols: number[][] = [];
    // inside a container, consecutive layers share a column when there are many (a compact box,
    // still read left to right, top to bottom); the top level keeps one column per layer
    const layers = [...byLayer.keys()].sort((a, b) => a - b);
    const maxCols = holder < 0 && density < 6 ? layers.length : Math.max(1, Math.ceil(Math.sqrt(kids.length / density)));
    const groups: number[][] = [];
    const per = kids.length / maxCols;
    let acc: number[] = [], n = 0;
    for (const l of layers) {
      if (acc.length && groups.length < maxCols - 1 && n + byLayer.get(l)!.length / 2 > per * (groups.length + 1)) { groups.push(acc); acc = []; }
      acc.push(l);
      n += byLayer.get(l)!.length;
    }
    if (acc.length) groups.push(acc);
    for (const group of groups) {
      const list: number[] = [];
      for (const l of group) {
        const part = byLayer.get(l)!;
        part.sort((a, b) => baryKey(a) - baryKey(b) || g.nodes[a].label.localeCompare(g.nodes[b].label) || a - b);
        part.forEach((v, r) => rowOf.set(v, list.length + r));
        list.push(...part);
      }
      let cur: number[] = [], h = 0;
      for (const v of list) {
        const vh = size.get(v)!.height;
        if (cur.length && h + vh > MAX_COL_H) { cols.push(cur); cur = []; h = 0; }
        cur.push(v); h += vh + GAP_Y;
      }
      if (cur.length) cols.push(cur);
    }
    const top = holder < 0 ? 0 : TOP_PAD, left = holder < 0 ? 0 : PAD;
    const heights = cols.map((c) => c.reduce((t, v) => t + size.get(v)!.height + GAP_Y, -GAP_Y));
    const H = Math.max(0, ...heights);
    let x = left;
    cols.forEach((c, ci) => {
      const w = Math.max(...c.map((v) => size.get(v)!.width));
      let y = top + (H - heights[ci]) / 2;
      for (const v of c) {
        const s = size.get(v)!;
        boxes[g.nodes[v].id] = { x: x + (w - s.width) / 2, y, ...s };
        y += s.height + GAP_Y;
      }
      x += w + GAP_X;
    });
    const minW = holder < 0 ? 0 : Math.round(160 + [...g.nodes[holder].label].length * 9);
    return { width: Math.max(minW, x - GAP_X + left), height: top + H + (holder < 0 ? 0 : PAD) };
  };
  const top = place(-1);
  // I/O boundaries: a column right of everything (the outside world), in the order their callers sit
  // wrapped into more columns when taller than the layers (or a screen)
  let ioY = 0, ioX = top.width + GAP_X * 2, ioH = 0;
  const ioMax = Math.max(top.height, MAX_COL_H);
  const ioColW = ov.io.length ? Math.max(...ov.io.map((b) => overviewLeafSize(g, b).width)) : 0;
  const ioKey = (b: number) => {
    const ys = ov.edges.filter((e) => e.target === b && boxes[g.nodes[e.source].id]).map((e) => absY(g, boxes, e.source));
    return ys.length ? ys.reduce((a, c) => a + c, 0) / ys.length : 1e9;
  };
  for (const b of [...ov.io].sort((a, c) => ioKey(a) - ioKey(c) || a - c)) {
    const s = overviewLeafSize(g, b);
    if (ioY > 0 && ioY + s.height > ioMax) { ioY = 0; ioX += ioColW + GAP_Y; }
    boxes[g.nodes[b].id] = { x: ioX, y: ioY, ...s };
    ioY += s.height + GAP_Y;
    ioH = Math.max(ioH, ioY - GAP_Y);
  }
  const ioW = ov.io.length ? ioX + ioColW - top.width : 0;
  // hubs in rows above everything else
  const hubs = [...ov.hubs].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const rowW = Math.max(top.width, 900);
  const rows: number[][] = [];
  let x = 0;
  for (const [hub] of hubs) {
    const w = overviewLeafSize(g, hub, true).width;
    if (!rows.length || (x > 0 && x + w > rowW)) { rows.push([]); x = 0; }
    rows[rows.length - 1].push(hub);
    x += w + 36;
  }
  let y = -90 - rows.length * (OVERVIEW_LEAF_H + 24) + 24;
  for (const row of rows) {
    x = 0;
    for (const hub of row) {
      const s = overviewLeafSize(g, hub, true);
      boxes[g.nodes[hub].id] = { x, y, ...s };
      x += s.width + 36;
    }
    y += OVERVIEW_LEAF_H + 24;
  }
  return { boxes, width: top.width + ioW, height: Math.max(top.height, ioH) + (rows.length ? 90 + rows.length * (OVERVIEW_LEAF_H + 24) : 0) };
}

/** Top of a placed box in the overview's coordinates (boxes are relative to their parent box). */
function absY(g: GraphIndex, boxes: Boxes, i: number): number {
  let y = 0;
  for (let p = i, hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) { const b = boxes[g.nodes[p].id]; if (b) y += b.y; }
  return y;
}

/** The member of `kids` that is `i` or contains it, else -1. */
function kidAncestor(g: GraphIndex, i: number, kids: number[]): number {
  for (let p = i, hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) if (kids.includes(p)) return p;
  return -1;
}
