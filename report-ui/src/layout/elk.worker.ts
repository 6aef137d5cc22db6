// The only file that imports ELK. Runs in an inline worker (see layout/client.ts).
import ELK from 'elkjs/lib/elk.bundled.js';

const elk = new ELK();

self.onmessage = async (ev: MessageEvent<{ id: number; graph: unknown }>) => {
  const { id, graph } = ev.data;
  try {
    const out = await elk.layout(graph as Parameters<typeof elk.layout>[0]);
    (self as unknown as Worker).postMessage({ id, out });
  } catch (err) {
    (self as unknown as Worker).postMessage({ id, error: String((err as Error)?.message ?? err) });
  }
};
