import { createContext, useContext } from 'react';
import type { VisibleGraph } from '../../model/layoutGraph';

export interface MapCtx {
  vis: VisibleGraph;
  /** Reveal order of each visible edge (min over its members). */
  visEdgeReveal: Int32Array;
  toggleModule: (idx: number) => void;
}

export const MapContext = createContext<MapCtx | null>(null);
export const useMapCtx = () => {
  const c = useContext(MapContext);
  if (!c) throw new Error('no map context');
  return c;
};
