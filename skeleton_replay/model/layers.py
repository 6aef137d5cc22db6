"""Dependency direction of the observed module edges: layers (callers before callees) and cycles."""

from __future__ import annotations


def layers(edges: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    """(layer of each module, strongly connected component of each module).

    Layer 0 holds modules nothing calls; a callee is one layer below its deepest caller, with the
    modules of a cycle sharing one layer (the cycle's edges are the ones inside one component)."""
    graph: dict[str, list[str]] = {}
    for s, t in edges:
        graph.setdefault(s, []).append(t)
        graph.setdefault(t, [])
    comp = _components(graph)
    cgraph: dict[int, set[int]] = {}
    indeg: dict[int, int] = dict.fromkeys(set(comp.values()), 0)
    for s, ts in graph.items():
        for t in ts:
            a, b = comp[s], comp[t]
            if a != b and b not in cgraph.setdefault(a, set()):
                cgraph[a].add(b)
                indeg[b] += 1
    level = dict.fromkeys(indeg, 0)
    ready = sorted(c for c, d in indeg.items() if d == 0)
    while ready:  # Kahn's order on the acyclic graph of components: longest path from a source
        c = ready.pop()
        for d in sorted(cgraph.get(c, ())):
            level[d] = max(level[d], level[c] + 1)
            indeg[d] -= 1
            if indeg[d] == 0:
                ready.append(d)
    return {m: level[comp[m]] for m in graph}, comp


def _components(graph: dict[str, list[str]]) -> dict[str, int]:
    """Tarjan's strongly connected components, iterative (deep module chains must not recurse)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    comp: dict[str, int] = {}
    counter = 0
    ncomp = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            succ = graph[v]
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                c = ncomp
                ncomp += 1
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp[w] = c
                    if w == v:
                        break
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return comp
