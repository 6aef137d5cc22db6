// Who created whom: the creators of an instance (its created_by) or of an instance group's class
// (the snapshot's creations, model/creations.py). Pure, no React.
import type { Snapshot } from '../types/snapshot';
import type { VNode } from './levels';

export interface CreatorLine {
  /** Node id of the creator (a function, a method of an instance, or a module body). */
  creator: string;
  /** Objects it made (exact); 1 for an instance's own creator. */
  count: number;
  /** The last event recorded before it (the first one for a group); null past the event cap. */
  first_seen: number | null;
}

/** An instance: its own creator. An instance group: its class's creators, who made the most first. */
export function creatorsOf(snap: Pick<Snapshot, 'creations'>, n: VNode): CreatorLine[] {
  if (n.kind === 'instance') {
    return n.created_by ? [{ creator: n.created_by.creator, count: 1, first_seen: n.created_by.first_seen }] : [];
  }
  if (n.kind !== 'group') return [];
  return (snap.creations ?? [])
    .filter((c) => c.module === n.module && c.qualname === n.class_name)
    .map((c) => ({ creator: c.creator, count: c.count, first_seen: c.first_seen }))
    .sort((a, b) => b.count - a.count || a.creator.localeCompare(b.creator));
}
