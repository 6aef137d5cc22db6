#!/usr/bin/env node
// Writes hand-made sample snapshots (report-ui/samples/*.json) for the dev server and tests.
// They imitate what `skeleton run` produces for a small shop-like app, until generated samples
// replace them (same file names). Step columns: base64(zlib(little-endian typed array)).
//
//   node scripts/make-sample.mjs            # writes samples/shop.json and samples/shop-threads.json
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const KINDS = ['call', 'return', 'exception', 'yield', 'resume'];

// ---- value summaries -------------------------------------------------------------------
export const S = {
  int: (v) => ({ type: 'int', value: v }),
  float: (v) => ({ type: 'float', value: v }),
  str: (v) => ({ type: 'str', value: v, len: v.length }),
  bool: (v) => ({ type: 'bool', value: v }),
  none: () => ({ type: 'NoneType', value: null }),
  redacted: (type, len) => ({ type, redacted: true, len }),
  obj: (type, id) => ({ type, id }),
  list: (items, len = items.length) => ({ type: 'list', len, items, truncated: len > items.length }),
  dict: (entries, len = entries.length) => ({ type: 'dict', len, entries, truncated: len > entries.length }),
};

// ---- a tiny program simulator ----------------------------------------------------------
export class Sim {
  constructor() {
    this.nodes = new Map();
    this.order = [];
    this.edges = new Map();
    this.events = []; // [kind, nodeIdx, edgeIdx, thread, depth, callId, t]
    this.stacks = new Map(); // thread -> [{node, callId, edge, t0}]
    this.t = 0;
    this.node('scenario:run', 'scenario', 'run', null, '', 'run', null, null);
  }
  node(id, kind, label, parent, module, qn, file, line, extra = {}) {
    const n = { id, kind, label, parent, module, qualified_name: qn, file, line, first_seen: null,
      last_seen: null, call_count: 0, internal: label.startsWith('_') && !label.startsWith('__'), ...extra };
    if (kind === 'function' || kind === 'method' || kind === 'scenario') {
      Object.assign(n, { total_ns: 0, max_ns: 0, raised: 0, examples: [] });
    }
    this.nodes.set(id, n);
    this.order.push(id);
    return id;
  }
  idx(id) { return this.order.indexOf(id); }
  touch(id, ord) {
    const n = this.nodes.get(id);
    if (n.first_seen === null) n.first_seen = ord;
    n.last_seen = ord;
  }
  stack(th) { if (!this.stacks.has(th)) this.stacks.set(th, []); return this.stacks.get(th); }
  emit(kind, node, edge, th, depth, callId) {
    this.t += 3 + ((this.events.length * 7) % 11);
    const ord = this.events.length;
    this.events.push([KINDS.indexOf(kind), this.idx(node), edge, th, depth, callId ?? ord, this.t]);
    this.touch(node, ord);
    return ord;
  }
  enter(th, callee, args) {
    const st = this.stack(th);
    const caller = st.length ? st[st.length - 1].node : 'scenario:run';
    const eid = `${caller}->${callee}`;
    if (!this.edges.has(eid)) {
      this.edges.set(eid, { id: eid, source: caller, target: callee, kind: 'call', count: 0, first_seen: null,
        last_seen: null, total_ns: 0, max_ns: 0, raised: 0, example_events: [] });
    }
    const e = this.edges.get(eid);
    const edgeIdx = [...this.edges.keys()].indexOf(eid);
    const ord = this.emit('call', callee, edgeIdx, th, st.length, null);
    if (st.length === 0) this.touch('scenario:run', ord);
    this.touch(caller, ord);
    e.count++; if (e.first_seen === null) e.first_seen = ord; e.last_seen = ord;
    if (e.example_events.length < 3) e.example_events.push(ord);
    const n = this.nodes.get(callee);
    n.call_count++;
    const frame = { node: callee, callId: ord, edge: edgeIdx, t0: this.t, args, example: null };
    if (n.examples.length < 3) { frame.example = { event: ord, args }; n.examples.push(frame.example); }
    st.push(frame);
    return frame;
  }
  leave(th, kind, value) {
    const st = this.stack(th);
    const f = st.pop();
    const ord = this.emit(kind, f.node, f.edge, th, st.length, f.callId);
    const dt = (this.t - f.t0) * 1000;
    const n = this.nodes.get(f.node);
    const e = [...this.edges.values()][f.edge];
    if (kind === 'return' || kind === 'exception') {
      n.total_ns += dt; n.max_ns = Math.max(n.max_ns, dt); e.total_ns += dt; e.max_ns = Math.max(e.max_ns, dt);
    }
    if (kind === 'exception') { n.raised++; e.raised++; }
    if (f.example) {
      if (kind === 'return') f.example.return_value = value;
      if (kind === 'exception') f.example.exception = value;
      if (kind === 'yield') f.example.yields = (f.example.yields ?? 0) + 1;
    }
    return ord;
  }
  /** Call `callee` in thread `th`; body(sim) runs nested calls; returns `ret` (or raises `exc`). */
  call(th, callee, args, body, ret = S.none(), exc = null) {
    this.enter(th, callee, args);
    if (body) body();
    this.leave(th, exc ? 'exception' : 'return', exc ?? ret);
  }
  /** A generator: resumed `values.length` times by the current frame, yielding each value. */
  generator(th, callee, args, values, body) {
    const f = this.enter(th, callee, args);
    const st = this.stack(th);
    values.forEach((v, i) => {
      if (i > 0) { // resume
        st.push(f);
        this.emit('resume', f.node, f.edge, th, st.length - 1, f.callId);
      }
      if (body) body(i);
      this.leave(th, 'yield', v);
    });
    st.push(f);
    this.emit('resume', f.node, f.edge, th, st.length - 1, f.callId);
    this.leave(th, 'return', S.none());
  }

