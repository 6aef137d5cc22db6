// Trace window: a start/end event range every view respects, exportable as JSON.
import { useEffect, useState } from 'react';
import { useData, useUI } from '../state/context';
import { exportWindow } from '../model/exportWindow';

export function WindowMenu() {
  const { store, r, g, snap } = useData();
  const win = useUI((s) => s.filters.window);
  const pos = useUI((s) => s.pos);
  const count = r?.steps.count ?? 0;
  const [a, setA] = useState(win?.[0] ?? 0);
  const [b, setB] = useState(win?.[1] ?? Math.max(0, count - 1));
  useEffect(() => { setA(win?.[0] ?? 0); setB(win?.[1] ?? Math.max(0, count - 1)); }, [win, count]);
  const apply = (w: [number, number] | null) => store.set((s) => {
    const next = w ? [Math.max(0, Math.min(w[0], w[1])), Math.min(count - 1, Math.max(w[0], w[1]))] as [number, number] : null;
    const p = next ? Math.max(next[0], Math.min(next[1] + 1, s.pos)) : s.pos;
    return { filters: { ...s.filters, window: next }, pos: p };
  });
  const cur = Math.max(0, pos - 1);
  const download = () => {
    if (!r) return;
    const [s, e] = win ?? [0, count - 1];
    const data = exportWindow(snap, g, r, s, e);
    const blob = new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' });
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `${snap.run.app_name.replace(/[^\w.-]+/g, '_') || 'skeleton'}-window-${s}-${e}.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <details className="menu" data-testid="window-menu">
      <summary data-testid="window-toggle">Window{win ? <span className="count-pill">{win[0]}–{win[1]}</span> : null}</summary>
      <div className="menu-body">
        <p className="hint">Limit every view to events in a range.</p>
        <div className="row">
          <label>start <input type="number" min={0} max={count - 1} value={a} data-testid="window-start" onChange={(e) => setA(Number(e.target.value))} /></label>
          <label>end <input type="number" min={0} max={count - 1} value={b} data-testid="window-end" onChange={(e) => setB(Number(e.target.value))} /></label>
        </div>
        <div className="row">
          <button type="button" data-testid="window-start-here" onClick={() => setA(cur)}>start at current</button>
          <button type="button" data-testid="window-end-here" onClick={() => setB(cur)}>end at current</button>
        </div>
        <div className="row">
          <button type="button" className="primary" data-testid="window-apply" onClick={() => apply([a, b])} disabled={!count}>apply</button>
          <button type="button" data-testid="window-clear" onClick={() => apply(null)} disabled={!win}>clear</button>
          <button type="button" data-testid="window-export" onClick={download} disabled={!r || !count}>export JSON</button>
        </div>
      </div>
    </details>
  );
}
