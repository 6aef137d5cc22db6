// The architecture map: React Flow over the layout, revealed step by step. Small runs show the whole
// hierarchy; big runs show the overview or the focus view of the selected node (see useBigLayout).
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, useReactFlow, type Node as RFNode } from '@xyflow/react';
import { selectionActions, useData, useUI } from '../../state/context';
import { NEVER } from '../../model/graph';
import { useMapLayout, type MapLayout, type MapNode } from './useMapLayout';
import { useBigLayout } from './useBigLayout';
import { MapContext, type MapCtx } from './MapContext';
import { nodeTypes } from './nodes';
import { ArrowDefs, edgeTypes, type CallEdgeT } from './edges';
import { Legend, LEGEND_OVERLAY_MIN, MINIMAP_OPEN_MIN, useNarrow } from './Legend';
import { Breadcrumbs } from './Breadcrumbs';
import { fitWithFloor } from './fit';
import { MermaidButton } from './MermaidButton';

/** Lowest zoom a fit may choose: the labels stay at 10 px or more on screen (overview 17 px, focus and
 * the whole map of a small run 12 px). */
export const FLOOR = { overview: 0.6, focus: 0.86, all: 0.84 };

export function MapView() {
  const { big } = useData();
  return (
    <ReactFlowProvider>
      {big ? <BigMap /> : <SmallMap />}
    </ReactFlowProvider>
  );
}

const MINIMAP_COLORS: Record<string, string> = {
  scenario: '#475569', package: 'rgba(148,163,184,.25)', module: 'rgba(59,130,246,.18)', class: 'rgba(168,85,247,.22)',
  instance: 'rgba(20,184,166,.22)', group: 'rgba(20,184,166,.3)', function: '#f59e0b', method: '#14b8a6', agg: '#14b8a6',
};

const MINIMAP_DIMMED = 'rgba(148,163,184,.12)';
const MINIMAP_SIZE = { width: 200, height: 100 };

/** Small runs: the whole hierarchy, laid out once. */
function SmallMap() {
  const { g } = useData();
  const lay = useMapLayout(g);
  const rf = useReactFlow<MapNode>();
  const scenario = useMemo(() => g.roots.find((r) => g.nodes[r].kind === 'scenario'), [g]);
  const fit = useCallback(() => fitWithFloor(rf, FLOOR.all, scenario !== undefined ? g.nodes[scenario].id : null, 'all'), [rf, g, scenario]);
  const fitted = useRef(false);
  useEffect(() => {
    if (!lay.version || fitted.current) return;
    fitted.current = true;
    requestAnimationFrame(() => requestAnimationFrame(fit));
  }, [lay.version, fit]);
  const fitReq = useUI((s) => s.fitRequest);
  useEffect(() => { if (fitReq) fit(); }, [fitReq, fit]);
  const focus = useUI((s) => s.focus);
  useEffect(() => {
    if (!focus || !lay.vis) return;
    const id = g.nodes[lay.vis.rep[focus.node]]?.id;
    requestAnimationFrame(() => {
      const n = id ? rf.getInternalNode(id) : undefined;
      if (!n) return;
      const p = n.internals.positionAbsolute;
      const w = n.measured.width ?? n.width ?? 100, h = n.measured.height ?? n.height ?? 40;
      void rf.setCenter(p.x + w / 2, p.y + h / 2, { zoom: Math.max(rf.getZoom(), 1), duration: 350 });
    });
  }, [focus, lay.vis, lay.version, g, rf]);
  return <MapCanvas lay={lay} />;
}