  snapshot(run, extraStats = {}) {
    const nodes = this.order.map((id) => this.nodes.get(id));
    // containers: first/last seen and call counts roll up from children
    const byId = this.nodes;
    for (const n of [...nodes].reverse()) {
      if (!n.parent) continue;
      const p = byId.get(n.parent);
      if (n.first_seen !== null) {
        p.first_seen = p.first_seen === null ? n.first_seen : Math.min(p.first_seen, n.first_seen);
        p.last_seen = Math.max(p.last_seen ?? 0, n.last_seen);
      }
    }
    for (const n of nodes) {
      if (n.kind === 'function' || n.kind === 'method') {
        for (let p = n.parent; p; p = byId.get(p).parent) byId.get(p).call_count += n.call_count;
      }
    }
    const edges = [...this.edges.values()];
    const modOf = (id) => {
      let n = byId.get(id);
      while (n && n.kind !== 'module' && n.kind !== 'scenario') n = byId.get(n.parent);
      return n ? n.id : id;
    };
    const me = new Map();
    for (const e of edges) {
      const s = modOf(e.source), t = modOf(e.target);
      if (s === t) continue;
      const k = `${s}|${t}`;
      const m = me.get(k) ?? { source: s, target: t, count: 0, first_seen: null };
      m.count += e.count;
      if (e.first_seen !== null) m.first_seen = m.first_seen === null ? e.first_seen : Math.min(m.first_seen, e.first_seen);
      me.set(k, m);
    }
    const col = (i, Arr, dtype) => {
      const a = Arr.from(this.events.map((ev) => ev[i]));
      const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength); // host is little-endian
      return { dtype, data: deflateSync(bytes).toString('base64') };
    };
    const threads = new Map();
    for (const ev of this.events) threads.set(ev[3], (threads.get(ev[3]) ?? 0) + 1);
    const count = this.events.length;
    const dropped = extraStats.dropped_events ?? 0;
    return {
      format_version: 1,
      skeleton_version: '0.11.0.dev0',
      run,
      stats: {
        events: count + dropped,
        recorded_events: count,
        dropped_events: dropped,
        calls: this.events.filter((e) => e[0] === 0).length,
        max_depth: Math.max(...this.events.map((e) => e[4])) + 1,
        threads: [...threads].map(([id, ev]) => ({ id, name: extraStats.threadNames?.[id] ?? (id === 0 ? 'MainThread' : `Thread-${id}`), events: ev })),
        gaps: extraStats.gaps ?? [],
        nodes: nodes.length,
        edges: edges.length,
      },
      nodes,
      edges,
      module_edges: [...me.values()],
      steps: {
        count,
        kinds: KINDS,
        time_unit_ns: 1000,
        columns: {
          kind: col(0, Uint8Array, 'u8'),
          node: col(1, Uint16Array, 'u16'),
          edge: col(2, Int32Array, 'i32'),
          thread: col(3, Uint8Array, 'u8'),
          depth: col(4, Uint16Array, 'u16'),
          call_id: col(5, Uint32Array, 'u32'),
          t: col(6, Uint32Array, 'u32'),
        },
      },
    };
  }
}

