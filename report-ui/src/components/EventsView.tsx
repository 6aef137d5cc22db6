// Every recorded step in a virtualised list (handles millions of rows), filtered and synced with replay.
import { useEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { selectionActions, useData, useUI } from '../state/context';
import { filterEvents } from '../model/filter';
import { formatCount, formatNs } from '../model/summary';

const ROW = 26;

function lowerBound(a: Int32Array, v: number) {
  let lo = 0, hi = a.length;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < v) lo = m + 1; else hi = m; }
  return lo;
}

export function EventsView() {
  const d = useData();
  const { r, g, mask, eventRanges } = d;
  const filters = useUI((s) => s.filters);
  const pos = useUI((s) => s.pos);
  const selEvent = useUI((s) => s.selEvent);
  const [text, setText] = useState('');
  const [kind, setKind] = useState<number | ''>('');
  const [follow, setFollow] = useState(true);
  const rows = useMemo(() => {
    if (!r) return new Int32Array(0);
    const q = text.trim().toLowerCase();
    const match = q ? Uint8Array.from(g.nodes, (n) => (n.label.toLowerCase().includes(q) || n.qualified_name.toLowerCase().includes(q) ? 1 : 0)) : null;
    return filterEvents(r, filters, mask, match, kind === '' ? null : [kind], eventRanges);
  }, [r, g, filters, mask, text, kind, eventRanges]);
  const scroller = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 12 });
  const cur = pos - 1;
  useEffect(() => {
    if (!follow || cur < 0 || !rows.length) return;
    const k = Math.min(rows.length - 1, lowerBound(rows, cur));
    v.scrollToIndex(k, { align: 'auto' });
  }, [cur, follow, rows, v]);
  if (!r) return <div className="view-empty" data-testid="view-events">decoding steps…</div>;
  return (
    <div className="events" data-testid="view-events">
      <div className="view-bar">
        <input type="search" placeholder="filter by node name" value={text} aria-label="filter events by node" data-testid="events-filter"
          onChange={(e) => setText(e.target.value)} />
        <select value={kind} aria-label="event kind" data-testid="events-kind" onChange={(e) => setKind(e.target.value === '' ? '' : Number(e.target.value))}>
          <option value="">all kinds</option>
          {r.kindName.map((k, i) => <option key={k} value={i}>{k}</option>)}
        </select>
        <label className="check"><input type="checkbox" checked={follow} data-testid="events-follow" onChange={(e) => setFollow(e.target.checked)} /> follow replay</label>
        <span className="muted" data-testid="events-count">{formatCount(rows.length)} of {formatCount(r.steps.count)} events</span>
      </div>
      <div className="ev-head" aria-hidden="true"><span>#</span><span>thr</span><span>kind</span><span>callable</span><span>time</span></div>
      <div className="ev-scroll" ref={scroller} role="list" aria-label="events">
        <div style={{ height: v.getTotalSize(), position: 'relative' }}>
          {v.getVirtualItems().map((item) => {
            const e = rows[item.index];
            const k = r.kindName[r.steps.kind[e]];
            const n = g.nodes[r.steps.node[e]];
            const depth = Math.min(r.steps.depth[e], 40);
            const cls = `ev-row${e === cur ? ' current' : ''}${e === selEvent ? ' selected' : ''}${e > cur ? ' future' : ''}`;
            return (
              <div key={item.key} role="listitem" className={cls} data-testid={`event-row-${e}`} tabIndex={0}
                style={{ transform: `translateY(${item.start}px)`, height: ROW }}
                onClick={() => selectionActions(d).selectEvent(e)}
                onKeyDown={(ev) => { if (ev.key === 'Enter') selectionActions(d).selectEvent(e); }}>
                <span className="ev-order">{e}</span>
                <span className="ev-thread">{r.steps.thread[e]}</span>
                <span><span className={`ev-kind ev-${k}`}>{k}</span></span>
                <span className="ev-callable" style={{ paddingLeft: depth * 12 }} title={n?.qualified_name}>
                  <span className="ev-label">{n?.label}</span> <span className="muted ev-qn">{n?.qualified_name}</span>
                </span>
                <span className="ev-time">{formatNs(r.steps.t[e] * r.steps.timeUnitNs)}</span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
