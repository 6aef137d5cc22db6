// Big runs: the overview or the focus view of one node, both placed on the main thread in milliseconds
// (only what is visible is laid out; ELK in its worker handles small runs).
import { useEffect, useMemo, useState } from 'react';
import type { GraphIndex } from '../../model/graph';
import { overview, overviewLayout, type Overview } from '../../model/overview';
import { focusView, type FocusView } from '../../model/focus';
import { focusLayout, sideLabel } from '../../model/focusLayout';
import { shownKids } from '../../model/lod';
import type { VisibleGraph } from '../../model/layoutGraph';
import type { MapLayout, MapNode, MapNodeType } from './useMapLayout';

export interface BigLayout extends MapLayout {
  mode: 'overview' | 'focus';
  /** Node to keep in view when the whole layout does not fit at a readable zoom. */
  anchor: string | null;
}

function rfNode(g: GraphIndex, i: number, type: MapNodeType, b: { x: number; y: number; width: number; height: number },
  parentId: string | undefined, extra: Partial<MapNode['data']> = {}): MapNode {
  return { id: g.nodes[i].id, type, position: { x: b.x, y: b.y }, width: b.width, height: b.height, parentId,
    data: { idx: i, ...extra }, draggable: false, connectable: false, deletable: false, zIndex: type === 'shell' ? 0 : 2, // edges at 1: over shells, under boxes
    ariaLabel: `${g.nodes[i].kind} ${g.nodes[i].label}` };
}

function overviewNodes(g: GraphIndex, ov: Overview): MapNode[] {
  const boxes = overviewLayout(g, ov);
  const shown = new Set(ov.boxes);
  const nodes: MapNode[] = [];
  for (const i of ov.boxes) {
    const b = boxes[g.nodes[i].id];
    if (!b) continue;
    const p = g.parent[i];
    const parentId = !ov.hubs.has(i) && p >= 0 && shown.has(p) && boxes[g.nodes[p].id] ? g.nodes[p].id : undefined;
    const open = ov.cut.open.has(i) && shownKids(g, i, ov.cut).length > 0;
    const k = g.nodes[i].kind;
    const type: MapNodeType = k === 'scenario' ? 'scenario' : k === 'boundary' ? 'boundary' : open ? 'shell' : 'collapsed';
    nodes.push(rfNode(g, i, type, b, parentId, { ov: true, ...(ov.hubs.has(i) ? { hub: ov.hubs.get(i) } : {}) }));
  }
  return nodes;
}

function focusNodes(g: GraphIndex, fv: FocusView): MapNode[] {
  const pl = focusLayout(g, fv);
  const nodes: MapNode[] = [];
  const side = new Set([...fv.callers.flat(), ...fv.callees.flat()]);
  const all = [...fv.inner, ...side];
  for (const i of all) {
    const b = pl.boxes[g.nodes[i].id];
    if (!b) continue;
    const p = pl.parent.get(i);
    const open = fv.cut.open.has(i) && fv.inner.includes(i) && shownKids(g, i, fv.cut).length > 0;
    const kind = g.nodes[i].kind;
    const type: MapNodeType = kind === 'scenario' ? 'scenario' : kind === 'boundary' ? 'boundary' : open ? 'shell' : g.callable[i] || kind === 'agg' ? 'callable' : 'collapsed';
    const extra = i === fv.center && fv.innerMore ? { more: fv.innerMore } : side.has(i) && type === 'callable' ? { text: sideLabel(g, i) } : {};
    nodes.push(rfNode(g, i, type, b, p !== undefined ? g.nodes[p].id : undefined, extra));
  }
  for (const n of pl.notes) {
    nodes.push({ id: `more:${n.col}`, type: 'more', position: { x: n.x, y: n.y }, width: 200, height: 24, selectable: false,
      data: { idx: -1, more: n.more, text: n.col < 0 ? 'callers' : 'callees' }, draggable: false, connectable: false, deletable: false });
  }
  return nodes;
}

export function useBigLayout(g: GraphIndex, center: number | null, hops: number): BigLayout {
  const ov = useMemo(() => (center === null ? overview(g) : null), [g, center]);
  const fv = useMemo(() => (center !== null ? focusView(g, center, { hops }) : null), [g, center, hops]);
  const [state, setState] = useState<BigLayout>({ nodes: [], vis: null, busy: true, error: null, version: 0, mode: 'overview', anchor: null });
  useEffect(() => {
    if (fv) {
      const vis: VisibleGraph = { nodes: [...fv.inner, ...fv.callers.flat(), ...fv.callees.flat()], rep: fv.rep, edges: fv.edges, edgeToVis: fv.edgeToVis };
      setState((s) => ({ nodes: focusNodes(g, fv), vis, busy: false, error: null, version: s.version + 1, mode: 'focus', anchor: g.nodes[fv.center].id }));
      return;
    }
    if (!ov) return;
    const vis: VisibleGraph = { nodes: ov.boxes, rep: ov.rep, edges: ov.edges, edgeToVis: ov.edgeToVis };
    const scen = g.roots.find((r) => g.nodes[r].kind === 'scenario');
    setState((s) => ({ nodes: overviewNodes(g, ov), vis, busy: false, error: null, version: s.version + 1, mode: 'overview',
      anchor: scen !== undefined ? g.nodes[scen].id : null }));
  }, [g, ov, fv]);
  return state;
}
