// Fitting the map without ever going below a readable zoom: when the layout does not fit at the
// floor, show its start at the floor (a focus view: whole columns, callers first) and let the user pan.
import type { ReactFlowInstance } from '@xyflow/react';
import type { MapNode } from './useMapLayout';
import { columnsOf, wholeColumnsView } from '../../model/fitColumns';

/** Screen margins kept free: breadcrumbs on top, the legend at the bottom; GAP around the minimap. */
const TOP = 56, SIDE = 16, GAP = 8;

export function fitWithFloor(rf: ReactFlowInstance<MapNode>, floor: number, anchor: string | null, mode: 'overview' | 'focus' | 'all',
  max = 1.15): void {
  const el = document.querySelector('[data-testid=view-map] .react-flow') as HTMLElement | null;
  const nodes = rf.getNodes();
  if (!el || !nodes.length) return;
  const W = el.clientWidth, H = el.clientHeight;
  // keep the fitted graph above the legend (taller with the test entries of a pytest run); a compact legend
  // is a strip below the map, not over it
  const lg = document.querySelector('[data-testid=map-legend]');
  const legend = lg && lg.getAttribute('data-compact') !== 'true' ? lg.getBoundingClientRect().height : 0;
  const BOTTOM = Math.max(72, legend + 28);
  const b = rf.getNodesBounds(nodes);
  const a = anchor ? rf.getInternalNode(anchor) : undefined;
  const ap = a ? a.internals.positionAbsolute : null;
  const aw = a?.measured.width ?? a?.width ?? 0, ah = a?.measured.height ?? a?.height ?? 0;
  const tops = nodes.filter((n) => !n.parentId).map((n) => rf.getInternalNode(n.id)).filter((n) => n !== undefined);
  // a focus view's columns (callers' columns, the node in focus, callees' columns, the I/O boundaries)
  const cols = mode === 'focus' ? columnsOf(tops.map((n) => {
    const x = n.internals.positionAbsolute.x;
    return { left: x, right: x + (n.measured.width ?? n.width ?? 0) };
  })) : [];
  // the viewport that fits the layout between TOP, SIDE and the margins `right` and `bottom`
  const place = (right: number, bottom: number) => {
    const uw = Math.max(100, W - SIDE - right), uh = Math.max(100, H - TOP - bottom);
    const fitZ = Math.min(uw / Math.max(1, b.width), uh / Math.max(1, b.height));
    let z = Math.max(floor, Math.min(max, fitZ));
    let cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    if (b.width * z > uw) {
      if (mode === 'focus' && cols.length) {
        // whole columns from the left, callers first; zoomed in a little rather than cutting a callees' column
        // at the right edge, while the layout's height still fits (when it already does not, the node in focus's)
        const zMax = Math.min(max, uh / Math.max(1, b.height * z > uh ? ah : b.height));
        const v = wholeColumnsView(cols, ap ? { left: ap.x, right: ap.x + aw } : null, z, uw, W - SIDE, zMax);
        z = v.zoom;
        cx = v.left + uw / 2 / z; // no clamp: an empty band on the right rather than a column cut on the left
      } else {
        cx = b.x + uw / 2 / z; // callers first: start from the left
      }
    }
    if (b.height * z > uh) {
      if (mode === 'overview') cy = b.y + uh / 2 / z; // from the top: hubs, then the layers
      else if (ap) cy = ah * z > uh ? ap.y + uh / 2 / z : ap.y + ah / 2;
      else cy = b.y + uh / 2 / z;
      // never scroll past the layout's edges (no empty band when the anchor is near one)
      cy = Math.min(Math.max(cy, b.y + uh / 2 / z), b.y + b.height - uh / 2 / z);
    }
    return { x: SIDE + uw / 2 - cx * z, y: TOP + uh / 2 - cy * z, zoom: z };
  };
  let vp = place(SIDE, BOTTOM);
  // the minimap covers the bottom-right corner, above the legend's band: when it would hide a box, fit the
  // layout above it or left of it instead (the larger zoom; above on a tie), if that keeps every box clear
  const mm = el.querySelector('.react-flow__minimap')?.getBoundingClientRect();
  if (mm && mm.width) {
    const pane = el.getBoundingClientRect();
    const mx = mm.left - pane.left - GAP, my = mm.top - pane.top - GAP, mr = mm.right - pane.left, mb = mm.bottom - pane.top;
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
