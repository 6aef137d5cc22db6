// Data shared by every view: the snapshot, its indexes and the store.
import { createContext, useContext } from 'react';
import type { Snapshot } from '../types/snapshot';
import type { GraphIndex } from '../model/graph';
import type { Activity, ReplayIndex } from '../model/replay';
import type { Range } from '../model/ranges';
import { lastPos, positionRanges } from '../model/ranges';
import { knownIds, scenarioRanges, type ScenarioIndex, type ScenarioSelection } from '../model/scenarios';
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
  /** Scenarios of a pytest run; null for a plain script run. */
  si: ScenarioIndex | null;
  /** The selected scenarios' evidence; null when none is selected. */
  sel: ScenarioSelection | null;
  /** Events every view shows (window and selected scenarios); null = all. */
  eventRanges: Range[] | null;
  /** Replay positions allowed (never empty). */
  posRanges: Range[];
  /** With a selection: when each node / edge of its evidence lights up (NEVER: dimmed). */
  litNodes: Int32Array | null;
  litEdges: Int32Array | null;
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
      store.set((s) => ({ selNode: node, selEvent: null, selEdges: null, focus: focus && node !== null ? { node, n: (s.focus?.n ?? 0) + 1 } : s.focus }));
    },
    selectEvent(ev: number, moveReplay = true) {
      const node = r ? r.steps.node[ev] : null;
      store.set({ selEvent: ev, selNode: node, selEdges: null, ...(moveReplay ? { pos: ev + 1, playing: false } : {}) });
    },
    selectEdges(edges: number[] | null) {
      store.set({ selEdges: edges && edges.length ? edges : null, selNode: null, selEvent: null });
    },
    /** Select scenarios (replacing the selection) and move the replay to the end of their steps. */
    selectScenarios(ids: readonly number[]) {
      const { si, snap } = d;
      if (!si) return;
      const next = knownIds(si, ids);
      store.set((s) => {
        if (!next.length) return { scenarios: [] };
        const end = lastPos(positionRanges(snap.steps.count, s.filters.window, scenarioRanges(si, next)));
        return { scenarios: next, pos: end, playing: false };
      });
    },
  };
}
