// Fitting the map without ever going below a readable zoom: when the layout does not fit at the
// floor, keep the anchor node in view at the floor and let the user pan.
import type { ReactFlowInstance } from '@xyflow/react';
import type { MapNode } from './useMapLayout';

/** Screen margins kept free: breadcrumbs on top, the legend at the bottom. */
const TOP = 56, SIDE = 16;

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
  const uw = Math.max(100, W - 2 * SIDE), uh = Math.max(100, H - TOP - BOTTOM);
  const fitZ = Math.min(uw / Math.max(1, b.width), uh / Math.max(1, b.height));
  const z = Math.max(floor, Math.min(max, fitZ));
  let cx = b.x + b.width / 2, cy = b.y + b.height / 2;
  const a = anchor ? rf.getInternalNode(anchor) : undefined;
  const ap = a ? a.internals.positionAbsolute : null;
  const aw = a?.measured.width ?? a?.width ?? 0, ah = a?.measured.height ?? a?.height ?? 0;
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
  void rf.setViewport({ x: W / 2 - cx * z, y: TOP + uh / 2 - cy * z, zoom: z }, { duration: 0 });
}
