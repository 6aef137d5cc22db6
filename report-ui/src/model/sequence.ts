// Sequence diagram model for a window of events around the replay position. Pure.
import { actorOf, type GraphIndex } from './graph';
import { callerOf, type ReplayIndex } from './replay';
import { nearestEvent, type Range } from './ranges';

export type MessageKind = 'call' | 'return' | 'exception' | 'yield' | 'resume';

export interface Message {
  event: number;
  kind: MessageKind;
  from: number; // lifeline index
  to: number;
  label: string;
  self: boolean;
  thread: number;
}

export interface SequenceModel {
  start: number;
  end: number; // inclusive
  lifelines: number[]; // actor node indices, in order of first appearance
  messages: Message[];
}

/**
 * Events [start, end] around `center`, optionally for one thread only and inside `ranges` (skipping
 * the events between them); at most `size` messages.
 */
export function buildSequence(r: ReplayIndex, g: GraphIndex, center: number, size: number, bounds: [number, number], thread: number | null,
  ranges: Range[] | null = null): SequenceModel {
  const n = r.steps.count;
  const [lo, hi] = [Math.max(0, bounds[0]), Math.min(n - 1, bounds[1])];
  const picked: number[] = [];
  const ok = (i: number) => thread === null || r.steps.thread[i] === thread;
  const c = Math.min(hi, Math.max(lo, center));
  const before: number[] = [];
  const down = (i: number) => (ranges ? nearestEvent(ranges, i, -1) : i);
  const up = (i: number) => { const j = ranges ? nearestEvent(ranges, i, 1) : i; return j < 0 ? hi + 1 : j; };
  for (let i = down(c); i >= lo && before.length < Math.ceil(size / 2); i = down(i - 1)) if (ok(i)) before.push(i);
  before.reverse();
  const after: number[] = [];
  for (let i = up(c + 1); i <= hi && before.length + after.length < size; i = up(i + 1)) if (ok(i)) after.push(i);
  picked.push(...before, ...after);
  const lifeIndex = new Map<number, number>();
  const lifelines: number[] = [];
  const life = (actor: number) => {
    let k = lifeIndex.get(actor);
    if (k === undefined) { k = lifelines.length; lifeIndex.set(actor, k); lifelines.push(actor); }
    return k;
  };
  const messages: Message[] = [];
  for (const i of picked) {
    const kind = (r.kindName[r.steps.kind[i]] ?? 'call') as MessageKind;
    const callee = r.steps.node[i];
    const caller = callerOf(r, g, i);
    const a = life(caller >= 0 ? actorOf(g, caller) : actorOf(g, callee));
    const b = life(actorOf(g, callee));
    const label = g.nodes[callee]?.label ?? '?';
    const inbound = kind === 'call' || kind === 'resume';
    messages.push({ event: i, kind, from: inbound ? a : b, to: inbound ? b : a, label, self: a === b, thread: r.steps.thread[i] });
  }
  return { start: picked[0] ?? c, end: picked[picked.length - 1] ?? c, lifelines, messages };
}
