// "Copy as Mermaid": a Mermaid flowchart of what the map shows (its boxes, open boxes as subgraphs, the
// aggregated calls with their counts), written like `skeleton export --format mermaid`
// (skeleton_replay/export/diagrams.py, escape.py): ids n0, n1… and every label made inert. Pure.
import type { GraphIndex } from './graph';
import type { VisibleGraph } from './lod';
import { violationsOf } from './violations';

export const LABEL_LIMIT = 80;
const SAFE = /^[A-Za-z0-9 _.,:/=+?@()-]$/;
const LETTER = /^[\p{L}\p{N}]$/u;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function hex(c: string): string {
  const n = c.codePointAt(0)!;
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : n < 0x10000 ? `\\u${n.toString(16).padStart(4, '0')}` : `\\U${n.toString(16).padStart(8, '0')}`;
}

/** Program text on one line, capped: non-printable characters as visible escapes (`\n`, `\x1b`). */
export function oneLine(s: string, limit = LABEL_LIMIT): string {
  const cps = [...s];
  const clipped = cps.length <= limit ? cps : [...cps.slice(0, limit - 1), '…'];
  return clipped.map((c) => (c === ' ' || !/[\p{C}\p{Z}]/u.test(c) ? c : NAMED[c] ?? hex(c))).join('');
}

/** Text that can only be the content of one quoted Mermaid label: every character outside letters,
 * digits and ` _.,:/=+?@()-` becomes an entity code (`#34;` for `"`), which Mermaid renders as the character. */
export function mermaidLabel(s: string, limit = LABEL_LIMIT): string {
  return [...oneLine(s, limit)].map((c) => (SAFE.test(c) || (c.codePointAt(0)! > 127 && LETTER.test(c)) ? c : `#${c.codePointAt(0)};`)).join('');
}

/** A `%%` comment line: printable ASCII only. */
export function mermaidComment(s: string): string {
  return [...oneLine(s, 300)].map((c) => { const n = c.codePointAt(0)!; return n >= 32 && n < 127 ? c : `\\u${n.toString(16).padStart(4, '0')}`; }).join('');
}

/** The flowchart of the visible boxes (`shown`: drawn now) and the calls between them. */
export function viewToMermaid(g: GraphIndex, vis: VisibleGraph, shown: (i: number) => boolean, header: string[] = []): string {
  const boxes = vis.nodes.filter((i) => i >= 0 && i < g.nodes.length && shown(i));
  const isBox = new Set(boxes);
  const id = new Map(boxes.map((i, k) => [i, `n${k}`]));
  // the nearest box holding each box (its subgraph)
  const holder = new Map<number, number>();
  const kids = new Map<number, number[]>();
  for (const i of boxes) {
    let p = g.parent[i];
    for (let k = 0; p >= 0 && !isBox.has(p) && k < 256; k++) p = g.parent[p];
    if (p >= 0 && isBox.has(p)) { holder.set(i, p); const l = kids.get(p); if (l) l.push(i); else kids.set(p, [i]); }
  }
  const lines = ['flowchart LR', ...header.map((h) => `  %% ${mermaidComment(h)}`)];
  const label = (i: number) => mermaidLabel(g.nodes[i].label);
  const emit = (i: number, depth: number) => {
    const pad = '  '.repeat(depth);
    const inner = kids.get(i);
    if (!inner) { lines.push(`${pad}${id.get(i)}["${label(i)}"]`); return; }
    lines.push(`${pad}subgraph ${id.get(i)}["${label(i)}"]`);
    for (const c of inner) emit(c, depth + 1);
    lines.push(`${pad}end`);
  };
  for (const i of boxes) if (!holder.has(i)) emit(i, 1);
  const red: number[] = [];
  let link = 0;
  for (const e of vis.edges) {
    const a = id.get(e.source), b = id.get(e.target);
    if (a === undefined || b === undefined) continue;
    lines.push(e.count > 0 ? `  ${a} -->|${e.count}| ${b}` : `  ${a} --> ${b}`);
    if (violationsOf(g.viol.byEdge, e.members).length) red.push(link);
    link++;
  }
  if (red.length) lines.push(`  linkStyle ${red.join(',')} stroke:#dc2626,stroke-width:2px`);
  return lines.join('\n') + '\n';
}
