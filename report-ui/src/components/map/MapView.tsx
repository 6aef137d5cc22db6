// The architecture map: React Flow over the ELK layout, revealed step by step.
import { useCallback, useEffect, useMemo, useRef } from 'react';
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, type Node as RFNode, type FitViewOptions } from '@xyflow/react';
import { selectionActions, useData, useUI } from '../../state/context';
import { NEVER } from '../../model/graph';
import { useMapLayout, type MapNode } from './useMapLayout';
import { MapContext, type MapCtx } from './MapContext';
import { nodeTypes } from './nodes';
import { ArrowDefs, edgeTypes, type CallEdgeT } from './edges';
import { Legend } from './Legend';

export function MapView() {
  return (
    <ReactFlowProvider>
      <MapInner />
    </ReactFlowProvider>
  );
}

const MINIMAP_COLORS: Record<string, string> = {
  scenario: '#475569', package: 'rgba(148,163,184,.25)', module: 'rgba(59,130,246,.18)', class: 'rgba(168,85,247,.22)',
  instance: 'rgba(20,184,166,.22)', function: '#f59e0b', method: '#14b8a6',
};

const MINIMAP_DIMMED = 'rgba(148,163,184,.12)';

/**
 * Fit padding. With the tests panel open the map is narrower and the legend (bigger, with the test
 * entries) would cover the bottom row of nodes: keep the fitted graph above it. Script runs keep
 * the plain padding (and look as before).
 */
function fitPadding(base: number, tests: boolean): FitViewOptions['padding'] {
  if (!tests) return base;
  const legend = document.querySelector('[data-testid=map-legend]')?.getBoundingClientRect().height ?? 0;
  return { top: base, left: base, right: base, bottom: `${Math.round(legend + 28)}px` };
}

function MapInner() {
  const d = useData();
  const { g, store, big, edgeReveal, litEdges, sel, si } = d;
  const expanded = useUI((s) => s.expanded);
  const { nodes, vis, busy, error, version } = useMapLayout(g, expanded);
  const rf = useReactFlow();
  const toggleModule = useCallback((idx: number) => store.set((s) => {
    if (!s.expanded) return {};
    const next = new Set(s.expanded);
    if (next.has(idx)) next.delete(idx); else next.add(idx);
    return { expanded: next };
  }), [store]);
  const ctx: MapCtx | null = useMemo(() => {
    if (!vis) return null;
    const visEdgeReveal = new Int32Array(vis.edges.length).fill(NEVER);
    vis.edges.forEach((e, k) => { for (const j of e.members) if (edgeReveal[j] < visEdgeReveal[k]) visEdgeReveal[k] = edgeReveal[j]; });
    let visEdgeLit: Int32Array | null = null;
    if (litEdges) {
      const lit = new Int32Array(vis.edges.length).fill(NEVER);
      vis.edges.forEach((e, k) => { for (const j of e.members) if (litEdges[j] < lit[k]) lit[k] = litEdges[j]; });
      visEdgeLit = lit;
    }
    return { vis, visEdgeReveal, visEdgeLit, toggleModule };
  }, [vis, edgeReveal, litEdges, toggleModule]);
  const edges: CallEdgeT[] = useMemo(() => (vis ? vis.edges.map((e, k) => ({
    id: e.id, source: g.nodes[e.source].id, target: g.nodes[e.target].id, type: 'call' as const, data: { k },
    selectable: true, focusable: false,
  })) : []), [vis, g]);

  // fit the whole map once per new layout (first one), centre requested nodes
  const fitted = useRef(false);
  useEffect(() => {
    if (!version || fitted.current) return;
    fitted.current = true;
    requestAnimationFrame(() => void rf.fitView({ padding: fitPadding(0.08, !!si), duration: 0 }));
  }, [version, rf, si]);
  const fitReq = useUI((s) => s.fitRequest);
  useEffect(() => { if (fitReq) void rf.fitView({ padding: fitPadding(0.08, !!si), duration: 300 }); }, [fitReq, rf, si]);
  const focus = useUI((s) => s.focus);
  useEffect(() => {
    if (!focus || !vis) return;
    const i = focus.node;
    const m = g.moduleOf[i];
    if (expanded && m >= 0 && m !== i && !expanded.has(m)) { toggleModule(m); return; }
    const target = vis.rep[i];
    const id = g.nodes[target].id;
    requestAnimationFrame(() => {
      const n = rf.getInternalNode(id);
      if (!n) return;
      const p = n.internals.positionAbsolute;
      const w = n.measured.width ?? n.width ?? 100, h = n.measured.height ?? n.height ?? 40;
      void rf.setCenter(p.x + w / 2, p.y + h / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 350 });
    });
  }, [focus, vis, version, g, expanded, toggleModule, rf]);

  // a module opened by a click: once its layout arrives, fit the view to it (it may be far bigger
  // than the collapsed box it replaces)
  const fitOpened = useRef<string | null>(null);
  useEffect(() => {
    const id = fitOpened.current;
    if (!id || !version) return;
    fitOpened.current = null;
    requestAnimationFrame(() => void rf.fitView({ nodes: [{ id }], padding: fitPadding(0.12, !!si), duration: 300 }));
  }, [version, rf]);

  const onNodeClick = useCallback((_: unknown, node: RFNode) => {
    const idx = (node as MapNode).data.idx;
    if (node.type === 'collapsed') {
      fitOpened.current = node.id;
      toggleModule(idx);
    }
    selectionActions(d).selectNode(idx);
  }, [d, toggleModule]);

  const onEdgeClick = useCallback((_: unknown, edge: CallEdgeT) => {
    const e = vis?.edges[edge.data?.k ?? -1];
    if (e) selectionActions(d).selectEdges(e.members);
  }, [d, vis]);

  return (
    <div className="map" data-testid="view-map" data-layout={busy ? 'busy' : 'ready'} data-big={String(big)}>
      <ArrowDefs />
      {ctx && (
        <MapContext.Provider value={ctx}>
          <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes} colorMode="system"
            minZoom={0.02} maxZoom={2.5} nodesDraggable={false} nodesConnectable={false} elementsSelectable
            onlyRenderVisibleElements={big} onNodeClick={onNodeClick} onEdgeClick={onEdgeClick}
            onPaneClick={() => { selectionActions(d).selectNode(null); store.set({ selEdges: null }); }}
            proOptions={{ hideAttribution: true }} zoomOnDoubleClick={false} deleteKeyCode={null} selectionKeyCode={null}
            multiSelectionKeyCode={null}>
            <Background gap={24} size={1} />
            <MiniMap pannable zoomable ariaLabel="minimap" nodeColor={(n) => {
              const i = (n as MapNode).data.idx;
              if (sel && !sel.nodes[i] && g.nodes[i]?.kind !== 'scenario') return MINIMAP_DIMMED; // not used by the selected tests
              return MINIMAP_COLORS[g.nodes[i]?.kind] ?? '#94a3b8';
            }}
              nodeStrokeWidth={0} maskColor="var(--minimap-mask)" />
            <Controls showInteractive={false} position="bottom-left" aria-label="zoom controls" />
          </ReactFlow>
        </MapContext.Provider>
      )}
      <Legend big={big} />
      {(busy || error) && (
        <div className={`layout-status${nodes.length ? ' corner' : ''}`} role="status" data-testid="layout-status">
          {error ? `layout failed: ${error}` : 'laying out…'}
        </div>
      )}
    </div>
  );
}
