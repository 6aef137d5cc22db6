// Dependency matrix view: rows call columns; ordered by layer so calls go right of the diagonal and
// calls back against the layering (cycles) stand out below it. A click on a cell focuses that edge.
import { useEffect, useMemo, useRef, useState } from 'react';
import { selectionActions, useData } from '../state/context';
import { buildMatrix, type Matrix } from '../model/matrix';
import { formatCount } from '../model/summary';

export const CELL = 16;
const LABEL_W = 300;

function draw(canvas: HTMLCanvasElement, m: Matrix, dark: boolean) {
  const n = m.rows.length;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = n * CELL * dpr;
  canvas.height = n * CELL * dpr;
  canvas.style.width = `${n * CELL}px`;
  canvas.style.height = `${n * CELL}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.scale(dpr, dpr);
  ctx.fillStyle = dark ? '#161b22' : '#ffffff';
  ctx.fillRect(0, 0, n * CELL, n * CELL);
  // layer bands and cycles on the diagonal
  for (let k = 0; k < n; k++) {
    if (m.cyclic[k]) { ctx.fillStyle = dark ? 'rgba(168,85,247,.28)' : 'rgba(168,85,247,.18)'; ctx.fillRect(k * CELL, k * CELL, CELL, CELL); }
    else { ctx.fillStyle = dark ? '#2a313c' : '#e5e7eb'; ctx.fillRect(k * CELL, k * CELL, CELL, CELL); }
  }
  ctx.strokeStyle = dark ? '#232a33' : '#eef0f3';
  ctx.lineWidth = 1;
  for (let k = 0; k <= n; k++) {
    ctx.beginPath(); ctx.moveTo(k * CELL + 0.5, 0); ctx.lineTo(k * CELL + 0.5, n * CELL); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, k * CELL + 0.5); ctx.lineTo(n * CELL, k * CELL + 0.5); ctx.stroke();
  }
  const logMax = Math.log2(m.maxCount + 1);
  for (const [key, cell] of m.cells) {
    const r = Math.floor(key / n), c = key % n;
    const a = 0.25 + 0.75 * (Math.log2(cell.count + 1) / logMax);
    ctx.fillStyle = cell.back ? `rgba(220,38,38,${a})` : `rgba(37,99,235,${a})`;
    ctx.fillRect(c * CELL + 2, r * CELL + 2, CELL - 3, CELL - 3);
    if (cell.cycle) { ctx.strokeStyle = '#a855f7'; ctx.lineWidth = 1.5; ctx.strokeRect(c * CELL + 1.5, r * CELL + 1.5, CELL - 2, CELL - 2); }
    if (cell.violations) { // a rule violation: a red frame and a dot
      ctx.strokeStyle = '#dc2626'; ctx.lineWidth = 2; ctx.strokeRect(c * CELL + 1, r * CELL + 1, CELL - 1, CELL - 1);
      ctx.fillStyle = '#fff'; ctx.beginPath(); ctx.arc(c * CELL + CELL / 2, r * CELL + CELL / 2, 2.5, 0, 2 * Math.PI); ctx.fill();
    }
  }
}

export function MatrixView() {
  const d = useData();
  const { g, store } = d;
  const [groups, setGroups] = useState(false);
  const m = useMemo(() => buildMatrix(g, groups), [g, groups]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<[number, number] | null>(null);
  useEffect(() => {
    if (canvas.current) draw(canvas.current, m, matchMedia('(prefers-color-scheme: dark)').matches);
  }, [m]);
  const n = m.rows.length;
  const cellAt = (e: React.MouseEvent): [number, number] | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const c = Math.floor((e.clientX - r.left) / CELL), row = Math.floor((e.clientY - r.top) / CELL);
    return row >= 0 && row < n && c >= 0 && c < n ? [row, c] : null;
  };
  const cell = hover ? m.cells.get(hover[0] * n + hover[1]) : undefined;
  const back = [...m.cells.values()].filter((c) => c.back).length;
  const focusCell = (rc: [number, number] | null) => {
    if (!rc) return;
    const c = m.cells.get(rc[0] * n + rc[1]);
    if (!c) return;
    // the map's focus on the calling unit, the edge selected in the inspector
    selectionActions(d).selectEdges(c.members);
    store.set({ view: 'map', center: m.rows[rc[0]] });
  };
  const label = (u: number) => g.nodes[u].kind === 'group' ? `${g.nodes[u].label} (${g.nodes[u].module})` : g.nodes[u].qualified_name.replace(/\.__init__$/, '/__init__');
  return (
    <div className="matrix" data-testid="view-matrix" data-rows={n} data-back={back} data-violations={m.violating}>
      <div className="matrix-bar">
        <strong>Dependency matrix</strong>
        <span className="muted">{n} {groups ? 'modules and instance groups' : 'modules'} by layer · row calls column · <span className="mx-fwd">■</span> call · <span className="mx-back">■</span> back against the layers ({back}) · <span className="mx-cyc">□</span> in a cycle{m.violating > 0 && <> · <span className="mx-viol">□</span> rule violated ({m.violating})</>}</span>
        <label className="toggle"><input type="checkbox" checked={groups} data-testid="matrix-groups" onChange={(e) => setGroups(e.target.checked)} /> instance groups</label>
        <span className="matrix-hover" data-testid="matrix-hover">
          {hover && (cell ? `${label(m.rows[hover[0]])} → ${label(m.rows[hover[1]])}: ${formatCount(cell.count)} calls${cell.back ? ' (back)' : ''}${cell.violations ? ` · ${cell.violations} rule violation${cell.violations > 1 ? 's' : ''}` : ''}` : `${label(m.rows[hover[0]])} → ${label(m.rows[hover[1]])}: no calls`)}
        </span>
      </div>
      <div className="matrix-scroll">
        <div className="matrix-grid" style={{ gridTemplateColumns: `${LABEL_W}px ${n * CELL}px` }}>
          <div className="matrix-corner" />
          <div className="matrix-cols" style={{ width: n * CELL }}>
            {m.rows.map((u, k) => <span key={u} style={{ left: k * CELL, width: CELL }} title={label(u)}>{k + 1}</span>)}
          </div>
          <ol className="matrix-rows">
            {m.rows.map((u, k) => (
              <li key={u} data-testid={`matrix-row-${g.nodes[u].id}`} data-index={k} data-layer={m.layer[k]} title={label(u)}
                className={hover?.[0] === k ? 'hot' : ''} style={{ height: CELL }}>
                <span className="mx-num">{k + 1}</span><span className="mx-label">{label(u)}</span>
              </li>
            ))}
          </ol>
          <canvas ref={canvas} data-testid="matrix-canvas" onMouseMove={(e) => setHover(cellAt(e))} onMouseLeave={() => setHover(null)}
            onClick={(e) => focusCell(cellAt(e))} aria-label="dependency matrix: click a cell to focus that call" />
        </div>
      </div>
    </div>
  );
}
