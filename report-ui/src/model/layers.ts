// Layering of a call graph: callers before callees. Cycles are broken deterministically (depth-first
// from the start nodes, then in index order; an edge back to a node on the stack is a back edge) and
// every other edge goes to a later layer (longest path). Pure.

export interface Layering {
  /** Layer per node (0 = first). */
  layer: Map<number, number>;
  /** Back edges as `${source},${target}`. */
  back: Set<string>;
  /** Strongly connected component id per node (a cycle when its size > 1). */
  scc: Map<number, number>;
}

/** `succ` maps a node to its callees (any order; sorted here for determinism). */
export function layering(nodes: readonly number[], succ: Map<number, Iterable<number>>, starts: readonly number[] = []): Layering {
  const inSet = new Set(nodes);
  const out = new Map<number, number[]>();
  for (const v of nodes) out.set(v, [...new Set(succ.get(v) ?? [])].filter((w) => inSet.has(w) && w !== v).sort((a, b) => a - b));
  const state = new Map<number, 1 | 2>(); // 1 on stack, 2 done
  const back = new Set<string>();
  const post: number[] = [];
  const roots = [...starts.filter((s) => inSet.has(s)), ...[...nodes].sort((a, b) => a - b)];
  for (const r of roots) {
    if (state.has(r)) continue;
    const stack: [number, number][] = [[r, 0]];
    state.set(r, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ws = out.get(top[0])!;
      if (top[1] < ws.length) {
        const w = ws[top[1]++];
        const st = state.get(w);
        if (st === 1) back.add(`${top[0]},${w}`);
        else if (st === undefined) { state.set(w, 1); stack.push([w, 0]); }
      } else {
        state.set(top[0], 2);
        post.push(top[0]);
        stack.pop();
      }
    }
  }
  // longest path over the forward edges, in reverse post-order (a topological order of them)
  const layer = new Map<number, number>();
  for (let k = post.length - 1; k >= 0; k--) {
    const v = post[k];
    if (!layer.has(v)) layer.set(v, 0);
    for (const w of out.get(v)!) {
      if (back.has(`${v},${w}`)) continue;
      layer.set(w, Math.max(layer.get(w) ?? 0, layer.get(v)! + 1));
    }
  }
  return { layer, back, scc: tarjan(nodes, out) };
}

function tarjan(nodes: readonly number[], out: Map<number, number[]>): Map<number, number> {
  const index = new Map<number, number>(), low = new Map<number, number>(), comp = new Map<number, number>();
  const st: number[] = [];
  const on = new Set<number>();
  let next = 0, ncomp = 0;
  for (const r of [...nodes].sort((a, b) => a - b)) {
    if (index.has(r)) continue;
    const work: [number, number][] = [[r, 0]];
    index.set(r, next); low.set(r, next); next++; st.push(r); on.add(r);
    while (work.length) {
      const top = work[work.length - 1];
      const [v] = top;
      const ws = out.get(v)!;
      if (top[1] < ws.length) {
        const w = ws[top[1]++];
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++; st.push(w); on.add(w);
          work.push([w, 0]);
        } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      } else {
        work.pop();
        if (work.length) { const u = work[work.length - 1][0]; low.set(u, Math.min(low.get(u)!, low.get(v)!)); }
        if (low.get(v) === index.get(v)) {
          let w: number;
          do { w = st.pop()!; on.delete(w); comp.set(w, ncomp); } while (w !== v);
          ncomp++;
        }
      }
    }
  }
  return comp;
}
