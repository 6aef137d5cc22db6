#!/usr/bin/env node
// A pytest-like dev sample (samples/example-pytest.json) derived from a real script run, until
// `skeleton pytest` snapshots exist: the steps are cut into consecutive "tests" at the main
// thread's top-level calls, nodes and edges get the ids of the tests whose steps touched them,
// the callables of one module become test harness, the test with the first exception fails.
//
//   node scripts/make-pytest-sample.mjs [IN] [OUT] [--harness MODULE_ID]
// Defaults: samples/example-shop.json -> samples/example-pytest.json, harness mod:examples.shop.app.
import { inflateSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name, dflt) => { const k = argv.indexOf(name); return k >= 0 ? argv.splice(k, 2)[1] : dflt; };
const harnessModule = flag('--harness', 'mod:examples.shop.app');
const [inPath = join(here, '..', 'samples', 'example-shop.json'), outPath = join(here, '..', 'samples', 'example-pytest.json')] = argv;

const snap = JSON.parse(readFileSync(inPath, 'utf8'));
const ARRAY = { u8: Uint8Array, u16: Uint16Array, u32: Uint32Array, i32: Int32Array };
const column = (name) => {
  const c = snap.steps.columns[name];
  const b = inflateSync(Buffer.from(c.data, 'base64'));
  return new ARRAY[c.dtype](b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const n = snap.steps.count;
const kind = column('kind'), node = column('node'), edge = column('edge'), thread = column('thread');
const depth = column('depth'), callId = column('call_id'), t = column('t');
const CALL = snap.steps.kinds.indexOf('call'), EXC = snap.steps.kinds.indexOf('exception');
const mainThread = thread[0];

// cut points: calls at depth <= 1 on the main thread (the first one opens the first test)
const cuts = [];
for (let i = 1; i < n; i++) if (kind[i] === CALL && depth[i] <= 1 && thread[i] === mainThread) cuts.push(i);
const starts = [0];
for (const c of cuts) if (c - starts[starts.length - 1] < 3) starts[starts.length - 1] = Math.min(starts[starts.length - 1], c); else starts.push(c);
const slug = (s) => s.replace(/\(\)$/, '').replace(/[^\w]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase();
const seen = new Map();
const firstExc = (() => { for (let i = 0; i < n; i++) if (kind[i] === EXC) return i; return -1; })();
const scenarios = starts.map((first, k) => {
  const last = (starts[k + 1] ?? n) - 1;
  let head = first;
  while (head < last && depth[head] < 1 && thread[head] === mainThread) head++;
  const label = slug(snap.nodes[node[head]].label);
  const param = (seen.get(label) ?? 0) + 1;
  seen.set(label, param);
  const file = /checkout|register|build/.test(label) ? 'tests/test_shop.py' : 'tests/test_reporting.py';
  let calls = 0;
  for (let i = first; i <= last; i++) if (kind[i] === CALL) calls++;
  const failed = firstExc >= first && firstExc <= last;
  let message = null;
  if (failed) {
    const ex = (snap.nodes[node[firstExc]].examples ?? []).find((e) => e.exception);
    message = ex ? `${ex.exception.type}: ${ex.exception.message?.value ?? ''}`.trim() : 'AssertionError';
  }
  return { id: k, name: `${file}::test_${label}`, param, kind: 'test', outcome: failed ? 'failed' : 'passed',
    duration_s: Math.round((t[last] - t[first]) * snap.steps.time_unit_ns) / 1e9, message, file, line: 10 + 7 * k,
    first_event: first, last_event: last, calls };
});
// parametrised names where a label repeats
for (const s of scenarios) {
  if (seen.get(s.name.split('::test_')[1]) > 1) s.name = `${s.name}[${['card', 'invoice', 'cash', 'voucher'][s.param - 1] ?? s.param}]`;
  delete s.param;
}
if (scenarios.length > 2) scenarios[scenarios.length - 1].outcome = 'xfailed';
const add = (name, outcome, message) => scenarios.push({ id: scenarios.length, name, kind: 'test', outcome, duration_s: 0.0002,
  message, file: name.split('::')[0], line: 90 + scenarios.length, first_event: null, last_event: null, calls: 0 });
add('tests/test_reporting.py::test_pdf_export', 'skipped', 'Skipped: needs reportlab');

// evidence: each step's callee and call edge (and the edge's caller) belong to the test running it
const nodeSets = snap.nodes.map(() => new Set());
const edgeSets = snap.edges.map(() => new Set());
for (const s of scenarios) {
  if (s.first_event === null) continue;
  for (let i = s.first_event; i <= s.last_event; i++) {
    nodeSets[node[i]].add(s.id);
    let e = edge[i];
    if (e < 0 && callId[i] !== i) e = edge[callId[i]];
    if (e >= 0) edgeSets[e].add(s.id);
  }
}
const byId = new Map(snap.nodes.map((nd, i) => [nd.id, i]));
snap.edges.forEach((e, j) => { const src = byId.get(e.source); for (const s of edgeSets[j]) nodeSets[src].add(s); });
const CALLABLE = new Set(['function', 'method']);
snap.nodes.forEach((nd, i) => { if (CALLABLE.has(nd.kind)) nd.scenarios = [...nodeSets[i]].sort((a, b) => a - b); });
snap.edges.forEach((e, j) => { e.scenarios = [...edgeSets[j]].sort((a, b) => a - b); });
// containers are left without `scenarios`: the UI must compute their unions itself

// harness: one module and everything inside it
const inside = (i) => { for (let p = i; p !== undefined; p = byId.get(snap.nodes[p].parent)) if (snap.nodes[p].id === harnessModule) return true; return false; };
snap.nodes.forEach((nd, i) => { if (inside(i)) nd.role = 'harness'; });

snap.scenarios = scenarios;
snap.run.command = ['skeleton', 'pytest', 'tests'];
snap.run.target = { kind: 'pytest', path: 'tests', args: [] };
snap.run.app_name = 'pytest';
writeFileSync(outPath, JSON.stringify(snap));
const counts = scenarios.reduce((m, s) => ({ ...m, [s.outcome]: (m[s.outcome] ?? 0) + 1 }), {});
console.log(`${outPath}: ${scenarios.length} scenarios ${JSON.stringify(counts)}, harness ${harnessModule}`);
