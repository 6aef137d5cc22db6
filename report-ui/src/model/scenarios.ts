// Scenarios (pytest tests, blocks): per-node unions, harness marks, the evidence of a selection and
// its replay reveals. Built once per snapshot; a selection costs one pass over the lists. Pure.
import type { Scenario, Snapshot } from '../types/snapshot';
import { depthOrder, NEVER, type GraphIndex } from './graph';
import { edgeOf, type ReplayIndex } from './replay';
import { mergeRanges, type Range } from './ranges';

export type Outcome = NonNullable<Scenario['outcome']> | 'unknown';
export const OUTCOMES: Outcome[] = ['failed', 'error', 'xpassed', 'interrupted', 'passed', 'xfailed', 'skipped', 'unknown'];
const BAD = new Set<Outcome>(['failed', 'error', 'xpassed', 'interrupted']);
export const isBad = (o: Outcome): boolean => BAD.has(o);
export const outcomeOf = (s: Scenario): Outcome => s.outcome ?? 'unknown';

const EMPTY = new Int32Array(0);

export interface ScenarioIndex {
  /** In run order, as in the snapshot. */
  list: Scenario[];
  /** Scenario id -> index in list. */
  pos: Map<number, number>;
  /** Per node: sorted scenario ids that exercised it (containers: the union over their descendants). */
  nodeScenarios: Int32Array[];
  /** Per edge: sorted scenario ids (when the snapshot gives none: those of both ends). */
  edgeScenarios: Int32Array[];
  /** 1 for test code: role "harness", or a container holding only harness nodes. */
  harness: Uint8Array;
  hasHarness: boolean;
  counts: Map<Outcome, number>;
  maxId: number;
}

function sortedIds(a: readonly number[] | undefined): Int32Array {
  if (!a || !a.length) return EMPTY;
  const out = Int32Array.from(a).sort();
  let len = 1;
  for (let k = 1; k < out.length; k++) if (out[k] !== out[len - 1]) out[len++] = out[k];
  return len === out.length ? out : out.slice(0, len);
}

/** Null for a plain script run (no scenarios in the snapshot). */
export function buildScenarioIndex(snap: Snapshot, g: GraphIndex): ScenarioIndex | null {
  const list = snap.scenarios;
  if (!list || !list.length) return null;
  const n = g.nodes.length;
  const pos = new Map<number, number>();
  let maxId = 0;
  list.forEach((s, k) => { pos.set(s.id, k); if (s.id > maxId) maxId = s.id; });
  const nodeScenarios: Int32Array[] = g.nodes.map((nd) => sortedIds(nd.scenarios));
  // containers: union of their own list and their children's, children first (reverse BFS order)
  const order = depthOrder(g.parent, n);
  const stamp = new Int32Array(maxId + 1).fill(-1);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k];
    const kids = g.children[i];
    if (!kids.length) continue;
    const acc: number[] = [];
    const take = (a: Int32Array) => { for (const id of a) if (id >= 0 && id <= maxId && stamp[id] !== i) { stamp[id] = i; acc.push(id); } };
    take(nodeScenarios[i]);
    for (const c of kids) take(nodeScenarios[c]);
    nodeScenarios[i] = acc.length ? Int32Array.from(acc).sort() : EMPTY;
  }
  // a method aggregate (levels.ts) stands for its members
  for (const aggs of g.aggOf.values()) for (const a of aggs) {
    const ids = new Set<number>();
    for (const mid of g.nodes[a].members ?? []) { const m = g.byId.get(mid); if (m !== undefined) nodeScenarios[m].forEach((x) => ids.add(x)); }
    nodeScenarios[a] = ids.size ? Int32Array.from(ids).sort() : EMPTY;
  }
  const edgeScenarios = g.edges.map((e, j) => {
    if (e.scenarios) return sortedIds(e.scenarios);
    const a = g.edgeSrc[j] >= 0 ? nodeScenarios[g.edgeSrc[j]] : EMPTY, b = g.edgeTgt[j] >= 0 ? nodeScenarios[g.edgeTgt[j]] : EMPTY;
    const bs = new Set(b);
    return Int32Array.from([...a].filter((x) => bs.has(x)));
  });
  const harness = new Uint8Array(n);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k];
    const kids = g.children[i];
    if (g.nodes[i].role === 'harness') harness[i] = 1;
    else if (kids.length && g.nodes[i].kind !== 'scenario' && kids.every((c) => harness[c])) harness[i] = 1;
  }
  const counts = new Map<Outcome, number>();
  for (const s of list) counts.set(outcomeOf(s), (counts.get(outcomeOf(s)) ?? 0) + 1);
  return { list, pos, nodeScenarios, edgeScenarios, harness, hasHarness: harness.some((h) => h === 1), counts, maxId };
}

export interface ScenarioSelection {
  /** Selected scenario ids, sorted. */
  ids: number[];
  /** 1 where a node (container: any descendant) or an edge has evidence for a selected scenario. */
  nodes: Uint8Array;
  edges: Uint8Array;
  /** Their recorded steps: merged inclusive event ranges (scenarios without steps add none). */
  ranges: Range[];
}

