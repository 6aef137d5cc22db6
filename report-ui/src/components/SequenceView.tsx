// Sequence diagram (SVG) of a window of events around the replay position.
import { useEffect, useMemo, useRef, useState } from 'react';
import { selectionActions, useData, useUI } from '../state/context';
import { buildSequence, type Message } from '../model/sequence';
import { nearestEvent } from '../model/ranges';
import { kindLabel } from './KindBadge';

const COL = 180, ROW = 30, TOP = 64, LEFT = 30;

export function SequenceView() {
  const d = useData();
  const { r, g, eventRanges } = d;
  const pos = useUI((s) => s.pos);
  const filters = useUI((s) => s.filters);
  const selEvent = useUI((s) => s.selEvent);
  const [size, setSize] = useState(40);
  const [followThread, setFollowThread] = useState(true);
  const seq = useMemo(() => {
    if (!r || !r.steps.count) return null;
    const spans = eventRanges ?? [[0, r.steps.count - 1]];
    if (!spans.length) return null;
    const lo = spans[0][0], hi = spans[spans.length - 1][1];
    const want = Math.max(lo, Math.min(hi, pos - 1));
    const center = Math.max(nearestEvent(spans, want, -1), lo);
    const thread = filters.thread ?? (followThread ? r.steps.thread[Math.max(0, center)] : null);
    return buildSequence(r, g, center, size, [lo, hi], thread, eventRanges);
  }, [r, g, pos, filters, size, followThread, eventRanges]);
  const scroller = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = scroller.current?.querySelector('.msg.current');
    if (el) (el as Element).scrollIntoView({ block: 'nearest' });
  }, [seq, pos]);
  if (!r) return <div className="view-empty" data-testid="view-sequence">decoding steps…</div>;
  if (!seq || !seq.messages.length) return <div className="view-empty" data-testid="view-sequence">No events in this range.</div>;
  const width = LEFT * 2 + seq.lifelines.length * COL;
  const height = TOP + seq.messages.length * ROW + 30;
  const x = (l: number) => LEFT + l * COL + COL / 2;
  const current = pos - 1;
  return (
    <div className="sequence" data-testid="view-sequence">
      <div className="view-bar">
        <span>events <strong>{seq.start}</strong>–<strong>{seq.end}</strong> around the replay position</span>
        <label>window <select value={size} data-testid="sequence-size" onChange={(e) => setSize(Number(e.target.value))}>
          {[20, 40, 80, 160].map((s) => <option key={s} value={s}>{s} events</option>)}
        </select></label>
        <label className="check"><input type="checkbox" checked={followThread} data-testid="sequence-follow-thread" onChange={(e) => setFollowThread(e.target.checked)} /> current thread only</label>
      </div>
      <div className="seq-scroll" ref={scroller}>
        <svg width={width} height={height} className="seq-svg" role="img" aria-label="sequence diagram">
          <defs>
            <marker id="seq-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse" markerUnits="userSpaceOnUse">
              <path d="M0 0 L10 5 L0 10 z" className="seq-arrowhead" />
            </marker>
          </defs>
          {seq.lifelines.map((a, l) => (
            <g key={a} className="lifeline" data-testid={`seq-lifeline-${g.nodes[a].id}`}>
              <line x1={x(l)} x2={x(l)} y1={TOP - 8} y2={height - 10} />
              <rect x={x(l) - COL / 2 + 10} y={10} width={COL - 20} height={40} rx={8} className={`ll-box k-${g.nodes[a].kind}`} />
              <text x={x(l)} y={26} textAnchor="middle" className="ll-kind">{kindLabel(g.nodes[a])}</text>
              <text x={x(l)} y={41} textAnchor="middle" className="ll-label">{clip(g.nodes[a].label, 22)}</text>
              <title>{g.nodes[a].qualified_name}</title>
            </g>
          ))}
          {seq.messages.map((m, k) => (
            <Msg key={m.event} m={m} y={TOP + k * ROW + ROW / 2} x={x} width={width} current={m.event === current}
              selected={m.event === selEvent} onClick={() => selectionActions(d).selectEvent(m.event)} />
          ))}
        </svg>
      </div>
    </div>
  );
}

function clip(s: string, n: number) {
  return [...s].length > n ? [...s].slice(0, n - 1).join('') + '…' : s;
}

function Msg({ m, y, x, width, current, selected, onClick }: { m: Message; y: number; x: (l: number) => number; width: number; current: boolean; selected: boolean; onClick: () => void }) {
  const x1 = x(m.from), x2 = x(m.to);
  const label = m.kind === 'call' ? m.label : m.kind === 'resume' ? `resume ${m.label}` : m.kind === 'yield' ? 'yield' : m.kind === 'exception' ? 'raise' : 'return';
  const cls = `msg msg-${m.kind}${current ? ' current' : ''}${selected ? ' selected' : ''}`;
  let path: string, lx: number;
  if (m.self) {
    path = `M ${x1} ${y - 8} h 34 v 14 h -32`;
    lx = x1 + 40;
  } else {
    path = `M ${x1} ${y} L ${x2 + (x2 > x1 ? -2 : 2)} ${y}`;
    lx = (x1 + x2) / 2;
  }
  return (
    <g className={cls} data-testid={`seq-msg-${m.event}`} data-kind={m.kind} onClick={onClick} role="button" tabIndex={-1}>
      {(current || selected) && <rect x={0} y={y - 14} width={width} height={28} className="msg-band" />}
      <rect x={0} y={y - 14} width={width} height={28} className="msg-hit" />
      <text x={6} y={y + 4} className="msg-order">{m.event}</text>
      <path d={path} fill="none" markerEnd="url(#seq-arrow)" />
      <text x={lx} y={y - 5} textAnchor={m.self ? 'start' : 'middle'} className="msg-label">{clip(label, 34)}</text>
    </g>
  );
}
