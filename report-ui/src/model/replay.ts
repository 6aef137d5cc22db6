// Replay index over the decoded steps: call stacks, activity histogram, per-step lookups. Pure.
import type { StepColumns } from './decode';
import type { GraphIndex } from './graph';

export interface ReplayIndex {
  steps: StepColumns;
  /** Per event: entry event (call/resume) of the enclosing frame; for a leave event, the frame it leaves. */
  outer: Int32Array;
  kindName: string[];
  callKind: number;
  resumeKind: number;
  exceptionKind: number;
}

export function buildReplayIndex(steps: StepColumns): ReplayIndex {
  const n = steps.count;
  const kindName = steps.kinds;
  const callKind = kindName.indexOf('call');
  const resumeKind = kindName.indexOf('resume');
  const exceptionKind = kindName.indexOf('exception');
  const outer = new Int32Array(n).fill(-1);
  // per-thread stacks of entry events, kept in growable typed arrays
  const stacks = new Map<number, { a: Int32Array; len: number }>();
  const { kind, thread } = steps;
  for (let i = 0; i < n; i++) {
    const th = thread[i];
    let st = stacks.get(th);
    if (!st) { st = { a: new Int32Array(64), len: 0 }; stacks.set(th, st); }
    const k = kind[i];
    if (k === callKind || k === resumeKind) {
      outer[i] = st.len ? st.a[st.len - 1] : -1;
      if (st.len === st.a.length) { const b = new Int32Array(st.a.length * 2); b.set(st.a); st.a = b; }
      st.a[st.len++] = i;
    } else {
      outer[i] = st.len ? st.a[--st.len] : -1;
    }
  }
  return { steps, outer, kindName, callKind, resumeKind, exceptionKind };
}

export const isEntry = (r: ReplayIndex, i: number) => r.steps.kind[i] === r.callKind || r.steps.kind[i] === r.resumeKind;

/** Entry events of the frames on the stack of event i's thread, innermost first. */
export function stackAt(r: ReplayIndex, i: number, limit = 500): number[] {
  if (i < 0 || i >= r.steps.count) return [];
  const out: number[] = [];
  let e = isEntry(r, i) ? i : r.outer[i];
  while (e >= 0 && out.length < limit) {
    out.push(e);
    e = r.outer[e];
  }
  return out;
}

/** The call edge of event i: its own, else the edge of its call event. */
export function edgeOf(r: ReplayIndex, i: number): number {
  const e = r.steps.edge[i];
  if (e >= 0) return e;
  const c = r.steps.callId[i];
  return c >= 0 && c < r.steps.count && c !== i ? r.steps.edge[c] : -1;
}

/** The caller node of event i (source of its call edge), -1 when unknown. */
export function callerOf(r: ReplayIndex, g: GraphIndex, i: number): number {
  const e = edgeOf(r, i);
  if (e >= 0) return g.edgeSrc[e];
  const o = r.outer[i];
  const entry = isEntry(r, i) ? o : o >= 0 ? r.outer[o] : -1;
  return entry >= 0 ? r.steps.node[entry] : -1;
}

export interface Activity {
  bins: number;
  calls: Uint32Array;
  exceptions: Uint32Array;
  reveals: Uint32Array;
  maxCalls: number;
}

/** Histogram of calls (and exceptions, first sightings) over the run, in `bins` equal step ranges. */
export function activity(r: ReplayIndex, g: GraphIndex, bins: number): Activity {
  const n = r.steps.count;
  const b = Math.max(1, Math.min(bins, n || 1));
  const calls = new Uint32Array(b), exceptions = new Uint32Array(b), reveals = new Uint32Array(b);
  const { kind } = r.steps;
  const scale = b / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const k = kind[i];
    const bin = Math.min(b - 1, (i * scale) | 0);
    if (k === r.callKind) calls[bin]++;
    else if (k === r.exceptionKind) exceptions[bin]++;
  }
  for (let j = 0; j < g.revealAt.length; j++) {
    const v = g.revealAt[j];
    if (g.callable[j] && v < n) reveals[Math.min(b - 1, (v * scale) | 0)]++;
  }
  let maxCalls = 0;
  for (let k = 0; k < b; k++) if (calls[k] > maxCalls) maxCalls = calls[k];
  return { bins: b, calls, exceptions, reveals, maxCalls };
}

/** Node indices whose reveal order is exactly `order` (for "new at this step" highlights and tests). */
export function revealedAtOrder(revealAt: Int32Array, order: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < revealAt.length; i++) if (revealAt[i] === order) out.push(i);
  return out;
}

/** Mark nodes and edges touched by events in [start, end] (a trace window): first touching order, else NEVER. */
export function windowReveals(r: ReplayIndex, g: GraphIndex, start: number, end: number): { nodes: Int32Array; edges: Int32Array } {
  const NEVER = 0x7fffffff;
  const nodes = new Int32Array(g.nodes.length).fill(NEVER);
  const edges = new Int32Array(g.edges.length).fill(NEVER);
  const s = Math.max(0, start), e = Math.min(r.steps.count - 1, end);
  const mark = (i: number, o: number) => {
    for (let p = i, hops = 0; p >= 0 && nodes[p] > o && hops < 64; p = g.parent[p], hops++) nodes[p] = o;
  };
  for (let i = s; i <= e; i++) {
    const a = g.aggFor[r.steps.node[i]];
    if (a >= 0 && nodes[a] > i) nodes[a] = i;
    mark(r.steps.node[i], i);
    const ed = edgeOf(r, i);
    if (ed >= 0) {
      if (edges[ed] > i) edges[ed] = i;
      mark(g.edgeSrc[ed], i);
    }
  }
  return { nodes, edges };
}

const revealSorted = new WeakMap<Int32Array, Int32Array>();
/** The replay position right after the next first sighting of a callable at or after position `pos`
 * (events pos.. are still to come), or null when nothing new comes. */
export function nextReveal(g: GraphIndex, reveal: Int32Array, pos: number): number | null {
  let sorted = revealSorted.get(reveal);
  if (!sorted) {
    const vals: number[] = [];
    for (let i = 0; i < g.realCount; i++) if (g.callable[i] && reveal[i] !== 0x7fffffff) vals.push(reveal[i]);
    sorted = Int32Array.from(new Set(vals)).sort();
    revealSorted.set(reveal, sorted);
  }
  let lo = 0, hi = sorted.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (sorted[mid] < pos) lo = mid + 1; else hi = mid; }
  return lo < sorted.length ? sorted[lo] + 1 : null;
}