/** Normalise ids against the index: known ids only, sorted, unique. */
export function knownIds(si: ScenarioIndex, ids: readonly number[]): number[] {
  return [...new Set(ids)].filter((id) => si.pos.has(id)).sort((a, b) => a - b);
}

export function selectScenarios(si: ScenarioIndex, ids: readonly number[]): ScenarioSelection {
  const chosen = new Uint8Array(si.maxId + 1);
  const sel = knownIds(si, ids);
  for (const id of sel) chosen[id] = 1;
  const hit = (a: Int32Array) => { for (const id of a) if (chosen[id]) return 1; return 0; };
  const nodes = Uint8Array.from(si.nodeScenarios, hit);
  const edges = Uint8Array.from(si.edgeScenarios, hit);
  return { ids: sel, nodes, edges, ranges: scenarioRanges(si, sel) };
}

/** The merged event ranges of some scenarios (those without recorded steps add none). */
export function scenarioRanges(si: ScenarioIndex, ids: readonly number[]): Range[] {
  return mergeRanges(ids.filter((id) => si.pos.has(id)).map((id) => si.list[si.pos.get(id)!])
    .filter((s) => s.first_event != null && s.last_event != null)
    .map((s) => [s.first_event!, s.last_event!] as Range));
}

/**
 * When each node and edge of a selection's evidence is first touched inside the event ranges (the
 * replay "lights" it from there); NEVER outside the evidence. Evidence without a recorded step in
 * the ranges (calls past the event cap) lights at the last event of the ranges.
 */
export function selectionReveals(r: ReplayIndex | null, g: GraphIndex, sel: ScenarioSelection, ranges: Range[]): { nodes: Int32Array; edges: Int32Array } {
  const nodes = new Int32Array(g.nodes.length).fill(NEVER);
  const edges = new Int32Array(g.edges.length).fill(NEVER);
  const end = ranges.length ? ranges[ranges.length - 1][1] : 0;
  if (r) {
    const mark = (i: number, o: number) => {
      for (let p = i, hops = 0; p >= 0 && nodes[p] > o && hops < 64; p = g.parent[p], hops++) nodes[p] = o;
    };
    for (const [a, b] of ranges) {
      for (let i = a; i <= b; i++) {
        mark(r.steps.node[i], i);
        const ed = edgeOf(r, i);
        if (ed >= 0) {
          if (edges[ed] > i) edges[ed] = i;
          mark(g.edgeSrc[ed], i);
        }
      }
    }
  }
  for (let i = 0; i < nodes.length; i++) nodes[i] = sel.nodes[i] ? Math.min(nodes[i], end) : NEVER;
  for (let j = 0; j < edges.length; j++) edges[j] = sel.edges[j] ? Math.min(edges[j], end) : NEVER;
  return { nodes, edges };
}

/**
 * The exception step of a failed scenario: the last exception in its range, followed back through
 * the frames it unwound to where it was raised. -1 when its steps hold no exception.
 */
export function exceptionStep(r: ReplayIndex, s: Scenario): number {
  if (s.first_event == null || s.last_event == null) return -1;
  const lo = Math.max(0, s.first_event), hi = Math.min(r.steps.count - 1, s.last_event);
  let e = -1;
  for (let i = hi; i >= lo; i--) if (r.steps.kind[i] === r.exceptionKind) { e = i; break; }
  if (e < 0) return -1;
  // unwinding: consecutive exception exits, each one frame shallower than the one before it
  while (e - 1 >= lo && r.steps.kind[e - 1] === r.exceptionKind && r.steps.depth[e - 1] === r.steps.depth[e] + 1
    && r.steps.thread[e - 1] === r.steps.thread[e]) e--;
  return e;
}

/** Short display parts of a pytest node id: file, test name (with parameters). */
export function splitName(name: string): { file: string; test: string } {
  const k = name.indexOf('::');
  return k < 0 ? { file: '', test: name } : { file: name.slice(0, k), test: name.slice(k + 2) };
}

/** Ids of the scenarios whose name (or message) contains every word of the query. */
export function matchScenarios(list: Scenario[], query: string, outcome: Outcome | null): Scenario[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((s) => (outcome === null || outcomeOf(s) === outcome)
    && words.every((w) => s.name.toLowerCase().includes(w) || (s.message ?? '').toLowerCase().includes(w)));
}

/**
 * The selection after a click on `id` in the list `order` (the ids shown, in order): a plain click
 * selects only it (or clears it when it was the only one), ctrl/cmd toggles it, shift selects the
 * run from the anchor (added to the selection with ctrl too).
 */
export function pickScenarios(current: readonly number[], id: number, order: readonly number[], anchor: number | null,
  mods: { toggle: boolean; range: boolean }): number[] {
  const sorted = (a: Iterable<number>) => [...new Set(a)].sort((x, y) => x - y);
  if (mods.range && anchor !== null) {
    const a = order.indexOf(anchor), b = order.indexOf(id);
    if (a >= 0 && b >= 0) {
      const run = order.slice(Math.min(a, b), Math.max(a, b) + 1);
      return sorted(mods.toggle ? [...current, ...run] : run);
    }
  }
  if (mods.toggle) return current.includes(id) ? current.filter((x) => x !== id) : sorted([...current, id]);
  return current.length === 1 && current[0] === id ? [] : [id];
}
