// One small store for view state (replay position, selection, filters, view), read with selectors.
import { useSyncExternalStore } from 'react';
import { NO_FILTERS, type Filters } from '../model/filter';
import type { View } from '../model/hash';

export interface UIState {
  pos: number;
  playing: boolean;
  speed: number;
  view: View;
  selNode: number | null;
  selEvent: number | null;
  /** Selected call edges (indices into snapshot edges; several for an edge between collapsed modules). */
  selEdges: number[] | null;
  /** Selected scenario ids (sorted); [] = none, the whole run. */
  scenarios: number[];
  /** The scenario picker panel is open. */
  picker: boolean;
  ghost: boolean;
  filters: Filters;
  /** Big runs: the node the map is focused on (its neighbourhood); null = the overview. */
  center: number | null;
  /** Focus view: columns of callers / callees shown (1 = direct neighbours). */
  hops: number;
  /** Ask the map to centre a node (n bumps to repeat). */
  focus: { node: number; n: number } | null;
  fitRequest: number;
  searchFocus: number;
}

export interface Store {
  get: () => UIState;
  set: (patch: Partial<UIState> | ((s: UIState) => Partial<UIState>)) => void;
  subscribe: (fn: () => void) => () => void;
}

export function createStore(init: Partial<UIState> = {}): Store {
  let state: UIState = {
    pos: 0, playing: false, speed: 4, view: 'map', selNode: null, selEvent: null, selEdges: null, scenarios: [], picker: true, ghost: false,
    filters: NO_FILTERS, center: null, hops: 1, focus: null, fitRequest: 0, searchFocus: 0, ...init,
  };
  const subs = new Set<() => void>();
  return {
    get: () => state,
    set: (patch) => {
      const p = typeof patch === 'function' ? patch(state) : patch;
      let changed = false;
      for (const k in p) if ((p as Record<string, unknown>)[k] !== (state as unknown as Record<string, unknown>)[k]) { changed = true; break; }
      if (!changed) return;
      state = { ...state, ...p };
      subs.forEach((f) => f());
    },
    subscribe: (fn) => { subs.add(fn); return () => subs.delete(fn); },
  };
}

export function useStoreValue<T>(store: Store, sel: (s: UIState) => T): T {
  return useSyncExternalStore(store.subscribe, () => sel(store.get()), () => sel(store.get()));
}
