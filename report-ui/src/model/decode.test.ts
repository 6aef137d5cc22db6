import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { Column } from '../types/snapshot';
import { decodeColumn } from './decode';

function column(values: number[], encoding?: 'delta'): Column {
  const raw = new Uint8Array(new Uint32Array(values).buffer);
  const data = Buffer.from(deflateSync(raw)).toString('base64');
  return encoding ? { dtype: 'u32', data, encoding } : { dtype: 'u32', data };
}

// each value minus the one before (the first minus 0), modulo 2**32, as model/steps.py writes it
function deltas(values: number[]): number[] {
  return values.map((v, i) => (v - (i ? values[i - 1] : 0)) >>> 0);
}

describe('decodeColumn', () => {
  const values = [0, 1, 2, 2, 1, 7, 4294967295, 3, 4294967294, 0];

  it('reads a plain column as written (snapshots without "encoding")', async () => {
    expect(Array.from(await decodeColumn(column(values), values.length))).toEqual(values);
  });

  it('prefix-sums a delta column modulo 2**32', async () => {
    const col = column(deltas(values), 'delta');
    expect(Array.from(await decodeColumn(col, values.length))).toEqual(values);
  });

  it('rejects an encoding it does not know', async () => {
    const col = { ...column(values), encoding: 'rle' } as unknown as Column;
    await expect(decodeColumn(col, values.length)).rejects.toThrow(/encoding/);
  });
});