// ---- the shop model ----------------------------------------------------------------------
function shopModel(sim, withPackages) {
  const mod = (name, file) => {
    const pkg = name.split('.').slice(0, -1).join('.');
    const parent = withPackages ? `pkg:${pkg}` : null;
    if (withPackages && !sim.nodes.has(parent)) sim.node(parent, 'package', pkg, null, pkg, pkg, `${pkg.replaceAll('.', '/')}/__init__.py`, 1);
    return sim.node(`mod:${name}`, 'module', name, parent, name, name, file, 1);
  };
  const mOrders = mod('shop.services.orders', 'shop/services/orders.py');
  const mOrder = mod('shop.domain.order', 'shop/domain/order.py');
  const mStore = mod('shop.adapters.storage', 'shop/adapters/storage.py');
  const fn = (m, name, file, line) => sim.node(`fn:${m.slice(4)}:${name}`, 'function', `${name}()`, m, m.slice(4), `${m.slice(4)}.${name}`, file, line, { callable_kind: 'module_function' });
  const inst = (m, cls, n, file, line, iid) => sim.node(`inst:${cls}#${n}`, 'instance', `${cls.split('.').pop()}#${n}`, m, m.slice(4), `${cls}#${n}`, file, line, { class_name: cls, instance_id: iid });
  const meth = (i, name, line, file) => {
    const n = sim.nodes.get(i);
    return sim.node(`meth:${i.slice(5)}.${name}`, 'method', `${name}()`, i, n.module, `${n.class_name}.${name}`, file, line,
      { callable_kind: 'instance_method', class_name: n.class_name, instance_id: n.instance_id });
  };
  return { mOrders, mOrder, mStore, fn, inst, meth };
}

