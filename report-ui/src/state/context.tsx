// Data shared by every view: the snapshot, its indexes and the store.
import { createContext, useContext } from 'react';
import type { Snapshot } from '../types/snapshot';
import type { GraphIndex } from '../model/graph';
import type { Activity, ReplayIndex } from '../model/replay';
import type { Store, UIState } from './store';
import { useStoreValue } from './store';

export interface AppData {
  snap: Snapshot;
  g: GraphIndex;
  r: ReplayIndex | null;
  activity: Activity | null;
  big: boolean;
  /** Reveal orders in force (the trace window's when one is set). */
  nodeReveal: Int32Array;
  edgeReveal: Int32Array;
  /** 1 where the node passes the filters. */
  mask: Uint8Array;
  store: Store;
}

export const DataContext = createContext<AppData | null>(null);

export function useData(): AppData {
  const d = useContext(DataContext);
  if (!d) throw new Error('no data');
  return d;
}

export function useUI<T>(sel: (s: UIState) => T): T {
  const { store } = useData();
  return useStoreValue(store, sel);
}

/** Select a node (and optionally an event), publishing it for IDE plugins. */
export function selectionActions(d: AppData) {
  const { store, r } = d;
  return {
    selectNode(node: number | null, focus = false) {
      store.set((s) => ({ selNode: node, selEvent: null, focus: focus && node !== null ? { node, n: (s.focus?.n ?? 0) + 1 } : s.focus }));
    },
    selectEvent(ev: number, moveReplay = true) {
      const node = r ? r.steps.node[ev] : null;
      store.set({ selEvent: ev, selNode: node, ...(moveReplay ? { pos: ev + 1, playing: false } : {}) });
    },
  };
}
