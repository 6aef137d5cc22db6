// Fuzzy search over node labels and qualified names; Enter selects and focuses the node on the map.
import { useEffect, useMemo, useRef, useState } from 'react';
import { selectionActions, useData, useUI } from '../state/context';
import { searchNodes } from '../model/search';
import { ownerText } from '../model/graph';
import { KindBadge } from './KindBadge';

export function Search() {
  const d = useData();
  const { g, store } = d;
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const focusReq = useUI((s) => s.searchFocus);
  useEffect(() => { if (focusReq) { input.current?.focus(); input.current?.select(); } }, [focusReq]);
  const hits = useMemo(() => searchNodes(g.nodes, q, 12, undefined, (i) => {
    const n = g.nodes[i], p = g.parent[i];
    return (n.kind === 'method' || n.kind === 'agg') && p >= 0 ? `${g.nodes[p].label}.${n.label}` : null;
  }), [g, q]);
  const pick = (i: number) => {
    store.set({ view: 'map' });
    selectionActions(d).selectNode(i, true);
    setOpen(false);
    input.current?.blur();
  };
  return (
    <div className="search" role="search">
      <input ref={input} type="search" value={q} placeholder="Search nodes  ( / )" aria-label="search nodes"
        data-testid="search-input" role="combobox" aria-expanded={open && hits.length > 0} aria-controls="search-results"
        onChange={(e) => { setQ(e.target.value); setOpen(true); setActive(0); }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') { setActive((a) => Math.min(hits.length - 1, a + 1)); e.preventDefault(); }
          else if (e.key === 'ArrowUp') { setActive((a) => Math.max(0, a - 1)); e.preventDefault(); }
          else if (e.key === 'Enter' && hits[active]) pick(hits[active].index);
          else if (e.key === 'Escape') { setOpen(false); input.current?.blur(); }
        }} />
      {open && hits.length > 0 && (
        <ul className="search-results" id="search-results" role="listbox" data-testid="search-results">
          {hits.map((h, k) => {
            const n = g.nodes[h.index];
            return (
              <li key={h.index} role="option" aria-selected={k === active} className={k === active ? 'active' : ''}
                data-testid={`search-result-${n.id}`} onMouseDown={(e) => { e.preventDefault(); pick(h.index); }}>
                <KindBadge node={n} />
                <span className="sr-label">{n.label}</span>
                <span className="sr-qn">{n.qualified_name}{g.nodes[h.index].kind === 'method' || g.nodes[h.index].kind === 'agg' ? ` · ${ownerText(g, h.index)}` : ''}</span>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
