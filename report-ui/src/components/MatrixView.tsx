// Dependency matrix view: rows call columns; ordered by layer so calls go right of the diagonal and
// calls back against the layering (cycles) stand out below it. Right of the modules, one boundary column
// per I/O kind, pinned to the right edge: the row's uses of files, the network... (io rule violations
// framed red like call ones).
// A click on a cell focuses that edge (or those I/O uses).
import { useEffect, useMemo, useRef, useState } from 'react';
import { selectionActions, useData } from '../state/context';
import { buildMatrix, type Matrix } from '../model/matrix';
import { formatCount } from '../model/summary';
import './matrix.css';

export const CELL = 16;
const LABEL_W = 300;
/** The I/O columns: a gap after the module columns, then one wider column per kind (room for its name). */
export const IO_GAP = 8;
export const IO_W = 64;

/** The I/O columns are a canvas of their own, pinned to the right edge when the modules scroll. */
const ioLeft = (k: number) => IO_GAP + k * IO_W;
const ioWidth = (m: Matrix) => (m.ioKinds.length ? IO_GAP + m.ioKinds.length * IO_W : 0);

function sized(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D | null {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = w * dpr;
  canvas.height = h * dpr;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  ctx?.scale(dpr, dpr);
  return ctx;
}

function violationMark(ctx: CanvasRenderingContext2D, x: number, y: number, w: number) {
  ctx.strokeStyle = '#dc2626'; ctx.lineWidth = 2; ctx.strokeRect(x + 1, y + 1, w - 1, CELL - 1);
  ctx.fillStyle = '#fff'; ctx.beginPath(); ctx.arc(x + w / 2, y + CELL / 2, 2.5, 0, 2 * Math.PI); ctx.fill();
}

function drawIo(canvas: HTMLCanvasElement, m: Matrix, dark: boolean) {
  const n = m.rows.length, k = m.ioKinds.length;
  const ctx = sized(canvas, ioWidth(m), n * CELL);
  if (!k || !ctx) return;
  ctx.fillStyle = dark ? '#0f1218' : '#f6f7f9';
  ctx.fillRect(0, 0, IO_GAP, n * CELL);
  ctx.fillStyle = dark ? '#1d1a17' : '#fdf8f3';
  ctx.fillRect(ioLeft(0), 0, k * IO_W, n * CELL);
  ctx.strokeStyle = dark ? '#232a33' : '#eef0f3';
  ctx.lineWidth = 1;
  for (let r = 0; r <= n; r++) { ctx.beginPath(); ctx.moveTo(ioLeft(0), r * CELL + 0.5); ctx.lineTo(ioLeft(k), r * CELL + 0.5); ctx.stroke(); }
  for (let c = 0; c <= k; c++) { ctx.beginPath(); ctx.moveTo(ioLeft(c) + 0.5, 0); ctx.lineTo(ioLeft(c) + 0.5, n * CELL); ctx.stroke(); }
  const logMax = Math.log2(m.ioMax + 1);
  for (const [key, cell] of m.ioCells) {
    const r = Math.floor(key / k), c = key % k;
    const a = 0.3 + 0.7 * (Math.log2(cell.count + 1) / logMax);
    ctx.fillStyle = `rgba(180,83,9,${a})`;
    ctx.fillRect(ioLeft(c) + 3, r * CELL + 2, IO_W - 5, CELL - 3);
    if (cell.violations) violationMark(ctx, ioLeft(c) + 1, r * CELL, IO_W - 2);
  }
}

function draw(canvas: HTMLCanvasElement, m: Matrix, dark: boolean) {
  const n = m.rows.length;
  const ctx = sized(canvas, n * CELL, n * CELL);
  if (!ctx) return;
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
    if (cell.violations) violationMark(ctx, c * CELL, r * CELL, CELL); // a rule violation: a red frame and a dot
  }
}

