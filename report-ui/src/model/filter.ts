// Filters shared by every view: modules, thread, node kinds, internal callables, test harness, trace window. Pure.
import type { GraphIndex } from './graph';
import type { ReplayIndex } from './replay';
import type { Range } from './ranges';

export type KindFilter = 'function' | 'method' | 'class_method' | 'instance' | 'class';

export interface Filters {
  /** Module node ids to show; empty = all. */
  modules: string[];
  /** Thread id, or null for all threads. */
  thread: number | null;
  /** Node kinds hidden on the map. */
  hiddenKinds: KindFilter[];
  hideInternal: boolean;
  /** Hide test code (nodes with role "harness"). */
  hideHarness: boolean;
  /** Trace window [start, end] (event orders, inclusive), or null. */
  window: [number, number] | null;
}

export const NO_FILTERS: Filters = { modules: [], thread: null, hiddenKinds: [], hideInternal: false, hideHarness: false, window: null };

export function kindKey(g: GraphIndex, i: number): KindFilter | null {
  const n = g.nodes[i];
  if (n.kind === 'function') return 'function';
  if (n.kind === 'method') return n.callable_kind === 'class_method' ? 'class_method' : 'method';
  if (n.kind === 'instance') return 'instance';
  if (n.kind === 'class') return 'class';
  return null;
}

/** 1 where a node passes the node filters (its container chain too); containers pass if any child does. */
export function nodeMask(g: GraphIndex, f: Filters, harness: Uint8Array | null = null): Uint8Array {
  const n = g.nodes.length;
  const mask = new Uint8Array(n).fill(1);
  const mods = new Set(f.modules);
  const hidden = new Set(f.hiddenKinds);
  for (let i = 0; i < n; i++) {
    const nd = g.nodes[i];
    if (nd.kind === 'scenario') continue;
    if (mods.size) {
      const m = g.moduleOf[i];
      if (m >= 0 ? !mods.has(g.nodes[m].id) : nd.kind !== 'package') mask[i] = 0;
    }
    const k = kindKey(g, i);
    if (k && hidden.has(k)) mask[i] = 0;
    if (f.hideInternal && nd.internal) mask[i] = 0;
    if (f.hideHarness && harness?.[i]) mask[i] = 0;
  }
  // a hidden container hides its descendants
  for (let i = 0; i < n; i++) {
    for (let p = g.parent[i], hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) if (!mask[p]) { mask[i] = 0; break; }
  }
  // containers with children but none shown are hidden (packages when filtering by module)
  const anyShown = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (mask[i] && !g.children[i].length) {
    for (let p = g.parent[i], hops = 0; p >= 0 && hops < 64; p = g.parent[p], hops++) anyShown[p] = 1;
  }
  for (let i = 0; i < n; i++) if (g.children[i].length && !anyShown[i] && g.nodes[i].kind === 'package') mask[i] = 0;
  return mask;
}

/**
 * Event orders passing the filters (window, thread, node mask, optional text match on the callee),
 * inside `ranges` (inclusive event ranges, e.g. selected scenarios cut to the window) when given.
 */
export function filterEvents(r: ReplayIndex, f: Filters, mask: Uint8Array | null, nodeMatch: Uint8Array | null, kinds: number[] | null,
  ranges: Range[] | null = null): Int32Array {
  const n = r.steps.count;
  const [s, e] = f.window ?? [0, n - 1];
  const spans: Range[] = ranges ?? [[Math.max(0, s), Math.min(n - 1, e)]];
  const size = spans.reduce((t, [a, b]) => t + Math.max(0, Math.min(n - 1, b) - Math.max(0, a) + 1), 0);
  const out = new Int32Array(size);
  let len = 0;
  const { thread, node, kind } = r.steps;
  const kset = kinds && kinds.length ? new Set(kinds) : null;
  for (const [a, b] of spans) {
    for (let i = Math.max(0, a), hi = Math.min(n - 1, b); i <= hi; i++) {
      if (f.thread !== null && thread[i] !== f.thread) continue;
      const nd = node[i];
      if (mask && !mask[nd]) continue;
      if (nodeMatch && !nodeMatch[nd]) continue;
      if (kset && !kset.has(kind[i])) continue;
      out[len++] = i;
    }
  }
  return out.subarray(0, len);
}

/** Replay bounds respecting the window: positions [lo, hi] (pos k = events 0..k-1 happened). */
export function replayBounds(count: number, f: Filters): [number, number] {
  if (!f.window) return [0, count];
  return [Math.max(0, f.window[0]), Math.min(count, f.window[1] + 1)];
}
