// Levels of detail: package → module → instance group → instance → method. Pure, no React.
//
// The snapshot's tree is augmented with synthetic nodes, appended after the snapshot's own (step
// columns index nodes by position, so those positions never move):
// - a module that holds submodules becomes a package; its own code (the package's __init__) moves
//   into a module `init:<name>` inside it, so the package shows its submodules next to it;
// - instances of one class in one module fold into an instance group `group:<module>.<Class>`
//   (label `Class ×N`), holding the instances;
// - each method name of a group gets an aggregate `agg:<module>.<Class>.<name>` standing for that
//   method on every instance of the group (shown while the group is not opened one by one).
import type { Edge, Node, NodeKind } from '../types/snapshot';

export type VKind = NodeKind | 'group' | 'agg' | 'boundary';
/** A snapshot node, or a synthetic one (`synthetic` says which). */
export type VNode = Omit<Node, 'kind'> & {
  kind: VKind; synthetic?: 'init' | 'group' | 'agg' | 'boundary'; members?: string[];
  /** An I/O boundary: what kind of outside (file, network, subprocess, database) and the operations seen. */
  io?: { kind: string; target: string; ops: string[] };
};

const CODE_PARENT = new Set<string>(['module', 'package']);

function sum(a: (number | null | undefined)[]): number {
  let s = 0;
  for (const v of a) s += v ?? 0;
  return s;
}

function minOrNull(a: (number | null | undefined)[]): number | null {
  let m: number | null = null;
  for (const v of a) if (v != null && (m === null || v < m)) m = v;
  return m;
}

function maxOrNull(a: (number | null | undefined)[]): number | null {
  let m: number | null = null;
  for (const v of a) if (v != null && (m === null || v > m)) m = v;
  return m;
}

