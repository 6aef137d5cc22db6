// The report shell: decodes steps, owns the store, lays out header, views, side panel and replay bar.
import { useEffect, useMemo, useState } from 'react';
import type { Snapshot } from './types/snapshot';
import { buildGraphIndex } from './model/graph';
import { decodeSteps } from './model/decode';
import { activity, buildReplayIndex, windowReveals, type ReplayIndex } from './model/replay';
import { nodeMask } from './model/filter';
import { parseHash } from './model/hash';
import { clampPos, eventRanges, lastPos, positionRanges } from './model/ranges';
import { buildScenarioIndex, knownIds, scenarioRanges, selectionReveals, selectScenarios } from './model/scenarios';
import { isBigGraph } from './model/layoutGraph';
import { openingFocus } from './model/overview';
import { createStore, useStoreValue } from './state/store';
import { DataContext, useData as useDataStore, type AppData } from './state/context';
import { Header } from './components/Header';
import { Toolbar } from './components/Toolbar';
import { MapView } from './components/map/MapView';
import { SequenceView } from './components/SequenceView';
import { EventsView } from './components/EventsView';
import { MatrixView } from './components/MatrixView';
import { SidePanel } from './components/SidePanel';
import { ScenarioPicker } from './components/scenarios/ScenarioPicker';
import { ReplayBar } from './components/ReplayBar';
import { ChangesPanel } from './diff/ChangesPanel';
import { useKeyboard, usePlayback } from './hooks/usePlayback';
import { useHashSync, usePublishSelection } from './hooks/useLinks';

export function App({ snapshot }: { snapshot: Snapshot }) {
  const g = useMemo(() => buildGraphIndex(snapshot), [snapshot]);
  const big = isBigGraph(g);
  const si = useMemo(() => buildScenarioIndex(snapshot, g), [snapshot, g]);
  const store = useMemo(() => {
    const link = parseHash(location.hash);
    const node = link.node !== null ? g.byId.get(link.node) ?? null : null;
    const count = snapshot.steps.count;
    const scenarios = si ? knownIds(si, link.scenarios) : [];
    // a deep link to tests without a position opens at the end of their steps
    const end = scenarios.length && si ? lastPos(positionRanges(count, link.window, scenarioRanges(si, scenarios))) : count;
    const pos = Math.min(count, link.pos ?? (link.event !== null ? link.event + 1 : end));
    return createStore({ view: link.view, ghost: link.ghost, selNode: node, center: big ? node ?? openingFocus(g) : null, pos, scenarios,
      filters: { modules: [], thread: null, hiddenKinds: [], hideInternal: false, hideHarness: false, window: link.window },
      focus: node !== null ? { node, n: 1 } : null });
  }, [g, big, snapshot, si]);
  const [r, setR] = useState<ReplayIndex | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    // let the header and the map paint first: decoding millions of steps takes a moment
    new Promise((res) => setTimeout(res, 50))
      .then(() => decodeSteps(snapshot.steps))
      .then((steps) => {
        if (!live) return null;
        const ri = buildReplayIndex(steps);
        const link = parseHash(location.hash);
        const count = steps.count;
        store.set({ selEvent: link.event !== null && link.event < count ? link.event : null });
        setR(ri);
      })
      .catch((err) => live && setError(`Could not decode the recorded steps: ${(err as Error).message}`));
    return () => { live = false; };
  }, [snapshot, store]);

  const filters = useStoreValue(store, (s) => s.filters);
  const selIds = useStoreValue(store, (s) => s.scenarios);
  const act = useMemo(() => (r ? activity(r, g, 480) : null), [r, g]);
  const reveal = useMemo(() => {
    if (!r || !filters.window) return { nodes: g.revealAt, edges: g.edgeRevealAt };
    return windowReveals(r, g, filters.window[0], filters.window[1]);
  }, [r, g, filters.window]);
  const mask = useMemo(() => nodeMask(g, filters, si?.harness ?? null), [g, filters, si]);
  const sel = useMemo(() => (si && selIds.length ? selectScenarios(si, selIds) : null), [si, selIds]);
  const count = snapshot.steps.count;
  const ranges = useMemo(() => ({
    events: eventRanges(count, filters.window, sel?.ranges ?? null),
    positions: positionRanges(count, filters.window, sel?.ranges ?? null),
  }), [count, filters.window, sel]);
  const lit = useMemo(() => (sel ? selectionReveals(r, g, sel, ranges.events ?? []) : null), [r, g, sel, ranges]);
  const data: AppData = useMemo(() => ({ snap: snapshot, g, r, activity: act, big, nodeReveal: reveal.nodes,
    edgeReveal: reveal.edges, mask, store, si, sel, eventRanges: ranges.events, posRanges: ranges.positions,
    litNodes: lit?.nodes ?? null, litEdges: lit?.edges ?? null }),
  [snapshot, g, r, act, big, reveal, mask, store, si, sel, ranges, lit]);
  return (
    <DataContext.Provider value={data}>
      <Shell error={error} />
    </DataContext.Provider>
  );
}

function Shell({ error }: { error: string | null }) {
  const { si, store, posRanges, snap } = useDataStore();
  const picker = useStoreValue(store, (s) => s.picker);
  const diff = !!snap.diff; // a diff report: the Changes panel takes the picker's place
  // keep the replay inside the allowed positions when a window or a test selection changes them
  useEffect(() => { store.set((s) => ({ pos: clampPos(posRanges, s.pos) })); }, [store, posRanges]);
  usePlayback();
  useKeyboard();
  useHashSync();
  usePublishSelection();
  return (
    <div className="app" data-testid="app">
      <Header />
      <Toolbar />
      {error && <div className="banner banner-error" role="alert">{error}</div>}
      <div className={`main${(si && picker) || diff ? ' with-picker' : ''}`}>
        {diff ? <ChangesPanel /> : si && picker && <ScenarioPicker />}
        <ViewArea />
        <SidePanel />
      </div>
      <ReplayBar />
    </div>
  );
}

function ViewArea() {
  const { store } = useDataStore();
  const view = useStoreValue(store, (s) => s.view);
  return (
    <main className="view-area" aria-label={`${view} view`}>
      {view === 'map' && <MapView />}
      {view === 'sequence' && <SequenceView />}
      {view === 'events' && <EventsView />}
      {view === 'matrix' && <MatrixView />}
    </main>
  );
}

