// View tabs, search, filters, ghost toggle and the trace window.
import { useData, useUI } from '../state/context';
import type { View } from '../model/hash';
import { Search } from './Search';
import { FiltersMenu } from './FiltersMenu';
import { WindowMenu } from './WindowMenu';

const VIEWS: { id: View; label: string; key: string }[] = [
  { id: 'map', label: 'Map', key: 'M' },
  { id: 'sequence', label: 'Sequence', key: 'S' },
  { id: 'events', label: 'Events', key: 'E' },
  { id: 'matrix', label: 'Matrix', key: 'X' },
];

export function Toolbar() {
  const { store, si } = useData();
  const view = useUI((s) => s.view);
  const picker = useUI((s) => s.picker);
  const ghost = useUI((s) => s.ghost);
  return (
    <nav className="toolbar" aria-label="views and filters">
      {si && (
        <button type="button" className={`tests-toggle${picker ? ' on' : ''}`} data-testid="picker-toggle" aria-pressed={picker}
          title={picker ? 'hide the test list' : 'show the test list'} onClick={() => store.set({ picker: !picker })}>
          Tests <span className="count-pill">{si.list.length}</span>
        </button>
      )}
      <div className="tabs" role="tablist" aria-label="views">
        {VIEWS.map((v) => (
          <button key={v.id} role="tab" aria-selected={view === v.id} className={`tab${view === v.id ? ' active' : ''}`}
            data-testid={`tab-${v.id}`} onClick={() => store.set({ view: v.id })}>
            {v.label}
          </button>
        ))}
      </div>
      <Search />
      <div className="toolbar-right">
        <label className="toggle" title="Show nodes not reached yet, faintly">
          <input type="checkbox" checked={ghost} data-testid="ghost-toggle" onChange={(e) => store.set({ ghost: e.target.checked })} />
          <span>ghost future</span>
        </label>
        <FiltersMenu />
        <WindowMenu />
      </div>
    </nav>
  );
}
