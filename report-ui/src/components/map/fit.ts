// Fitting the map without ever going below a readable zoom: when the layout does not fit at the
// floor, keep the anchor node in view at the floor and let the user pan.
import type { ReactFlowInstance } from '@xyflow/react';
import type { MapNode } from './useMapLayout';

/** Screen margins kept free: breadcrumbs on top, the legend at the bottom; GAP around the minimap. */
const TOP = 56, SIDE = 16, GAP = 8;

export function fitWithFloor(rf: ReactFlowInstance<MapNode>, floor: number, anchor: string | null, mode: 'overview' | 'focus' | 'all',
  max = 1.15): void {
  const el = document.querySelector('[data-testid=view-map] .react-flow') as HTMLElement | null;
  const nodes = rf.getNodes();
  if (!el || !nodes.length) return;
  const W = el.clientWidth, H = el.clientHeight;
  // keep the fitted graph above the legend (taller with the test entries of a pytest run)
  const legend = document.querySelector('[data-testid=map-legend]')?.getBoundingClientRect().height ?? 0;
  const BOTTOM = Math.max(72, legend + 28);
  const b = rf.getNodesBounds(nodes);
  const a = anchor ? rf.getInternalNode(anchor) : undefined;
  const ap = a ? a.internals.positionAbsolute : null;
  const aw = a?.measured.width ?? a?.width ?? 0, ah = a?.measured.height ?? a?.height ?? 0;
  // the viewport that fits the layout between TOP, SIDE and the margins `right` and `bottom`
  const place = (right: number, bottom: number) => {
    const uw = Math.max(100, W - SIDE - right), uh = Math.max(100, H - TOP - bottom);
    const fitZ = Math.min(uw / Math.max(1, b.width), uh / Math.max(1, b.height));
    const z = Math.max(floor, Math.min(max, fitZ));
    let cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    if (b.width * z > uw) {
      if (mode !== 'focus' || !ap) cx = b.x + uw / 2 / z; // callers first: start from the left
      else cx = ap.x + aw / 2;
    }
    if (b.height * z > uh) {
      if (mode === 'overview') cy = b.y + uh / 2 / z; // from the top: hubs, then the layers
      else if (ap) cy = ah * z > uh ? ap.y + uh / 2 / z : ap.y + ah / 2;
      else cy = b.y + uh / 2 / z;
    }
    // never scroll past the layout's edges (no empty band when the anchor is near one)
    if (b.width * z > uw) cx = Math.min(Math.max(cx, b.x + uw / 2 / z), b.x + b.width - uw / 2 / z);
    if (b.height * z > uh) cy = Math.min(Math.max(cy, b.y + uh / 2 / z), b.y + b.height - uh / 2 / z);
    return { x: SIDE + uw / 2 - cx * z, y: TOP + uh / 2 - cy * z, zoom: z };
  };
  let vp = place(SIDE, BOTTOM);
  // the minimap covers the bottom-right corner, above the legend's band: when it would hide a box, fit the
  // layout above it or left of it instead (the larger zoom; above on a tie), if that keeps every box clear
  const mm = el.querySelector('.react-flow__minimap')?.getBoundingClientRect();
  if (mm && mm.width) {
    const pane = el.getBoundingClientRect();
    const mx = mm.left - pane.left - GAP, my = mm.top - pane.top - GAP, mr = mm.right - pane.left, mb = mm.bottom - pane.top;
    const tops = nodes.filter((n) => !n.parentId).map((n) => rf.getInternalNode(n.id)).filter((n) => n !== undefined);
    const hidden = (v: typeof vp) => tops.some((n) => {
      const p = n.internals.positionAbsolute, w = n.measured.width ?? n.width ?? 0, h = n.measured.height ?? n.height ?? 0;
      const x = p.x * v.zoom + v.x, y = p.y * v.zoom + v.y;
      return x < mr && x + w * v.zoom > mx && y < mb && y + h * v.zoom > my;
    });
    if (hidden(vp)) {
      const clear = [place(SIDE, Math.max(BOTTOM, H - my)), place(Math.max(SIDE, W - mx), BOTTOM)].filter((v) => !hidden(v));
      if (clear.length) vp = clear.reduce((p, q) => (q.zoom > p.zoom ? q : p));
    }
  }
  void rf.setViewport(vp, { duration: 0 });
}
