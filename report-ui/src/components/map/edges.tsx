// Call edges: thickness by count, count label, animated when it carries the current event.
import { memo } from 'react';
import { getBezierPath, Position, type Edge, type EdgeProps } from '@xyflow/react';
import { useData } from '../../state/context';
import { formatCount } from '../../model/summary';
import { violationsOf } from '../../model/violations';
import { useMapCtx } from './MapContext';
import { useEdgeState } from './useNodeState';
import { countText, diffIndexOf, edgeMark, fixedRules } from '../../diff/model';

export type CallEdgeT = Edge<{ k: number }, 'call'>;

export const CallEdge = memo(function CallEdge(p: EdgeProps<CallEdgeT>) {
  const { mask, g, snap } = useData();
  const { vis } = useMapCtx();
  const many = vis.edges.length > 300;
  const k = p.data?.k ?? 0;
  const e = vis.edges[k];
  const st = useEdgeState(k);
  if (!e || !mask[e.source] || !mask[e.target]) return null;
  if (!st.revealed && !st.ghost) return null;
  let path: string, lx: number, ly: number;
  if (e.source === e.target) {
    const x = p.sourceX, y = p.sourceY;
    path = `M ${x} ${y} C ${x + 46} ${y - 4}, ${x + 40} ${y - 46}, ${x - 14} ${y - 34} S ${p.targetX - 20} ${p.targetY - 2}, ${p.targetX} ${p.targetY}`;
    lx = x + 26; ly = y - 34;
  } else {
    [path, lx, ly] = getBezierPath({ sourceX: p.sourceX, sourceY: p.sourceY, sourcePosition: Position.Right,
      targetX: p.targetX, targetY: p.targetY, targetPosition: Position.Left, curvature: 0.3 });
  }
  const viol = violationsOf(g.viol.byEdge, e.members);
  const di = diffIndexOf(snap, g); // a diff report: added / removed / changed, fixed violations
  const dm = di ? edgeMark(di, e.members) : null;
  const fixed = di ? fixedRules(di, e.members) : []; // rules run A broke here and B no longer does
  const width = 1.2 + Math.min(5, Math.log2(Math.max(1, e.count)) * 0.9);
  const cls = ['ce', st.revealed ? 'revealed' : 'ghost', st.active && 'active', e.raised > 0 && 'raised', e.back && 'back', st.dimmed && 'dimmed',
    st.selected && 'selected', viol.length > 0 && 'violation', fixed.length > 0 && 'viol-fixed', dm && `diff-${dm.status}`].filter(Boolean).join(' ');
  return (
    <g className={cls} data-testid={`edge-${p.id}`} data-revealed={String(st.revealed)} data-dimmed={String(st.dimmed)}
      data-violation={viol.length ? viol.map((v) => v.rule).join('; ') : undefined} data-diff={dm?.status}
      data-violation-fixed={fixed.length ? fixed.join('; ') : undefined}>
      {!many && <path d={path} className="ce-hit" fill="none" strokeWidth={Math.max(10, width + 8)} />}
      <path d={path} className="ce-path" fill="none" strokeWidth={width} markerEnd={many && !st.active ? undefined : 'url(#sk-arrow)'} />
      {st.active && <path d={path} className="ce-flow" fill="none" strokeWidth={width + 1.5} />}
      {viol.length > 0 && (
        <g className="ce-viol" transform={`translate(${lx}, ${ly - (e.count > 1 || dm ? 16 : 0)})`}>
          <title>{viol.map((v) => `rule "${v.rule}" (${v.kind}): ${v.detail}`).join('\n')}</title>
          <circle r="7" />
          <text textAnchor="middle" dominantBaseline="central">!</text>
        </g>
      )}
      {fixed.length > 0 && viol.length === 0 && (
        <g className="ce-viol fixed" data-testid="violation-fixed" transform={`translate(${lx}, ${ly - 16})`}>
          <title>{fixed.map((r) => `rule "${r}": violated in run A, no longer in run B`).join('\n')}</title>
          <circle r="7" />
          <text textAnchor="middle" dominantBaseline="central">✓</text>
        </g>
      )}
      {dm && (
        <text x={lx} y={ly} className="ce-label" textAnchor="middle" dominantBaseline="central" data-testid="edge-diff-label">
          {dm.status === 'changed' && dm.a !== null ? `×${countText(dm)}` : countText(dm)}</text>
      )}
      {!dm && e.count > 1 && (!many || st.active) && (
        <text x={lx} y={ly} className="ce-label" textAnchor="middle" dominantBaseline="central">×{formatCount(e.count)}</text>
      )}
    </g>
  );
});

export const edgeTypes = { call: CallEdge };

export function ArrowDefs() {
  return (
    <svg width="0" height="0" style={{ position: 'absolute' }} aria-hidden="true">
      <defs>
        <marker id="sk-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="11" markerHeight="11" orient="auto-start-reverse" markerUnits="userSpaceOnUse">
          <path d="M 0 0 L 10 5 L 0 10 z" className="ce-arrow" />
        </marker>
      </defs>
    </svg>
  );
}