/** The snapshot nodes (copied where they change) followed by the synthetic ones. */
export function augmentNodes(nodes: readonly Node[]): VNode[] {
  const out: VNode[] = nodes.map((n) => n as VNode);
  const at = new Map<string, number>();
  out.forEach((n, i) => at.set(n.id, i));
  const kids = new Map<string, number[]>();
  out.forEach((n, i) => {
    if (n.parent == null || !at.has(n.parent)) return;
    const list = kids.get(n.parent);
    if (list) list.push(i); else kids.set(n.parent, [i]);
  });
  const extra: VNode[] = [];
  const taken = new Set(at.keys());
  const uniqueId = (id: string) => {
    let v = id, k = 2;
    while (taken.has(v)) v = `${id}~${k++}`;
    taken.add(v);
    return v;
  };
  // 1. modules with submodules: packages whose own code sits in an __init__ module inside them
  const codeParents: string[] = [];
  out.forEach((n, i) => {
    const list = kids.get(n.id) ?? [];
    if (n.kind === 'module' && list.some((c) => CODE_PARENT.has(out[c].kind))) {
      out[i] = { ...n, kind: 'package' };
      const code = list.filter((c) => !CODE_PARENT.has(out[c].kind));
      if (!code.length) return;
      const id = uniqueId(`init:${n.module || n.label}`);
      const codeNodes = code.map((c) => out[c]);
      extra.push({
        id, kind: 'module', label: `${n.label}/__init__`, parent: n.id, module: n.module, qualified_name: `${n.qualified_name}.__init__`,
        file: n.file, line: null, first_seen: minOrNull(codeNodes.map((c) => c.first_seen)),
        last_seen: maxOrNull(codeNodes.map((c) => c.last_seen)), call_count: sum(codeNodes.map((c) => c.call_count)),
        internal: false, synthetic: 'init', ...(n.role ? { role: n.role } : {}),
      });
      for (const c of code) out[c] = { ...out[c], parent: id };
      kids.set(id, code);
      kids.set(n.id, list.filter((c) => CODE_PARENT.has(out[c].kind)));
      codeParents.push(id);
    } else if (n.kind === 'module') codeParents.push(n.id);
  });
  // 2. instance groups (two or more instances of one class in one module) and their method aggregates
  const methodsOf = (inst: number) => (kids.get(out[inst].id) ?? []).filter((c) => out[c].kind === 'method');
  for (const pid of codeParents) {
    const byClass = new Map<string, number[]>();
    for (const c of kids.get(pid) ?? []) {
      const n = out[c];
      if (n.kind !== 'instance') continue;
      // class_name may carry the module in front: keep the class's own qualname
      const raw = n.class_name ?? n.label.replace(/#.*$/, '');
      const cls = raw.startsWith(`${n.module}.`) ? raw.slice(n.module.length + 1) : raw;
      const list = byClass.get(cls);
      if (list) list.push(c); else byClass.set(cls, [c]);
    }
    for (const [cls, insts] of byClass) {
      if (insts.length < 2) continue;
      const first = out[insts[0]];
      const more = insts.some((c) => out[c].id.endsWith('#*'));
      const gid = uniqueId(`group:${first.module}.${cls}`);
      const instNodes = insts.map((c) => out[c]);
      extra.push({
        id: gid, kind: 'group', label: `${cls.split('.').pop()} ×${insts.length - (more ? 1 : 0)}${more ? '+' : ''}`, parent: pid,
        module: first.module, qualified_name: `${first.module}.${cls}`, file: null, line: null,
        first_seen: minOrNull(instNodes.map((c) => c.first_seen)), last_seen: maxOrNull(instNodes.map((c) => c.last_seen)),
        call_count: sum(instNodes.map((c) => c.call_count)), internal: false, class_name: cls, synthetic: 'group',
        ...(first.role && instNodes.every((c) => c.role === first.role) ? { role: first.role } : {}),
      });
      for (const c of insts) out[c] = { ...out[c], parent: gid };
      const byName = new Map<string, number[]>();
      for (const inst of insts) for (const m of methodsOf(inst)) {
        const list = byName.get(out[m].label);
        if (list) list.push(m); else byName.set(out[m].label, [m]);
      }
      for (const [name, ms] of [...byName].sort((a, b) => a[0].localeCompare(b[0]))) {
        const mn = ms.map((m) => out[m]);
        const withExamples = mn.find((m) => m.examples?.length);
        extra.push({
          id: uniqueId(`agg:${first.module}.${cls}.${name}`), kind: 'agg', label: name, parent: gid, module: first.module,
          qualified_name: `${cls}.${name}`, file: mn[0].file, line: mn[0].line,
          first_seen: minOrNull(mn.map((m) => m.first_seen)), last_seen: maxOrNull(mn.map((m) => m.last_seen)),
          call_count: sum(mn.map((m) => m.call_count)), internal: mn.every((m) => m.internal), callable_kind: mn[0].callable_kind,
          class_name: cls, total_ns: sum(mn.map((m) => m.total_ns)), max_ns: maxOrNull(mn.map((m) => m.max_ns)) ?? undefined,
          raised: sum(mn.map((m) => m.raised)), ...(withExamples ? { examples: withExamples.examples } : {}),
          ...(mn[0].role && mn.every((m) => m.role === mn[0].role) ? { role: mn[0].role } : {}),
          synthetic: 'agg', members: mn.map((m) => m.id),
        });
      }
    }
  }
  return out.concat(extra);
}

/** An I/O boundary of snapshot.json (`boundaries`, docs/boundaries.md): where project code touched the
 * outside world. Declared here so the report reads it whatever the generated types say. */
export interface BoundaryIn {
  id: string; kind: string; target: string; label: string; count: number; first_seen: number | null; ops: string[];
  uses: { actor: string; count: number; first_seen: number | null; ops: string[]; details: string[]; scenarios: number[] }[];
}

/**
 * The boundaries as boxes of their own (kind `boundary`, at the top level: outside every module, drawn
 * on the map's right edge) and one edge from each callable that did the I/O to its boundary, counted
 * like calls. Uses whose actor is not a node are left out.
 */
export function boundaryNodes(raw: unknown, known: ReadonlySet<string>): { nodes: VNode[]; edges: Edge[] } {
  const nodes: VNode[] = [], edges: Edge[] = [];
  if (!Array.isArray(raw)) return { nodes, edges };
  for (const b of raw as BoundaryIn[]) {
    if (!b || typeof b.id !== 'string' || known.has(b.id)) continue;
    const uses = Array.isArray(b.uses) ? b.uses.filter((u) => u && known.has(u.actor)) : [];
    const scen = [...new Set(uses.flatMap((u) => u.scenarios ?? []))].sort((x, y) => x - y);
    nodes.push({
      id: b.id, kind: 'boundary', label: b.label || b.target, parent: null, module: '', qualified_name: `${b.kind} ${b.target}`,
      file: null, line: null, first_seen: b.first_seen ?? null, last_seen: maxOrNull(uses.map((u) => u.first_seen)),
      call_count: b.count ?? 0, internal: false, synthetic: 'boundary', io: { kind: b.kind, target: b.target, ops: b.ops ?? [] },
      ...(scen.length ? { scenarios: scen } : {}),
    } as VNode);
    for (const u of uses) {
      edges.push({ id: `${u.actor}->${b.id}`, source: u.actor, target: b.id, kind: 'call', count: u.count ?? 0, first_seen: u.first_seen ?? null,
        last_seen: u.first_seen ?? null, total_ns: 0, max_ns: 0, raised: 0, example_events: [],
        ...(u.scenarios?.length ? { scenarios: u.scenarios } : {}) } as Edge);
    }
  }
  return { nodes, edges };
}
