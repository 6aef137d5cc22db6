// Replay ranges: which events the views show and which positions the replay may take, when a trace
// window and/or selected scenarios restrict them. Pure.
//
// Event ranges are inclusive [first, last] event orders, sorted and disjoint. Position ranges are
// inclusive [lo, hi] replay positions (pos k = events 0..k-1 happened, the current event is k-1).

export type Range = [number, number];

/** Sort, drop empty ranges and merge overlapping or touching ones. */
export function mergeRanges(ranges: Range[]): Range[] {
  const rs = ranges.filter(([a, b]) => a <= b).map(([a, b]) => [a, b] as Range).sort((x, y) => x[0] - y[0]);
  const out: Range[] = [];
  for (const r of rs) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

/**
 * The events every view shows: the scenario ranges cut to the window and to [0, count-1]; null when
 * nothing restricts them (no window, no selection). An empty selection result gives [] (nothing).
 */
export function eventRanges(count: number, window: Range | null, scenarios: Range[] | null): Range[] | null {
  if (!window && !scenarios) return null;
  const lo = Math.max(0, window ? window[0] : 0), hi = Math.min(count - 1, window ? window[1] : count - 1);
  const base: Range[] = scenarios ?? [[lo, hi]];
  return mergeRanges(base.map(([a, b]) => [Math.max(a, lo), Math.min(b, hi)] as Range));
}

/**
 * Replay positions allowed: [0, count] with no restriction; [w0, w1+1] for a window alone (w0 = nothing
 * of the window happened yet); with scenarios, [first+1, last+1] per range, so the current event is
 * always one of theirs. Never empty: falls back to the window (or the whole run).
 */
export function positionRanges(count: number, window: Range | null, scenarios: Range[] | null): Range[] {
  const whole: Range = window ? [Math.max(0, window[0]), Math.min(count, window[1] + 1)] : [0, count];
  if (!scenarios) return [whole];
  const ev = eventRanges(count, window, scenarios) ?? [];
  const out = mergeRanges(ev.map(([a, b]) => [a + 1, b + 1] as Range));
  return out.length ? out : [whole];
}

export const firstPos = (rs: Range[]): number => rs[0][0];
export const lastPos = (rs: Range[]): number => rs[rs.length - 1][1];

/** Index of the range holding p, else -1. */
export function rangeOf(rs: Range[], p: number): number {
  let lo = 0, hi = rs.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >>> 1;
    if (p < rs[m][0]) hi = m - 1;
    else if (p > rs[m][1]) lo = m + 1;
    else return m;
  }
  return -1;
}

/** The allowed position nearest to p (ties go forward). */
export function clampPos(rs: Range[], p: number): number {
  if (p <= rs[0][0]) return rs[0][0];
  const last = rs[rs.length - 1];
  if (p >= last[1]) return last[1];
  if (rangeOf(rs, p) >= 0) return p;
  // p is in a gap: between rs[k][1] and rs[k+1][0]
  let k = 0;
  while (k < rs.length - 1 && rs[k + 1][0] < p) k++;
  const before = rs[k][1], after = rs[k + 1][0];
  return p - before < after - p ? before : after;
}

/** Move d allowed positions from p (skipping the gaps between ranges), stopping at the ends. */
export function stepPos(rs: Range[], p: number, d: number): number {
  let q = clampPos(rs, p);
  let k = rangeOf(rs, q);
  let left = d;
  while (left > 0) {
    const room = rs[k][1] - q;
    if (left <= room) return q + left;
    if (k === rs.length - 1) return rs[k][1];
    left -= room + 1;
    k++;
    q = rs[k][0];
  }
  while (left < 0) {
    const room = q - rs[k][0];
    if (-left <= room) return q + left;
    if (k === 0) return rs[0][0];
    left += room + 1;
    k--;
    q = rs[k][1];
  }
  return q;
}

/** The nearest event of the ranges at or after i (at or before, with dir -1); -1 when none. */
export function nearestEvent(rs: Range[], i: number, dir: 1 | -1): number {
  if (dir > 0) {
    for (const [a, b] of rs) { if (i <= b) return Math.max(a, i); }
    return -1;
  }
  for (let k = rs.length - 1; k >= 0; k--) { const [a, b] = rs[k]; if (i >= a) return Math.min(b, i); }
  return -1;
}

/** 1-based rank of an allowed position among all allowed positions, and their count. */
export function posRank(rs: Range[], p: number): { rank: number; total: number } {
  let rank = 0, total = 0;
  for (const [a, b] of rs) {
    if (p > b) rank += b - a + 1;
    else if (p >= a) rank += p - a + 1;
    total += b - a + 1;
  }
  return { rank, total };
}

/** Number of events in the ranges. */
export const rangesSize = (rs: Range[]): number => rs.reduce((t, [a, b]) => t + (b - a + 1), 0);