function shop() {
  const sim = new Sim();
  const { mOrders, mOrder, mStore, fn, inst, meth } = shopModel(sim, true);
  const main = fn(mOrders, 'checkout_all', 'shop/services/orders.py', 88);
  const svc = inst(mOrders, 'shop.services.orders.OrderService', 1, 'shop/services/orders.py', 12, 1);
  const svcPlace = meth(svc, 'place_order', 20, 'shop/services/orders.py');
  const svcTotal = meth(svc, 'order_total', 41, 'shop/services/orders.py');
  const svcAudit = meth(svc, '_audit', 60, 'shop/services/orders.py');
  const cls = sim.node('cls:shop.domain.order.Order', 'class', 'Order', mOrder, 'shop.domain.order', 'shop.domain.order.Order', 'shop/domain/order.py', 9, { class_name: 'shop.domain.order.Order' });
  const create = sim.node('clsm:shop.domain.order.Order.create', 'method', 'create()', cls, 'shop.domain.order', 'shop.domain.order.Order.create', 'shop/domain/order.py', 18, { callable_kind: 'class_method', class_name: 'shop.domain.order.Order' });
  const orders = [1, 2, 3].map((k) => inst(mOrder, 'shop.domain.order.Order', k, 'shop/domain/order.py', 9, 100 + k));
  const oInit = orders.map((o) => meth(o, '__init__', 12, 'shop/domain/order.py'));
  const oAdd = orders.map((o) => meth(o, 'add_line', 25, 'shop/domain/order.py'));
  const oTotal = orders.map((o) => meth(o, 'total', 33, 'shop/domain/order.py'));
  const money = fn(mOrder, 'round_money', 'shop/domain/order.py', 50);
  const repo = inst(mStore, 'shop.adapters.storage.OrderRepository', 1, 'shop/adapters/storage.py', 8, 7);
  const save = meth(repo, 'save', 15, 'shop/adapters/storage.py');
  const connect = fn(mStore, 'connect', 'shop/adapters/storage.py', 40);
  const T = 0;
  const cart = [
    [S.list([S.str('apple'), S.str('pear'), S.str('fig')]), S.float(7.5)],
    [S.list([S.str('bread')]), S.float(3.2)],
    [S.list([S.str('milk'), S.str('eggs'), S.str('tea')], 5), S.float(11.05)],
  ];
  sim.call(T, main, { carts: S.list(cart.map((c) => c[0]), 3) }, () => {
    sim.call(T, connect, { dsn: S.redacted('str', 24) }, null, S.obj('sqlite3.Connection', 9));
    orders.forEach((o, k) => {
      sim.call(T, svcPlace, { self: S.obj('OrderService', 1), customer: S.str(['ada', 'grace', 'linus'][k]), items: cart[k][0] }, () => {
        sim.call(T, create, { cls: S.obj('type', 3), customer: S.str(['ada', 'grace', 'linus'][k]) }, () => {
          sim.call(T, oInit[k], { self: S.obj('Order', 101 + k), customer: S.str(['ada', 'grace', 'linus'][k]) });
        }, S.obj('Order', 101 + k));
        const n = k === 1 ? 1 : 2;
        for (let j = 0; j < n; j++) sim.call(T, oAdd[k], { self: S.obj('Order', 101 + k), sku: S.str(`SKU-${k}${j}`), qty: S.int(j + 1) });
        sim.call(T, save, { self: S.obj('OrderRepository', 7), order: S.obj('Order', 101 + k), token: S.redacted('str', 12) }, null, S.int(1000 + k));
        if (k !== 1) sim.call(T, svcAudit, { self: S.obj('OrderService', 1), event: S.str('placed') });
      }, S.obj('Order', 101 + k));
      sim.call(T, svcTotal, { self: S.obj('OrderService', 1), order: S.obj('Order', 101 + k) }, () => {
        sim.call(T, oTotal[k], { self: S.obj('Order', 101 + k) }, () => {
          sim.call(T, money, { amount: cart[k][1] }, null, cart[k][1]);
        }, cart[k][1]);
      }, cart[k][1]);
    });
  }, S.dict([[S.str('orders'), S.int(3)], [S.str('revenue'), S.float(21.75)]]));
  return sim.snapshot({
    app_name: 'shop',
    command: ['skeleton', 'run', '--', 'python', '-m', 'shop', 'checkout', '--all'],
    target: { kind: 'module', path: 'shop', args: ['checkout', '--all'] },
    project_root: '/home/dev/projects/shop',
    python_version: '3.12.1',
    backend: 'sysmon',
    backend_reason: 'Python 3.12+ has sys.monitoring; tool id 3 was free',
    started_at: '2026-11-26T09:14:03Z',
    duration_s: 0.0421,
    exit_code: 0,
    status: 'ok',
    error: null,
  });
}

