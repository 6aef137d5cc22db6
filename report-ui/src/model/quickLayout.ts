// Instant top-level layout for big graphs (packages and collapsed modules), computed on the main
// thread in milliseconds so the map never waits for ELK. Columns follow call distance from the
// scenario; containers pack their children in a grid. Deterministic. Pure.
import type { GraphIndex } from './graph';
import { HEADER, leafSize, representatives, type Boxes } from './layoutGraph';

const GAP = 18, PADX = 14, PADB = 14, COL_GAP = 90;

type Size = { width: number; height: number };

export function quickLevelLayout(g: GraphIndex, moduleSizes: Map<number, Size>): Boxes {
  const boxes: Boxes = {};
  const order = (ids: number[]) => [...ids].sort((a, b) => g.revealAt[a] - g.revealAt[b] || a - b);
  // size a subtree (modules are leaves), placing children relative to their parent
  const place = (i: number): Size => {
    const n = g.nodes[i];
    if (n.kind === 'module' || !g.children[i].length || g.callable[i]) {
      return moduleSizes.get(i) ?? leafSize(g, i, n.kind === 'module' && g.children[i].length > 0);
    }
    const kids = order(g.children[i]);
    const sizes = kids.map(place);
    const cols = Math.max(1, Math.ceil(Math.sqrt(kids.length / 2)));
    const rows = Math.ceil(kids.length / cols);
    const colW = new Array(cols).fill(0), rowH = new Array(rows).fill(0);
    kids.forEach((_, k) => {
      colW[k % cols] = Math.max(colW[k % cols], sizes[k].width);
      rowH[Math.floor(k / cols)] = Math.max(rowH[Math.floor(k / cols)], sizes[k].height);
    });
    const xs = colW.map((_, c) => PADX + colW.slice(0, c).reduce((a, b) => a + b + GAP, 0));
    const ys = rowH.map((_, r) => HEADER + rowH.slice(0, r).reduce((a, b) => a + b + GAP, 0));
    kids.forEach((k, idx) => {
      boxes[g.nodes[k].id] = { x: xs[idx % cols], y: ys[Math.floor(idx / cols)], ...sizes[idx] };
    });
    const minW = 150 + [...n.label].length * 7.6;
    return {
      width: Math.max(minW, xs[cols - 1] + colW[cols - 1] + PADX),
      height: ys[rows - 1] + rowH[rows - 1] + PADB,
    };
  };
  const roots = order(g.roots);
  const rootSize = new Map(roots.map((r) => [r, place(r)]));
  // column of each root: call distance from the scenario over root-level edges (BFS)
  const rootOf = new Int32Array(g.nodes.length);
  for (let i = 0; i < rootOf.length; i++) {
    let p = i;
    for (let hops = 0; g.parent[p] >= 0 && hops < 64; hops++) p = g.parent[p];
    rootOf[i] = p;
  }
  const rep = representatives(g, new Set());
  const adj = new Map<number, Set<number>>();
  for (let j = 0; j < g.edges.length; j++) {
    const s = g.edgeSrc[j], t = g.edgeTgt[j];
    if (s < 0 || t < 0) continue;
    const a = rootOf[rep[s]], b = rootOf[rep[t]];
    if (a === b) continue;
    if (!adj.has(a)) adj.set(a, new Set());
    adj.get(a)!.add(b);
  }
  const layer = new Map<number, number>();
  const start = roots.filter((r) => g.nodes[r].kind === 'scenario');
  const queue = [...start];
  start.forEach((r) => layer.set(r, 0));
  for (let k = 0; k < queue.length; k++) {
    const a = queue[k];
    for (const b of adj.get(a) ?? []) if (!layer.has(b)) { layer.set(b, layer.get(a)! + 1); queue.push(b); }
  }
  const cols = new Map<number, number[]>();
  for (const r of roots) {
    const l = layer.get(r) ?? (start.length ? 1 : 0);
    if (!cols.has(l)) cols.set(l, []);
    cols.get(l)!.push(r);
  }
  // split very tall columns so the overview keeps a readable aspect ratio
  const colKeys = [...cols.keys()].sort((a, b) => a - b);
  const columns: number[][] = [];
  const totalH = roots.reduce((a, r) => a + rootSize.get(r)!.height + GAP, 0);
  const maxH = Math.max(900, Math.sqrt(totalH * 1400));
  for (const key of colKeys) {
    let cur: number[] = [], h = 0;
    for (const r of cols.get(key)!) {
      const rh = rootSize.get(r)!.height;
      if (cur.length && h + rh > maxH) { columns.push(cur); cur = []; h = 0; }
      cur.push(r); h += rh + GAP;
    }
    if (cur.length) columns.push(cur);
  }
  let x = 20;
  for (const col of columns) {
    const w = Math.max(...col.map((r) => rootSize.get(r)!.width));
    const h = col.reduce((a, r) => a + rootSize.get(r)!.height + GAP, -GAP);
    let y = 20 + Math.max(0, (maxH - h) / 2);
    for (const r of col) {
      const s = rootSize.get(r)!;
      boxes[g.nodes[r].id] = { x: x + (w - s.width) / 2, y, ...s };
      y += s.height + GAP;
    }
    x += w + COL_GAP;
  }
  return boxes;
}
