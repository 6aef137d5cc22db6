// Lays out the map in the worker: the full hierarchy for small graphs, per level (modules
// collapsed, expanded ones laid out alone and cached) for big ones. Never blocks the first paint.
import { useEffect, useState } from 'react';
import type { Node as RFNode } from '@xyflow/react';
import { layout } from '../../layout/client';
import { depthOrder, type GraphIndex } from '../../model/graph';
import { quickLevelLayout } from '../../model/quickLayout';
import { fullGraph, moduleGraph, visibleGraph, type Boxes, type VisibleGraph } from '../../model/layoutGraph';

export type MapNodeType = 'shell' | 'callable' | 'scenario' | 'collapsed' | 'more';
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

function nodeType(g: GraphIndex, i: number, vis: VisibleGraph, expanded: Set<number> | null): MapNodeType {
  const n = g.nodes[i];
  if (n.kind === 'scenario') return 'scenario';
  if (expanded && n.kind === 'module' && !expanded.has(i) && g.children[i].length) return 'collapsed';
  if (g.children[i].some((c) => vis.rep[c] === c && g.nodes[c].kind !== 'agg')) return 'shell';
  return g.callable[i] ? 'callable' : 'shell';
}

async function computeBoxes(g: GraphIndex, expanded: Set<number> | null): Promise<Boxes> {
  if (expanded === null) return layout('full', () => fullGraph(g));
  const mods = [...expanded].sort((a, b) => a - b);
  const inner = await Promise.all(mods.map((m) => layout(`mod:${g.nodes[m].id}`, () => moduleGraph(g, m))));
  const sizes = new Map(mods.map((m, k) => {
    const b = inner[k][g.nodes[m].id];
    return [m, { width: b.width, height: b.height }];
  }));
  const top = quickLevelLayout(g, sizes);
  const boxes: Boxes = { ...top };
  mods.forEach((m, k) => {
    for (const [id, b] of Object.entries(inner[k])) if (id !== g.nodes[m].id) boxes[id] = b;
  });
  return boxes;
}

export function useMapLayout(g: GraphIndex, expanded: Set<number> | null): MapLayout {
  const [state, setState] = useState<MapLayout>({ nodes: [], vis: null, busy: true, error: null, version: 0 });
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, busy: true, error: null }));
    computeBoxes(g, expanded).then((boxes) => {
      if (!live) return;
      const vis = visibleGraph(g, expanded);
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
        const type = nodeType(g, i, vis, expanded);
        nodes.push({ id, type, position: { x: b.x, y: b.y }, width: b.width, height: b.height, parentId,
          data: { idx: i }, draggable: false, connectable: false, deletable: false,
          zIndex: type === 'shell' ? 0 : 1, ariaLabel: `${g.nodes[i].kind} ${g.nodes[i].label}` });
      }
      setState((s) => ({ nodes, vis, busy: false, error: null, version: s.version + 1 }));
    }).catch((err) => live && setState((s) => ({ ...s, busy: false, error: String((err as Error).message ?? err) })));
    return () => { live = false; };
  }, [g, expanded]);
  return state;
}
