// Where the selection bridge posts, and which paths it sends (docs/report.md#selection-bridge). Pure.
//
// By default the report posts only to an embedding page of its own origin (a report served over
// http(s) and embedded by the same site); a report opened from file:// has no origin to target, so
// it posts nothing. An embedding page opts in through the report's URL query (it sets the iframe's
// src): `?bridge=<origin>` (`https://ide.example`) or `?bridge=*` (any parent: file:// pages and
// IDE webviews, whose origins cannot be targeted), plus `&bridge-paths=absolute` for absolute
// file paths instead of paths relative to the project root.

export interface BridgeConfig {
  /** postMessage targetOrigin, or null: post nothing. */
  target: string | null;
  /** Send absolute file paths (opt-in), else paths relative to the project root. */
  absolute: boolean;
}

/** `search`: the report's location.search; `origin`: its location.origin ('null' for file://). */
export function bridgeConfig(search: string, origin: string): BridgeConfig {
  const p = new URLSearchParams(search);
  const asked = p.get('bridge');
  const absolute = p.get('bridge-paths') === 'absolute';
  if (asked === null || asked === '') return { target: isOrigin(origin) ? origin : null, absolute: false };
  if (asked === '*') return { target: '*', absolute };
  return { target: isOrigin(asked) ? asked : null, absolute };
}

/** An http(s) origin written exactly as the browser writes it (`https://host[:port]`, nothing after). */
function isOrigin(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === v;
  } catch {
    return false;
  }
}

/**
 * A node's file for the posted payload. Snapshot files are relative to the project root (or absolute
 * for code outside it). Relative mode never sends an absolute path: outside the root gives null.
 */
export function bridgeFile(file: string | null | undefined, root: string, absolute: boolean): string | null {
  if (!file) return null;
  const base = root.replace(/\/+$/, '');
  const isAbs = file.startsWith('/');
  if (absolute) return isAbs ? file : `${base}/${file}`;
  if (!isAbs) return file;
  return base && file.startsWith(`${base}/`) ? file.slice(base.length + 1) : null;
}
