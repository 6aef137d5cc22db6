// Deep links: view, selection, replay position, ghost mode, window and scenarios in the URL hash. Pure.
export type View = 'map' | 'sequence' | 'events' | 'matrix';

export interface LinkState {
  view: View;
  node: string | null;
  event: number | null;
  pos: number | null;
  ghost: boolean;
  window: [number, number] | null;
  /** Selected scenario ids (`scenario=3,7`), sorted and unique; [] for none. */
  scenarios: number[];
}

export const DEFAULT_LINK: LinkState = { view: 'map', node: null, event: null, pos: null, ghost: false, window: null, scenarios: [] };

const VIEWS: View[] = ['map', 'sequence', 'events', 'matrix'];

export function parseHash(hash: string): LinkState {
  const out: LinkState = { ...DEFAULT_LINK };
  const h = hash.replace(/^#/, '');
  if (!h) return out;
  const p = new URLSearchParams(h);
  const view = p.get('view');
  if (view && (VIEWS as string[]).includes(view)) out.view = view as View;
  out.node = p.get('node');
  const int = (k: string) => {
    const v = p.get(k);
    if (v === null || !/^\d+$/.test(v)) return null;
    return Number(v);
  };
  out.event = int('event');
  out.pos = int('pos');
  out.ghost = p.get('ghost') === '1';
  const w = p.get('window');
  const m = w ? /^(\d+)-(\d+)$/.exec(w) : null;
  if (m && Number(m[1]) <= Number(m[2])) out.window = [Number(m[1]), Number(m[2])];
  out.scenarios = parseIds(p.get('scenario'));
  return out;
}

/** `3,7,7,x` -> [3, 7]: non-negative integers, sorted, unique; anything else is ignored. */
export function parseIds(v: string | null): number[] {
  if (!v) return [];
  const ids = v.split(',').map((x) => x.trim()).filter((x) => /^\d{1,9}$/.test(x)).map(Number);
  return [...new Set(ids)].sort((a, b) => a - b);
}

export function formatHash(s: LinkState): string {
  const p = new URLSearchParams();
  p.set('view', s.view);
  if (s.pos !== null) p.set('pos', String(s.pos));
  if (s.node) p.set('node', s.node);
  if (s.event !== null) p.set('event', String(s.event));
  if (s.ghost) p.set('ghost', '1');
  if (s.window) p.set('window', `${s.window[0]}-${s.window[1]}`);
  if (s.scenarios.length) p.set('scenario', s.scenarios.join(','));
  // commas stay readable (`scenario=3,7`); a literal comma decodes the same as %2C
  return '#' + p.toString().replace(/%2C/gi, ',');
}
