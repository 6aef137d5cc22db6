#!/usr/bin/env node
// A big synthetic snapshot for performance checks (not committed):
//   node scripts/make-big-sample.mjs [OUT] [--steps N] [--modules M] [--edges E] [--scenarios S]
// Defaults: ~2,000 nodes, ~5,000 edges, 4,000,000 steps -> samples/big.json. With --scenarios S, a
// pytest-like run: S tests over consecutive root calls (every 10th failed, every 25th skipped),
// per-node/edge scenario ids, the first package's callables as harness.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const k = argv.indexOf(name); return k >= 0 ? Number(argv[k + 1]) : dflt; };
const out = argv.find((a, k) => !a.startsWith('--') && !(k > 0 && argv[k - 1].startsWith('--'))) ?? join(here, '..', 'samples', 'big.json');
const STEPS = opt('--steps', 4_000_000);
const MODULES = opt('--modules', 100);
const EDGES = opt('--edges', 5000);
const SCENARIOS = opt('--scenarios', 0);

let seed = 42;
const rnd = () => { // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];

const nodes = [];
const add = (n) => { nodes.push({ first_seen: null, last_seen: null, call_count: 0, internal: false, ...n }); return nodes.length - 1; };
add({ id: 'scenario:run', kind: 'scenario', label: 'run', parent: null, module: '', qualified_name: 'run', file: null, line: null });
const callables = [];
for (let p = 0; p < MODULES / 10; p++) {
  const pkg = `app.pkg${p}`;
  add({ id: `pkg:${pkg}`, kind: 'package', label: pkg, parent: null, module: pkg, qualified_name: pkg, file: `app/pkg${p}/__init__.py`, line: 1 });
  for (let m = 0; m < 10; m++) {
    const mod = `${pkg}.mod${m}`;
    const file = `app/pkg${p}/mod${m}.py`;
    add({ id: `mod:${mod}`, kind: 'module', label: mod, parent: `pkg:${pkg}`, module: mod, qualified_name: mod, file, line: 1 });
    for (let f = 0; f < 6; f++) {
      callables.push(add({ id: `fn:${mod}:func_${f}`, kind: 'function', label: `func_${f}()`, parent: `mod:${mod}`, module: mod,
        qualified_name: `${mod}.func_${f}`, file, line: 10 + f * 5, callable_kind: 'module_function', total_ns: 0, max_ns: 0, raised: 0,
        examples: [{ event: 0, args: { x: { type: 'int', value: f } }, return_value: { type: 'list', len: 3, items: [{ type: 'int', value: 1 }] } }] }));
    }
    for (let c = 0; c < 3; c++) {
      const cls = `${mod}.Service${c}`;
      const inst = `inst:${cls}#1`;
      add({ id: inst, kind: 'instance', label: `Service${c}#1`, parent: `mod:${mod}`, module: mod, qualified_name: `${cls}#1`, file, line: 50, class_name: cls, instance_id: p * 1000 + m * 10 + c });
      for (let k = 0; k < 4; k++) {
        callables.push(add({ id: `meth:${cls}#1.op${k}`, kind: 'method', label: `op${k}()`, parent: inst, module: mod, qualified_name: `${cls}.op${k}`,
          file, line: 60 + k * 4, callable_kind: 'instance_method', class_name: cls, total_ns: 0, max_ns: 0, raised: 0, internal: k === 3 }));
      }
    }
  }
}
const byId = new Map(nodes.map((n, i) => [n.id, i]));
const parentIdx = nodes.map((n) => (n.parent ? byId.get(n.parent) : -1));
const edges = [];
const edgeKey = new Map();
const outEdges = nodes.map(() => []);
const addEdge = (s, t) => {
  const k = `${s}->${t}`;
  if (edgeKey.has(k)) return;
  edgeKey.set(k, edges.length);
  outEdges[s].push(edges.length);
  edges.push({ id: `${nodes[s].id}->${nodes[t].id}`, source: nodes[s].id, target: nodes[t].id, kind: 'call', count: 0, first_seen: null,
    last_seen: null, total_ns: 0, max_ns: 0, raised: 0, example_events: [], s, t });
};
const entries = callables.filter((i) => nodes[i].kind === 'function').slice(0, 400).filter((_, k) => k % 20 === 0);
for (const e of entries) addEdge(0, e);
// mostly local calls (same package), some global
while (edges.length < EDGES) {
  const s = pick(callables);
  const local = rnd() < 0.7;
  const t = local ? callables[Math.min(callables.length - 1, Math.max(0, callables.indexOf(s) + Math.floor((rnd() - 0.3) * 60)))] : pick(callables);
  if (t !== s) addEdge(s, t);
}

const N = STEPS;
const kind = new Uint8Array(N), node = new Uint16Array(N), edge = new Int32Array(N), thread = new Uint8Array(N);
const depth = new Uint16Array(N), callId = new Uint32Array(N), t = new Uint32Array(N);
const stack = []; // [edgeIdx, callOrder, t0]
const rootCalls = [];
let time = 0, i = 0;
const touch = (n, o) => { const x = nodes[n]; if (x.first_seen === null) x.first_seen = o; x.last_seen = o; };
while (i < N) {
  time += 1 + (i % 3);
  const top = stack.length ? edges[stack[stack.length - 1][0]].t : 0;
  const canCall = outEdges[top].length > 0 && stack.length < 30 && i < N - stack.length - 2;
  if (canCall && (stack.length === 0 || rnd() < 0.52 - stack.length * 0.02)) {
    const e = pick(outEdges[top]);
    const E = edges[e];
    if (!stack.length) rootCalls.push(i);
    kind[i] = 0; node[i] = E.t; edge[i] = e; depth[i] = stack.length; callId[i] = i; t[i] = time;
    touch(E.t, i); touch(E.s, i);
    E.count++; if (E.first_seen === null) E.first_seen = i; E.last_seen = i; if (E.example_events.length < 3) E.example_events.push(i);
    nodes[E.t].call_count++;
    stack.push([e, i, time]);
  } else if (stack.length) {
    const [e, c, t0] = stack.pop();
    const E = edges[e];
    const raised = rnd() < 0.002;
    kind[i] = raised ? 2 : 1; node[i] = E.t; edge[i] = e; depth[i] = stack.length; callId[i] = c; t[i] = time;
    const dt = (time - t0) * 100;
    E.total_ns += dt; E.max_ns = Math.max(E.max_ns, dt); nodes[E.t].total_ns += dt; nodes[E.t].max_ns = Math.max(nodes[E.t].max_ns, dt);
    if (raised) { E.raised++; nodes[E.t].raised++; }
    touch(E.t, i);
  } else break;
  i++;
}
const M = i;
const cut = (a) => a.subarray(0, M);
// roll up containers
for (let k = nodes.length - 1; k >= 0; k--) {
  const p = parentIdx[k];
  if (p < 0) continue;
  const n = nodes[k], P = nodes[p];
  if (n.first_seen !== null) { P.first_seen = P.first_seen === null ? n.first_seen : Math.min(P.first_seen, n.first_seen); P.last_seen = Math.max(P.last_seen ?? 0, n.last_seen); }
}
for (const k of callables) for (let p = parentIdx[k]; p >= 0; p = parentIdx[p]) nodes[p].call_count += nodes[k].call_count;
const modOf = (k) => { while (k >= 0 && nodes[k].kind !== 'module' && nodes[k].kind !== 'scenario') k = parentIdx[k]; return k; };
const me = new Map();
for (const E of edges) {
  const a = modOf(E.s), b = modOf(E.t);
  if (a === b || E.count === 0) continue;
  const key = `${a}|${b}`;
  const m = me.get(key) ?? { source: nodes[a].id, target: nodes[b].id, count: 0, first_seen: null };
  m.count += E.count; m.first_seen = m.first_seen === null ? E.first_seen : Math.min(m.first_seen, E.first_seen);
  me.set(key, m);
}
let scenarios;
if (SCENARIOS > 0) {
  const per = Math.max(1, Math.floor(rootCalls.length / SCENARIOS));
  const starts = [];
  for (let k = 0; k < rootCalls.length && starts.length < SCENARIOS; k += per) starts.push(rootCalls[k]);
  const nodeSets = nodes.map(() => new Set()), edgeSets = edges.map(() => new Set());
  scenarios = starts.map((first, k) => {
    const last = (starts[k + 1] ?? M) - 1;
    let calls = 0;
    for (let j = first; j <= last; j++) {
      if (kind[j] === 0) calls++;
      nodeSets[node[j]].add(k);
      if (edge[j] >= 0) { edgeSets[edge[j]].add(k); nodeSets[edges[edge[j]].s].add(k); }
    }
    const outcome = k % 25 === 24 ? 'skipped' : k % 10 === 9 ? 'failed' : k % 50 === 7 ? 'xfailed' : 'passed';
    const skipped = outcome === 'skipped';
    return { id: k, name: `tests/test_mod${k % 40}.py::test_case_${k}[param${k % 3}]`, kind: 'test', outcome,
      duration_s: skipped ? 0 : (t[last] - t[first]) * 1e-7, message: outcome === 'failed' ? `AssertionError: assert ${k} == ${k + 1}` : skipped ? 'Skipped: synthetic' : null,
      file: `tests/test_mod${k % 40}.py`, line: 10 + k, first_event: skipped ? null : first, last_event: skipped ? null : last, calls: skipped ? 0 : calls };
  });
  nodes.forEach((n, k) => { if (n.kind === 'function' || n.kind === 'method') n.scenarios = [...nodeSets[k]].sort((a, b) => a - b); });
  edges.forEach((e, j) => { e.scenarios = [...edgeSets[j]].sort((a, b) => a - b); });
  for (const n of nodes) if (n.module.startsWith('app.pkg0.') || n.id === 'pkg:app.pkg0') n.role = 'harness';
}
const col = (a, dtype) => ({ dtype, data: deflateSync(Buffer.from(a.buffer, a.byteOffset, a.byteLength), { level: 6 }).toString('base64') });
const snap = {
  format_version: 1, skeleton_version: '0.11.0.dev0',
  run: { app_name: 'bigapp', command: ['skeleton', 'run', '--', 'python', '-m', 'app'], target: { kind: 'module', path: 'app', args: [] },
    project_root: '/srv/bigapp', python_version: '3.12.1', backend: 'sysmon', backend_reason: 'synthetic', started_at: '2026-11-26T10:00:00Z',
    duration_s: 12.5, exit_code: 0, status: 'ok', error: null },
  stats: { events: M, recorded_events: M, dropped_events: 0, calls: cut(kind).reduce((a, k) => a + (k === 0 ? 1 : 0), 0), max_depth: 31,
    threads: [{ id: 0, name: 'MainThread', events: M }], gaps: [], nodes: nodes.length, edges: edges.length },
  ...(scenarios ? { scenarios } : {}),
  nodes,
  edges: edges.map(({ s, t: _t, ...e }) => e),
  module_edges: [...me.values()],
  steps: { count: M, kinds: ['call', 'return', 'exception', 'yield', 'resume'], time_unit_ns: 100,
    columns: { kind: col(cut(kind), 'u8'), node: col(cut(node), 'u16'), edge: col(cut(edge), 'i32'), thread: col(cut(thread), 'u8'), depth: col(cut(depth), 'u16'), call_id: col(cut(callId), 'u32'), t: col(cut(t), 'u32') } },
};
writeFileSync(out, JSON.stringify(snap));
console.log(`${out}: ${nodes.length} nodes, ${edges.length} edges, ${M} steps${scenarios ? `, ${scenarios.length} scenarios (${rootCalls.length} root calls)` : ''}`);
