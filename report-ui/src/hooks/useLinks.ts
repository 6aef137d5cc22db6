// Deep links (URL hash) and selection publishing for IDE plugins (window.SkeletonReplay + postMessage).
import { useEffect } from 'react';
import { bridgeConfig, bridgeFile } from './bridge';
import { useData } from '../state/context';
import { formatHash } from '../model/hash';
import { outcomeOf } from '../model/scenarios';
import type { UIState } from '../state/store';

export function useHashSync() {
  const { store, g, r } = useData();
  useEffect(() => {
    if (!r) return;
    let timer = 0;
    const write = () => {
      const s = store.get();
      const hash = formatHash({ view: s.view, pos: s.pos, node: s.selNode !== null ? g.nodes[s.selNode].id : null,
        event: s.selEvent, ghost: s.ghost, window: s.filters.window, scenarios: s.scenarios });
      if (hash !== location.hash) {
        try { history.replaceState(null, '', hash); } catch { /* sandboxed frames */ }
      }
    };
    const unsub = store.subscribe(() => { clearTimeout(timer); timer = window.setTimeout(write, 120); });
    write();
    return () => { unsub(); clearTimeout(timer); };
  }, [store, g, r]);
}

export interface PublishedScenario {
  id: number;
  name: string;
  outcome: string;
}

/**
 * What the report points at, for an editor to follow: the node (and event) the user selected, or,
 * once the replay moves, the current event and its callable. `source` says which.
 */
export interface PublishedSelection {
  source: 'selection' | 'replay';
  event: number | null;
  node_id: string | null;
  file: string | null;
  line: number | null;
  qualified_name: string | null;
  /** Replay position (events 0..pos-1 happened). */
  pos: number;
  /** Selected scenarios (pytest runs), [] when none. */
  scenarios: PublishedScenario[];
}

/** The posted message: `file` relative to the project root unless the page opted in to absolute paths. */
export type SelectionMessage = { type: 'skeleton-selection' } & PublishedSelection;

export function usePublishSelection() {
  const { store, g, snap, r, si } = useData();
  useEffect(() => {
    let last: UIState | null = null;
    let source: PublishedSelection['source'] = 'selection';
    let lastKey = '';
    let frame = 0;
    const root = snap.run.project_root.replace(/\/$/, '');
    // read once: the hash changes as the user moves, the query (set by the embedding page) does not
    const bridge = bridgeConfig(location.search, location.origin);
    const embedded = window.parent !== window;
    const send = () => {
      frame = 0;
      const s = store.get();
      let node = s.selNode;
      let event = s.selEvent;
      if (source === 'replay' && r) {
        event = s.pos > 0 && s.pos <= r.steps.count ? s.pos - 1 : null;
        node = event !== null ? r.steps.node[event] : null;
      }
      const n = node !== null ? g.nodes[node] : null;
      const file = n?.file ? (n.file.startsWith('/') ? n.file : `${root}/${n.file}`) : null;
      const scenarios = si ? s.scenarios.filter((id) => si.pos.has(id)).map((id) => {
        const sc = si.list[si.pos.get(id)!];
        return { id, name: sc.name, outcome: outcomeOf(sc) };
      }) : [];
      const selection: PublishedSelection = { source, event, node_id: n?.id ?? null, file, line: n?.line ?? null,
        qualified_name: n?.qualified_name ?? null, pos: s.pos, scenarios };
      const key = JSON.stringify(selection);
      if (key === lastKey) return;
      lastKey = key;
      // same page (IDE plugins that inject into the report): the full payload, absolute file path
      (window as unknown as { SkeletonReplay: unknown }).SkeletonReplay = { selection };
      if (!embedded || bridge.target === null) return;
      const message: SelectionMessage = { type: 'skeleton-selection', ...selection,
        file: bridgeFile(n?.file, root, bridge.absolute) };
      try {
        window.parent.postMessage(message, bridge.target);
      } catch { /* a parent that went away */ }
    };
    const onChange = () => {
      const s = store.get();
      if (last) {
        // the latest action wins: a click on a node or event, or a move of the replay
        if (s.selNode !== last.selNode || (s.selEvent !== last.selEvent && s.selEvent !== null)) source = 'selection';
        else if (s.pos !== last.pos) source = 'replay';
      }
      last = s;
      // at most one message per frame while playing or scrubbing
      if (!frame) frame = requestAnimationFrame(send);
    };
    last = store.get();
    send();
    const unsub = store.subscribe(onChange);
    return () => { unsub(); if (frame) cancelAnimationFrame(frame); };
  }, [store, g, snap, r, si]);
}
