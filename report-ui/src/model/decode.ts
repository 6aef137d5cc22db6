// Decoding of the compressed step columns: base64(zlib(little-endian typed array)), delta-encoded when the
// column says "encoding": "delta" (call_id and t: each value minus the one before, modulo 2**32).
import type { Column, Steps } from '../types/snapshot';

export type IntArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;

export interface StepColumns {
  count: number;
  kinds: string[];
  timeUnitNs: number;
  kind: IntArray;
  node: IntArray;
  edge: IntArray;
  thread: IntArray;
  depth: IntArray;
  callId: IntArray;
  t: IntArray;
}

export function base64ToBytes(b64: string): Uint8Array {
  const U8 = Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array };
  if (typeof U8.fromBase64 === 'function') return U8.fromBase64(b64);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function typed(dtype: Column['dtype'], raw: Uint8Array): IntArray {
  // copy into a fresh, aligned buffer so typed views are always legal
  const buf = raw.byteOffset % 4 === 0 ? raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) : raw.slice().buffer;
  const size = dtype === 'u8' ? 1 : dtype === 'u16' ? 2 : 4;
  if (!little && size > 1) {
    const b = new Uint8Array(buf);
    for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  }
  switch (dtype) {
    case 'u8': return new Uint8Array(buf);
    case 'u16': return new Uint16Array(buf);
    case 'u32': return new Uint32Array(buf);
    case 'i32': return new Int32Array(buf);
  }
}

export async function decodeColumn(col: Column, count: number): Promise<IntArray> {
  if (count === 0) return new Int32Array(0);
  const arr = typed(col.dtype, await inflate(base64ToBytes(col.data)));
  if (arr.length < count) throw new Error(`step column has ${arr.length} values, expected ${count}`);
  const out = arr.length === count ? arr : arr.subarray(0, count);
  if (col.encoding === 'delta') undelta(out);
  else if (col.encoding !== undefined) throw new Error(`step column encoding ${String(col.encoding)} is unknown`);
  return out;
}

// Prefix sum in place: typed-array stores wrap, so the sum is modulo 2**32 (2**16, 2**8) as written.
export function undelta(arr: IntArray): void {
  for (let i = 1; i < arr.length; i++) arr[i] += arr[i - 1];
}

export async function decodeSteps(steps: Steps): Promise<StepColumns> {
  const c = steps.columns;
  const n = steps.count;
  const [kind, node, edge, thread, depth, callId, t] = await Promise.all(
    [c.kind, c.node, c.edge, c.thread, c.depth, c.call_id, c.t].map((col) => decodeColumn(col, n)),
  );
  return { count: n, kinds: steps.kinds, timeUnitNs: steps.time_unit_ns, kind, node, edge, thread, depth, callId, t };
}
