// Fuzzy search over node labels and qualified names. Pure.
import type { VNode as Node } from './levels';

/** Score of `query` as a subsequence of `text` (higher is better), or -1 when it does not match. */
export function fuzzyScore(query: string, text: string): number {
  const q = query.toLowerCase();
  const t = text.toLowerCase();
  if (!q) return 0;
  const sub = t.indexOf(q);
  if (sub >= 0) return 1000 - sub - (t.length - q.length) * 0.1 + (sub === 0 || /[.:#_ ]/.test(t[sub - 1]) ? 200 : 0);
  let score = 0, ti = 0, run = 0;
  for (let qi = 0; qi < q.length; qi++) {
    const c = q[qi];
    const found = t.indexOf(c, ti);
    if (found < 0) return -1;
    run = found === ti ? run + 1 : 0;
    score += 10 + run * 5 - Math.min(found - ti, 10) + (found === 0 || /[.:#_ ]/.test(t[found - 1]) ? 8 : 0);
    ti = found + 1;
  }
  return score - t.length * 0.1;
}

export interface SearchHit { index: number; score: number }

/** `alias(i)`: another name the node answers to (e.g. `Class#2.method`, telling apart a method's instances). */
export function searchNodes(nodes: Node[], query: string, limit = 20, accept?: (i: number) => boolean,
  alias?: (i: number) => string | null): SearchHit[] {
  const q = query.trim();
  if (!q) return [];
  const hits: SearchHit[] = [];
  for (let i = 0; i < nodes.length; i++) {
    if (accept && !accept(i)) continue;
    const n = nodes[i];
    const a = alias?.(i);
    const s = Math.max(fuzzyScore(q, n.label), fuzzyScore(q, n.qualified_name) - 5, a ? fuzzyScore(q, a) : -1);
    if (s >= 0) hits.push({ index: i, score: s });
  }
  hits.sort((a, b) => b.score - a.score || a.index - b.index);
  return hits.slice(0, limit);
}
