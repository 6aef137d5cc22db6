// Layout client: posts ELK graphs to the inline worker and caches results by key.
import ElkWorker from './elk.worker.ts?worker&inline';
import { readBoxes, type Boxes, type ElkIn } from '../model/layoutGraph';

let worker: Worker | null = null;
let seq = 0;
const pending = new Map<number, { resolve: (b: ElkIn) => void; reject: (e: Error) => void }>();
const cache = new Map<string, Promise<Boxes>>();

function getWorker(): Worker {
  if (worker) return worker;
  worker = new ElkWorker();
  worker.onmessage = (ev: MessageEvent<{ id: number; out?: ElkIn; error?: string }>) => {
    const p = pending.get(ev.data.id);
    if (!p) return;
    pending.delete(ev.data.id);
    if (ev.data.error !== undefined) p.reject(new Error(ev.data.error));
    else p.resolve(ev.data.out as ElkIn);
  };
  worker.onerror = (ev) => {
    for (const p of pending.values()) p.reject(new Error(ev.message || 'layout worker failed'));
    pending.clear();
  };
  return worker;
}

export function layoutRaw(graph: ElkIn): Promise<ElkIn> {
  const id = ++seq;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ id, graph });
  });
}

/** Lay out `graph` once per key; returns boxes relative to their parents. */
export function layout(key: string, graph: () => ElkIn): Promise<Boxes> {
  let p = cache.get(key);
  if (!p) {
    p = layoutRaw(graph()).then((out) => readBoxes(out));
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
