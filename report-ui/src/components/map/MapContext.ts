import { createContext, useContext } from 'react';
import type { VisibleGraph } from '../../model/layoutGraph';

export interface MapCtx {
  vis: VisibleGraph;
  /** Reveal order of each visible edge (min over its members). */
  visEdgeReveal: Int32Array;
  /** With selected scenarios: when each visible edge lights up (min over its members); else null. */
  visEdgeLit: Int32Array | null;
}

export const MapContext = createContext<MapCtx | null>(null);
export const useMapCtx = () => {
  const c = useContext(MapContext);
  if (!c) throw new Error('no map context');
  return c;
};