/** Big runs: the overview, or the neighbourhood of the node in focus; the selection moves the focus. */
function BigMap() {
  const { g, store } = useData();
  const center = useUI((s) => s.center);
  const hops = useUI((s) => s.hops);
  const selNode = useUI((s) => s.selNode);
  useEffect(() => { if (selNode !== null && selNode < g.nodes.length) store.set({ center: selNode }); }, [selNode, store, g]);
  const lay = useBigLayout(g, center, hops);
  const rf = useReactFlow<MapNode>();
  const fit = useCallback(() => fitWithFloor(rf, FLOOR[lay.mode], lay.anchor, lay.mode), [rf, lay.mode, lay.anchor]);
  useEffect(() => {
    if (!lay.version) return;
    // after React Flow has measured the new nodes
    let k = 0;
    const tick = () => { if (rf.getNodes().length && (++k > 1)) fit(); else requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }, [lay.version, fit, rf]);
  const fitReq = useUI((s) => s.fitRequest);
  useEffect(() => { if (fitReq) fit(); }, [fitReq, fit]);
  return (
    <MapCanvas lay={lay} mode={lay.mode}>
      <Breadcrumbs />
    </MapCanvas>
  );
}

function MapCanvas({ lay, mode, children }: { lay: MapLayout; mode?: 'overview' | 'focus'; children?: ReactNode }) {
  const d = useData();
  const { g, store, big, edgeReveal, litEdges, sel } = d;
  const { nodes, vis, busy, error } = lay;
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
    return { vis, visEdgeReveal, visEdgeLit };
  }, [vis, edgeReveal, litEdges]);
  const edges: CallEdgeT[] = useMemo(() => (vis ? vis.edges.map((e, k) => ({
    id: e.id, source: g.nodes[e.source].id, target: g.nodes[e.target].id, type: 'call' as const, data: { k },
    selectable: true, focusable: false, ...(mode ? { zIndex: 1 } : {}),
  })) : []), [vis, g, mode]);

  const onNodeClick = useCallback((_: unknown, node: RFNode) => {
    const idx = (node as MapNode).data.idx;
    if (idx >= 0) selectionActions(d).selectNode(idx);
  }, [d]);

  const onEdgeClick = useCallback((_: unknown, edge: CallEdgeT) => {
    const e = vis?.edges[edge.data?.k ?? -1];
    if (e) selectionActions(d).selectEdges(e.members);
  }, [d, vis]);

  // a narrow map (a pytest run's Tests sidebar on a small screen) gets its legend in a strip below it, with a
  // toggle of the minimap; a map too narrow for the minimap (it would hide boxes) opens with it closed
  const mapRef = useRef<HTMLDivElement>(null);
  const narrow = useNarrow(mapRef, LEGEND_OVERLAY_MIN);
  const tight = useNarrow(mapRef, MINIMAP_OPEN_MIN);
  // the user's choice (null: none yet), forgotten when the map crosses MINIMAP_OPEN_MIN
  const [minimapChoice, setMinimapChoice] = useState<boolean | null>(null);
  useEffect(() => setMinimapChoice(null), [tight]);
  const showMinimap = !narrow || (minimapChoice ?? !tight);
  const minimapToggle = useMemo(() => ({ open: showMinimap, toggle: () => setMinimapChoice(!showMinimap) }), [showMinimap]);

  return (
    <div ref={mapRef} className={`map${narrow ? ' legend-strip' : ''}`} data-testid="view-map" data-layout={busy ? 'busy' : 'ready'}
      data-big={String(big)} data-mode={mode ?? 'all'} data-minimap={showMinimap ? 'shown' : 'closed'}>
      <ArrowDefs />
      {ctx && (
        <MapContext.Provider value={ctx}>
          <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes} colorMode="system"
            minZoom={0.05} maxZoom={2.5} nodesDraggable={false} nodesConnectable={false} elementsSelectable
            onlyRenderVisibleElements={false} zIndexMode={mode ? 'manual' : undefined} onNodeClick={onNodeClick} onEdgeClick={onEdgeClick}
            onPaneClick={() => { selectionActions(d).selectNode(null); store.set({ selEdges: null }); }}
            proOptions={{ hideAttribution: true }} zoomOnDoubleClick={false} deleteKeyCode={null} selectionKeyCode={null}
            multiSelectionKeyCode={null}>
            <Background gap={24} size={1} />
            {/* wide and low: the layouts are wide (callers left, callees right), and the fit keeps boxes clear of it */}
            {showMinimap && <MiniMap pannable zoomable ariaLabel="minimap" style={MINIMAP_SIZE} nodeColor={(n) => {
              const i = (n as MapNode).data.idx;
              if (i < 0) return 'transparent';
              if (sel && !sel.nodes[i] && g.nodes[i]?.kind !== 'scenario') return MINIMAP_DIMMED; // not used by the selected tests
              return MINIMAP_COLORS[g.nodes[i]?.kind] ?? '#94a3b8';
            }}
              nodeStrokeWidth={0} maskColor="var(--minimap-mask)" />}
            <Controls showInteractive={false} position="bottom-left" aria-label="zoom controls" />
          </ReactFlow>
          <MermaidButton />
        </MapContext.Provider>
      )}
      {children}
      <Legend big={big} compact={narrow} minimap={narrow ? minimapToggle : undefined} />
      {(busy || error) && (
        <div className={`layout-status${nodes.length ? ' corner' : ''}`} role="status" data-testid="layout-status">
          {error ? `layout failed: ${error}` : 'laying out…'}
        </div>
      )}
    </div>
  );
}
