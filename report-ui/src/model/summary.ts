// Readable one-line text for value Summary objects, e.g. `list(len=3) [1, 2, 3…]`. Pure.
import type { Summary } from '../types/snapshot';

const MAX = 160;

function isSummary(v: unknown): v is Summary {
  return typeof v === 'object' && v !== null && typeof (v as Summary).type === 'string';
}

function scalar(s: Summary): string | null {
  if (!('value' in s)) return null;
  const v = s.value;
  if (v === null) return s.type === 'NoneType' ? 'None' : 'null';
  if (typeof v === 'string') return s.type === 'str' ? JSON.stringify(v) : v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  try { return JSON.stringify(v); } catch { return String(v); }
}

export function formatSummary(s: unknown, depth = 0): string {
  if (!isSummary(s)) return s === undefined ? '' : clip(safeJson(s));
  if (s.redacted) return `<redacted ${s.type}${s.len != null ? ` len=${s.len}` : ''}>`;
  const sc = scalar(s);
  const more = s.truncated || (s.len != null && (s.items?.length ?? s.entries?.length ?? 0) < s.len);
  if (s.items) {
    const inner = depth > 2 ? '…' : s.items.map((x) => formatSummary(x, depth + 1)).join(', ') + (more ? '…' : '');
    const [o, c] = s.type === 'tuple' ? ['(', ')'] : s.type === 'set' || s.type === 'frozenset' ? ['{', '}'] : ['[', ']'];
    return clip(`${s.type}${s.len != null ? `(len=${s.len})` : ''} ${o}${inner}${c}`);
  }
  if (s.entries) {
    const inner = depth > 2 ? '…' : s.entries
      .map((kv) => `${formatSummary(kv?.[0], depth + 1)}: ${formatSummary(kv?.[1], depth + 1)}`).join(', ') + (more ? '…' : '');
    return clip(`${s.type}${s.len != null ? `(len=${s.len})` : ''} {${inner}}`);
  }
  let out: string;
  if (sc !== null) {
    out = s.type === 'str' || s.type === 'int' || s.type === 'float' || s.type === 'bool' || s.type === 'NoneType'
      ? sc + (s.truncated ? '…' : '') + (s.type === 'str' && s.truncated && s.len != null ? ` (len=${s.len})` : '')
      : `${s.type}: ${sc}`;
  } else if (s.id != null) out = `<${s.type} #${s.id}>`;
  else out = `<${s.type}${s.len != null ? ` len=${s.len}` : ''}>`;
  if (s.note) out += ` (${s.note})`;
  return clip(out);
}

function safeJson(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

function clip(t: string): string {
  return t.length > MAX ? t.slice(0, MAX - 1) + '…' : t;
}

export function formatNs(ns: number | undefined | null): string {
  if (ns == null || !Number.isFinite(ns)) return '–';
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 1 : 0)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function formatCount(n: number): string {
  if (n < 1e4) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e5 ? 1 : 0)}k`;
  return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
}

/** A test's or run's duration in seconds: `0.8 ms`, `12 ms`, `1.24 s`, `2 min 5 s`; `–` when unknown. */
export function formatSeconds(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s)) return '–';
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
