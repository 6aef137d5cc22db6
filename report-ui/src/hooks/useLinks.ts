// Deep links (URL hash) and selection publishing for IDE plugins (window.SkeletonReplay + postMessage).
import { useEffect } from 'react';
import { useData } from '../state/context';
import { formatHash } from '../model/hash';

export function useHashSync() {
  const { store, g, r } = useData();
  useEffect(() => {
    if (!r) return;
    let timer = 0;
    const write = () => {
      const s = store.get();
      const hash = formatHash({ view: s.view, pos: s.pos, node: s.selNode !== null ? g.nodes[s.selNode].id : null,
        event: s.selEvent, ghost: s.ghost, window: s.filters.window });
      if (hash !== location.hash) {
        try { history.replaceState(null, '', hash); } catch { /* sandboxed frames */ }
      }
    };
    const unsub = store.subscribe(() => { clearTimeout(timer); timer = window.setTimeout(write, 120); });
    write();
    return () => { unsub(); clearTimeout(timer); };
  }, [store, g, r]);
}

export interface PublishedSelection {
  event: number | null;
  node_id: string | null;
  file: string | null;
  line: number | null;
  qualified_name: string | null;
}

export function usePublishSelection() {
  const { store, g, snap } = useData();
  useEffect(() => {
    let lastKey = '';
    const publish = () => {
      const s = store.get();
      const key = `${s.selNode}|${s.selEvent}`;
      if (key === lastKey) return;
      lastKey = key;
      const n = s.selNode !== null ? g.nodes[s.selNode] : null;
      const file = n?.file ? (n.file.startsWith('/') ? n.file : `${snap.run.project_root.replace(/\/$/, '')}/${n.file}`) : null;
      const selection: PublishedSelection = { event: s.selEvent, node_id: n?.id ?? null, file, line: n?.line ?? null,
        qualified_name: n?.qualified_name ?? null };
      (window as unknown as { SkeletonReplay: unknown }).SkeletonReplay = { selection };
      try {
        window.parent.postMessage({ type: 'skeleton-selection', ...selection }, '*');
      } catch { /* cross-origin parents */ }
    };
    publish();
    return store.subscribe(publish);
  }, [store, g, snap]);
}
