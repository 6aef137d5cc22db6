// Where a focus view that is wider than the screen opens: on whole columns, callers first. Pure.

/** A horizontal extent in layout units. */
export interface Span { left: number; right: number }

/** The columns of a layout: the extents of its top-level boxes, merged where they overlap. Sorted. */
export function columnsOf(boxes: Span[]): Span[] {
  const out: Span[] = [];
  for (const b of [...boxes].sort((p, q) => p.left - q.left || p.right - q.right)) {
    const last = out[out.length - 1];
    if (last && b.left <= last.right) last.right = Math.max(last.right, b.right);
    else out.push({ left: b.left, right: b.right });
  }
  return out;
}

/** Pixels kept between a box the fit shows whole (or hides) and the pane's right edge. */
const EDGE = 4;

/**
 * The horizontal view of a layout that does not fit at zoom `zoom`: the layout x put at the left of the room
 * (`left`), and the zoom. `room`: the width (px) the fit keeps for the layout; `pane`: from there to the pane's
 * right edge (px; what is drawn up to it is seen); `maxZoom`: the zoom the fit may go up to (its maximum, and
 * what still fits the layout's height).
 *
 * The view starts at a column's left edge, callers first: the leftmost column from which the anchor (the node
 * in focus) is whole on screen (the callers' columns that do not fit with it are a pan to the left away, never
 * cut); when the anchor is wider than the pane, the leftmost from which it starts in the left half of the
 * room (its callers whole, and its left part); else the anchor's own column. When a column right of the
 * anchor's then crosses the pane's right edge, the zoom goes up until that column starts at the edge, if
 * `maxZoom` allows: what shows are whole columns, and the rest is a pan to the right away.
 */
export function wholeColumnsView(cols: Span[], anchor: Span | null, zoom: number, room: number, pane: number,
  maxZoom: number): { left: number; zoom: number } {
  if (!cols.length) return { left: 0, zoom };
  const eps = 0.5 / zoom;
  // the anchor's column: the last one starting at or before the anchor
  let home = cols.length - 1, start = 0;
  if (anchor) {
    home = 0;
    cols.forEach((c, k) => { if (c.left <= anchor.left + eps) home = k; });
    const whole = cols.findIndex((c, k) => k <= home && anchor.right - c.left <= pane / zoom + eps);
    const half = cols.findIndex((c, k) => k <= home && anchor.left - c.left <= room / 2 / zoom + eps);
    start = whole >= 0 ? whole : half >= 0 ? half : home;
  }
  const left = cols[start].left;
  // a column right of the anchor's that the pane's right edge crosses: zoom in until it starts at the edge
  const edge = left + pane / zoom;
  const cut = cols.findIndex((c, k) => k > home && c.left < edge - eps && c.right > edge + eps);
  if (cut > 0 && cols[cut].left > left) {
    const z = (pane + EDGE) / (cols[cut].left - left); // (its border and shadow past the edge too)
    // (and the columns before it still end inside the pane)
    if (z <= maxZoom && (cols[cut - 1].right - left) * z <= pane - EDGE + 0.5) return { left, zoom: z };
  }
  return { left, zoom };
}