export function MatrixView() {
  const d = useData();
  const { g, store } = d;
  const [groups, setGroups] = useState(false);
  const m = useMemo(() => buildMatrix(g, groups), [g, groups]);
  const canvas = useRef<HTMLCanvasElement>(null);
  const ioCanvas = useRef<HTMLCanvasElement>(null);
  const [hover, setHover] = useState<[number, number] | null>(null);
  useEffect(() => {
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    if (canvas.current) draw(canvas.current, m, dark);
    if (ioCanvas.current) drawIo(ioCanvas.current, m, dark);
  }, [m]);
  const n = m.rows.length, nk = m.ioKinds.length;
  // [row, column]: columns 0..n-1 are the modules, n + k the I/O kind k
  const cellAt = (e: React.MouseEvent): [number, number] | null => {
    const r = e.currentTarget.getBoundingClientRect();
    const x = e.clientX - r.left, row = Math.floor((e.clientY - r.top) / CELL);
    if (row < 0 || row >= n || x < 0) return null;
    if (e.currentTarget !== ioCanvas.current) return x < n * CELL ? [row, Math.floor(x / CELL)] : null;
    const k = Math.floor((x - IO_GAP) / IO_W);
    return x >= IO_GAP && k < nk ? [row, n + k] : null;
  };
  const cellOf = (rc: [number, number]) => (rc[1] < n ? m.cells.get(rc[0] * n + rc[1]) : m.ioCells.get(rc[0] * nk + rc[1] - n));
  const cell = hover ? cellOf(hover) : undefined;
  const back = [...m.cells.values()].filter((c) => c.back).length;
  const focusCell = (rc: [number, number] | null) => {
    if (!rc) return;
    const c = cellOf(rc);
    if (!c) return;
    // the map's focus on the calling unit, the edge selected in the inspector
    selectionActions(d).selectEdges(c.members);
    store.set({ view: 'map', center: m.rows[rc[0]] });
  };
  const label = (u: number) => g.nodes[u].kind === 'group' ? `${g.nodes[u].label} (${g.nodes[u].module})` : g.nodes[u].qualified_name.replace(/\.__init__$/, '/__init__');
  const hoverText = (rc: [number, number]) => {
    const from = label(m.rows[rc[0]]);
    if (rc[1] >= n) {
      const kind = m.ioKinds[rc[1] - n];
      if (!cell) return `${from} → I/O ${kind}: none`;
      return `${from} → I/O ${kind}: ${formatCount(cell.count)} use${cell.count === 1 ? '' : 's'} of ${cell.members.length} ${kind} boundar${cell.members.length === 1 ? 'y' : 'ies'}${cell.violations ? ` · ${cell.violations} rule violation${cell.violations > 1 ? 's' : ''}` : ''}`;
    }
    const c = m.cells.get(rc[0] * n + rc[1]);
    return c ? `${from} → ${label(m.rows[rc[1]])}: ${formatCount(c.count)} calls${c.back ? ' (back)' : ''}${c.violations ? ` · ${c.violations} rule violation${c.violations > 1 ? 's' : ''}` : ''}`
      : `${from} → ${label(m.rows[rc[1]])}: no calls`;
  };
  return (
    <div className="matrix" data-testid="view-matrix" data-rows={n} data-back={back} data-violations={m.violating} data-io-kinds={m.ioKinds.join(' ')}>
      <div className="matrix-bar">
        <strong>Dependency matrix</strong>
        <span className="muted">{n} {groups ? 'modules and instance groups' : 'modules'} by layer · row calls column · <span className="mx-fwd">■</span> call · <span className="mx-back">■</span> back against the layers ({back}) · <span className="mx-cyc">□</span> in a cycle{nk > 0 && <> · <span className="mx-io">■</span> I/O by kind (right)</>}{m.violating > 0 && <> · <span className="mx-viol">□</span> rule violated ({m.violating})</>}</span>
        <label className="toggle"><input type="checkbox" checked={groups} data-testid="matrix-groups" onChange={(e) => setGroups(e.target.checked)} /> instance groups</label>
        <span className="matrix-hover" data-testid="matrix-hover">
          {hover && hoverText(hover)}
        </span>
      </div>
      <div className="matrix-scroll">
        <div className="matrix-grid" style={{ gridTemplateColumns: `${LABEL_W}px ${n * CELL}px${nk ? ` ${ioWidth(m)}px` : ''}` }}>
          <div className="matrix-corner" />
          <div className="matrix-cols" style={{ width: n * CELL }}>
            {m.rows.map((u, k) => <span key={u} style={{ left: k * CELL, width: CELL }} title={label(u)}>{k + 1}</span>)}
          </div>
          {nk > 0 && (
            <div className="matrix-cols mx-io-cols" style={{ width: ioWidth(m) }}>
              {m.ioKinds.map((kind, k) => (
                <span key={kind} className="mx-io-col" data-testid={`matrix-io-${kind}`} style={{ left: ioLeft(k), width: IO_W }}
                  title={`I/O: ${kind} (uses by the row's code)`}>{kind}</span>
              ))}
            </div>
          )}
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
          {nk > 0 && (
            <canvas ref={ioCanvas} className="mx-io-canvas" data-testid="matrix-io-canvas" onMouseMove={(e) => setHover(cellAt(e))}
              onMouseLeave={() => setHover(null)} onClick={(e) => focusCell(cellAt(e))}
              aria-label="I/O by kind: click a cell to focus those uses" />
          )}
        </div>
      </div>
    </div>
  );
}