function shopThreads() {
  const sim = new Sim();
  const { mOrders, mOrder, mStore, fn, inst, meth } = shopModel(sim, false);
  const main = fn(mOrders, 'main', 'shop/services/orders.py', 120);
  const batch = fn(mOrders, 'iter_batches', 'shop/services/orders.py', 100);
  const svc = inst(mOrders, 'shop.services.orders.OrderService', 1, 'shop/services/orders.py', 12, 1);
  const place = meth(svc, 'place_order', 20, 'shop/services/orders.py');
  const cls = sim.node('cls:shop.domain.order.Order', 'class', 'Order', mOrder, 'shop.domain.order', 'shop.domain.order.Order', 'shop/domain/order.py', 9, { class_name: 'shop.domain.order.Order' });
  const create = sim.node('clsm:shop.domain.order.Order.create', 'method', 'create()', cls, 'shop.domain.order', 'shop.domain.order.Order.create', 'shop/domain/order.py', 18, { callable_kind: 'class_method', class_name: 'shop.domain.order.Order' });
  const validate = sim.node('fn:shop.domain.order:validate', 'function', 'validate()', mOrder, 'shop.domain.order', 'shop.domain.order.validate', 'shop/domain/order.py', 60, { callable_kind: 'module_function' });
  const orders = [1, 2, 3].map((k) => inst(mOrder, 'shop.domain.order.Order', k, 'shop/domain/order.py', 9, 100 + k));
  const oInit = orders.map((o) => meth(o, '__init__', 12, 'shop/domain/order.py'));
  const repo = inst(mStore, 'shop.adapters.storage.OrderRepository', 1, 'shop/adapters/storage.py', 8, 7);
  const save = meth(repo, 'save', 15, 'shop/adapters/storage.py');
  const flush = meth(repo, '_flush', 30, 'shop/adapters/storage.py');
  const worker = fn(mStore, 'flush_worker', 'shop/adapters/storage.py', 70);
  const M = 0, W = 1;
  sim.call(M, main, {}, () => {
    sim.generator(M, batch, { size: S.int(2) }, [S.list([S.str('ada'), S.str('grace')]), S.list([S.str('linus')])], (i) => {
      if (i === 0) sim.call(M, validate, { batch: S.int(0) }, null, S.bool(true));
    });
    [0, 1, 2].forEach((k) => {
      sim.call(M, place, { self: S.obj('OrderService', 1), customer: S.str(['ada', 'grace', '\u202Eevil\u202C'][k]) }, () => {
        sim.call(M, create, { cls: S.obj('type', 3) }, () => {
          sim.call(M, oInit[k], { self: S.obj('Order', 101 + k) });
          if (k === 2) sim.call(M, validate, { order: S.obj('Order', 103) }, null, null, { type: 'ValueError', message: S.str('customer name has control characters') });
        }, S.obj('Order', 101 + k), k === 2 ? { type: 'ValueError', message: S.str('customer name has control characters') } : null);
        if (k < 2) sim.call(M, save, { self: S.obj('OrderRepository', 7), order: S.obj('Order', 101 + k) }, null, S.int(k));
      }, S.none(), k === 2 ? { type: 'ValueError', message: S.str('customer name has control characters') } : null);
      if (k === 0) {
        sim.call(W, worker, { queue: S.obj('queue.Queue', 55) }, () => {
          sim.call(W, flush, { self: S.obj('OrderRepository', 7), rows: S.list([S.int(0)]) }, null, S.int(1));
          sim.call(W, flush, { self: S.obj('OrderRepository', 7), rows: S.list([]) }, null, S.int(0));
        });
      }
    });
  }, S.none(), { type: 'ValueError', message: S.str('customer name has control characters') });
  return sim.snapshot({
    app_name: 'shop-threads',
    command: ['skeleton', 'run', '--max-events', String(sim.events.length), '--', 'python', 'scripts/batch.py'],
    target: { kind: 'script', path: 'scripts/batch.py', args: [] },
    project_root: '/home/dev/projects/shop',
    python_version: '3.13.0',
    backend: 'setprofile',
    backend_reason: 'forced with --backend setprofile',
    started_at: '2026-11-26T09:20:44Z',
    duration_s: 1.87,
    exit_code: 1,
    status: 'exception',
    error: { type: 'ValueError', message: 'customer name has control characters' },
  }, {
    dropped_events: 240,
    threadNames: { 0: 'MainThread', 1: 'flush-worker' },
    gaps: [{ kind: 'cap', message: `stopped recording after ${sim.events.length} events (--max-events); 240 more events counted on edges only`, count: 240, at_event: sim.events.length - 1 }],
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, snap] of [['shop.json', shop()], ['shop-threads.json', shopThreads()]]) {
    writeFileSync(join(here, '..', 'samples', name), JSON.stringify(snap, null, 1) + '\n');
    console.log(`samples/${name}: ${snap.nodes.length} nodes, ${snap.edges.length} edges, ${snap.steps.count} steps`);
  }
}
