// Lays out a small run's map in the ELK worker: the full hierarchy, once (big runs: useBigLayout).
// Never blocks the first paint.
import { useEffect, useState } from 'react';
import type { Node as RFNode } from '@xyflow/react';
import { layout } from '../../layout/client';
import { depthOrder, type GraphIndex } from '../../model/graph';
import { fullEdges, fullGraph, withIoColumn, type VisibleGraph } from '../../model/layoutGraph';

export type MapNodeType = 'shell' | 'callable' | 'scenario' | 'collapsed' | 'more' | 'boundary';
export interface MapNodeData extends Record<string, unknown> {
  idx: number;
  /** Drawn on the overview (bigger labels). */
  ov?: boolean;
  /** A hub: how many boxes call it. */
  hub?: number;
  /** "+N more": children or neighbours left out. */
  more?: number;
  text?: string;
}
export type MapNode = RFNode<MapNodeData, MapNodeType>;

export interface MapLayout {
  nodes: MapNode[];
  vis: VisibleGraph | null;
  busy: boolean;
  error: string | null;
  /** Bumped each time a new layout lands. */
  version: number;
}

function nodeType(g: GraphIndex, i: number, vis: VisibleGraph): MapNodeType {
  const n = g.nodes[i];
  if (n.kind === 'scenario') return 'scenario';
  if (n.kind === 'boundary') return 'boundary';
  if (g.children[i].some((c) => vis.rep[c] === c && g.nodes[c].kind !== 'agg')) return 'shell';
  return g.callable[i] ? 'callable' : 'shell';
}

/** Small runs: the whole hierarchy, laid out by ELK in its worker. */
export function useMapLayout(g: GraphIndex): MapLayout {
  const [state, setState] = useState<MapLayout>({ nodes: [], vis: null, busy: true, error: null, version: 0 });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, busy: true, error: null }));
    layout('full', () => fullGraph(g)).then((elk) => {
      if (!live) return;
      const boxes = withIoColumn(g, elk); // I/O boundaries: a column right of everything
      const vis = fullEdges(g);
      const order = depthOrder(g.parent, g.nodes.length);
      const nodes: MapNode[] = [];
      for (const i of order) {
        if (vis.rep[i] !== i) continue;
        const id = g.nodes[i].id;
        const b = boxes[id];
        if (!b) continue;
        let p = g.parent[i];
        while (p >= 0 && !boxes[g.nodes[p].id]) p = g.parent[p]; // instance groups have no box here
        const parentId = p >= 0 ? g.nodes[p].id : undefined;
        const type = nodeType(g, i, vis);
        nodes.push({ id, type, position: { x: b.x, y: b.y }, width: b.width, height: b.height, parentId,
          data: { idx: i }, draggable: false, connectable: false, deletable: false,
          zIndex: type === 'shell' ? 0 : 1, ariaLabel: `${g.nodes[i].kind} ${g.nodes[i].label}` });
      }
      setState((s) => ({ nodes, vis, busy: false, error: null, version: s.version + 1 }));
    }).catch((err) => live && setState((s) => ({ ...s, busy: false, error: String((err as Error).message ?? err) })));
    return () => { live = false; };
  }, [g]);
  return state;
}
