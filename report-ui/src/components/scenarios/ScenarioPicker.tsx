// The scenario picker (pytest runs only): tests with outcome, duration and calls, a filter, counts
// per outcome; click / ctrl-click / shift-click selects the tests whose evidence the map and replay show.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { selectionActions, useData, useUI } from '../../state/context';
import { isBad, matchScenarios, OUTCOMES, outcomeOf, pickScenarios, type Outcome } from '../../model/scenarios';
import { OutcomeIcon, OUTCOME_TEXT } from './OutcomeIcon';
import { ScenarioRow, rowHeight } from './ScenarioRow';

export function ScenarioPicker() {
  const d = useData();
  const si = d.si!;
  const selected = useUI((s) => s.scenarios);
  const [query, setQuery] = useState('');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const anchor = useRef<number | null>(null);
  /** The test the keyboard moves from: the last one clicked or reached with the arrows. */
  const cursor = useRef<number | null>(null);
  const shown = useMemo(() => matchScenarios(si.list, query, outcome), [si, query, outcome]);
  const order = useMemo(() => shown.map((s) => s.id), [shown]);
  const selectedSet = useMemo(() => new Set(selected), [selected]);
  const failedIds = useMemo(() => si.list.filter((s) => isBad(outcomeOf(s))).map((s) => s.id), [si]);
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: shown.length, getScrollElement: () => scroller.current, estimateSize: (k) => rowHeight(shown[k]), overscan: 8 });
  const act = selectionActions(d);
  // a selection made elsewhere (deep link, inspector, header) scrolls its first test into view
  const first = selected[0];
  useEffect(() => {
    if (first === undefined) return;
    const k = order.indexOf(first);
    if (k >= 0) v.scrollToIndex(k, { align: 'auto' });
  }, [first, order, v]);
  const onPick = (id: number, e: React.MouseEvent | React.KeyboardEvent) => {
    const next = pickScenarios(selected, id, order, anchor.current, { toggle: e.ctrlKey || e.metaKey, range: e.shiftKey });
    if (!e.shiftKey) anchor.current = id;
    cursor.current = id;
    act.selectScenarios(next);
  };
  // ↑/↓ in the list: select the previous / next test (Shift extends the selection)
  const onListKey = (e: React.KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    e.stopPropagation();
    if (!order.length) return;
    const k = cursor.current !== null ? order.indexOf(cursor.current) : -1;
    const to = Math.max(0, Math.min(order.length - 1, k < 0 ? 0 : k + (e.key === 'ArrowDown' ? 1 : -1)));
    const id = order[to];
    cursor.current = id;
    if (e.shiftKey) act.selectScenarios(pickScenarios(selected, id, order, anchor.current ?? id, { toggle: false, range: true }));
    else { anchor.current = id; act.selectScenarios([id]); }
    v.scrollToIndex(to, { align: 'auto' });
    requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`[data-sid="${id}"]`)?.focus({ preventScroll: true }));
  };
  return (
    <aside className="picker" aria-label="tests" data-testid="scenario-picker">
      <div className="picker-head">
        <h2>Tests <span className="muted" data-testid="scenario-total">{si.list.length}</span></h2>
        <button type="button" className="icon-button" aria-label="hide the test list" title="hide the test list"
          data-testid="picker-close" onClick={() => d.store.set({ picker: false })}>«</button>
      </div>
      <div className="outcome-counts" role="group" aria-label="filter by outcome">
        {OUTCOMES.filter((o) => si.counts.get(o)).map((o) => (
          <button type="button" key={o} className={`oc-chip${outcome === o ? ' on' : ''}`} data-testid={`outcome-count-${o}`}
            aria-pressed={outcome === o} title={`${OUTCOME_TEXT[o]}: show only these`} onClick={() => setOutcome(outcome === o ? null : o)}>
            <OutcomeIcon outcome={o} size={14} /> <strong>{si.counts.get(o)}</strong> {o}
          </button>
        ))}
      </div>
      <input type="search" className="picker-filter" placeholder="filter tests by name or message" aria-label="filter tests"
        data-testid="scenario-filter" value={query} onChange={(e) => setQuery(e.target.value)} />
      <div className="picker-actions">
        <button type="button" data-testid="scenario-select-all" disabled={!shown.length}
          onClick={() => act.selectScenarios(order)} title="select every test in the list">all{query || outcome ? ` ${shown.length}` : ''}</button>
        <button type="button" data-testid="scenario-select-failed" disabled={!failedIds.length}
          onClick={() => act.selectScenarios(failedIds)} title="failed, error, xpassed and interrupted tests">failed only</button>
        <button type="button" data-testid="scenario-clear" disabled={!selected.length} onClick={() => act.selectScenarios([])}>clear</button>
        <span className="muted picker-sel" data-testid="scenario-selected-count">{selected.length ? `${selected.length} selected` : 'none selected'}</span>
      </div>
      <div className="picker-list" ref={scroller} onKeyDown={onListKey} role="listbox" aria-multiselectable="true" aria-label="tests" data-testid="scenario-list">
        {!shown.length && <p className="muted empty picker-empty">No test matches.</p>}
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((item) => {
            const s = shown[item.index];
            return <ScenarioRow key={s.id} s={s} top={item.start} selected={selectedSet.has(s.id)} onPick={onPick} />;
          })}
        </div>
      </div>
      <p className="picker-hint muted">click: one · ctrl-click: add · shift-click: range · ↑↓</p>
    </aside>
  );
}
