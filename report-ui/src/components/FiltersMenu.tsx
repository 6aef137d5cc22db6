// Filters popover: modules, thread, node kinds, internal callables.
import { useData, useUI } from '../state/context';
import type { KindFilter } from '../model/filter';

const KINDS: { id: KindFilter; label: string }[] = [
  { id: 'function', label: 'functions' },
  { id: 'method', label: 'methods' },
  { id: 'class_method', label: 'class methods' },
  { id: 'instance', label: 'instances' },
  { id: 'class', label: 'class actors' },
];

export function FiltersMenu() {
  const { g, snap, store, si } = useData();
  const f = useUI((s) => s.filters);
  const set = (patch: Partial<typeof f>) => store.set((s) => ({ filters: { ...s.filters, ...patch } }));
  const modules = g.nodes.filter((n) => n.kind === 'module');
  const active = f.modules.length + f.hiddenKinds.length + (f.hideInternal ? 1 : 0) + (f.hideHarness ? 1 : 0) + (f.thread !== null ? 1 : 0);
  return (
    <details className="menu" data-testid="filters-menu">
      <summary data-testid="filters-toggle">Filters{active ? <span className="count-pill">{active}</span> : null}</summary>
      <div className="menu-body">
        <fieldset>
          <legend>Thread</legend>
          <select value={f.thread ?? ''} data-testid="filter-thread" aria-label="thread"
            onChange={(e) => set({ thread: e.target.value === '' ? null : Number(e.target.value) })}>
            <option value="">all threads</option>
            {snap.stats.threads.map((t) => <option key={t.id} value={t.id}>{t.name} ({t.events} events)</option>)}
          </select>
        </fieldset>
        <fieldset>
          <legend>Hide kinds</legend>
          {KINDS.map((k) => (
            <label key={k.id} className="check">
              <input type="checkbox" data-testid={`filter-kind-${k.id}`} checked={f.hiddenKinds.includes(k.id)}
                onChange={(e) => set({ hiddenKinds: e.target.checked ? [...f.hiddenKinds, k.id] : f.hiddenKinds.filter((x) => x !== k.id) })} />
              {k.label}
            </label>
          ))}
          <label className="check">
            <input type="checkbox" data-testid="filter-hide-internal" checked={f.hideInternal} onChange={(e) => set({ hideInternal: e.target.checked })} />
            internal (_private) callables
          </label>
          {si?.hasHarness && (
            <label className="check" title="test functions, fixtures and fakes defined in test files">
              <input type="checkbox" data-testid="filter-hide-harness" checked={f.hideHarness} onChange={(e) => set({ hideHarness: e.target.checked })} />
              test harness (test code)
            </label>
          )}
        </fieldset>
        <fieldset className="module-list">
          <legend>Modules {f.modules.length ? <button type="button" className="link" data-testid="filter-modules-clear" onClick={() => set({ modules: [] })}>show all</button> : null}</legend>
          {modules.map((m) => (
            <label key={m.id} className="check" title={m.qualified_name}>
              <input type="checkbox" data-testid={`filter-module-${m.id}`} checked={f.modules.includes(m.id)}
                onChange={(e) => set({ modules: e.target.checked ? [...f.modules, m.id] : f.modules.filter((x) => x !== m.id) })} />
              {m.label}
            </label>
          ))}
        </fieldset>
      </div>
    </details>
  );
}
