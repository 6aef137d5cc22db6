// "Export window as JSON": the events, nodes and edges of a trace window plus a short note. Pure.
import type { GraphIndex } from './graph';
import { NEVER } from './graph';
import { edgeOf, windowReveals, type ReplayIndex } from './replay';
import type { Snapshot } from '../types/snapshot';

export const EXPORT_EVENT_CAP = 1_000_000;

export function exportWindow(snap: Snapshot, g: GraphIndex, r: ReplayIndex, start: number, end: number) {
  const n = r.steps.count;
  const s = Math.max(0, start), e = Math.min(n - 1, end);
  const { nodes: nr, edges: er } = windowReveals(r, g, s, e);
  const unit = r.steps.timeUnitNs;
  const events = [];
  const last = Math.min(e, s + EXPORT_EVENT_CAP - 1);
  for (let i = s; i <= last; i++) {
    const ed = edgeOf(r, i);
    events.push({
      order: i,
      kind: r.kindName[r.steps.kind[i]],
      node: g.nodes[r.steps.node[i]]?.id ?? null,
      edge: ed >= 0 ? g.edges[ed].id : null,
      thread: r.steps.thread[i],
      depth: r.steps.depth[i],
      call_id: r.steps.callId[i],
      t_ns: r.steps.t[i] * unit,
    });
  }
  const nodes = g.nodes.filter((_, i) => nr[i] !== NEVER);
  const edges = g.edges.filter((_, j) => er[j] !== NEVER);
  const truncated = e - s + 1 > events.length;
  const note = [
    `Trace window of ${snap.run.app_name}: events ${s}..${e} of ${n} recorded (${snap.stats.events} observed).`,
    `${events.length} events, ${nodes.length} nodes and ${edges.length} call edges touched in the window.`,
    truncated ? `Events were cut at ${EXPORT_EVENT_CAP}.` : '',
    `Command: ${snap.run.command.join(' ')}`,
  ].filter(Boolean).join('\n');
  return {
    kind: 'skeleton-window',
    format_version: snap.format_version,
    skeleton_version: snap.skeleton_version,
    window: { start: s, end: e },
    note,
    run: snap.run,
    events,
    nodes,
    edges,
  };
}
