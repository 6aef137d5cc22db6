// Custom map nodes: labelled container shells, callables, the scenario root, closed boxes (modules,
// packages, instance groups, instances at a coarse level of detail) and "+N more" notes.
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { useData } from '../../state/context';
import { formatCount } from '../../model/summary';
import type { GraphIndex } from '../../model/graph';
import { treeOrder } from '../../model/lod';
import { hubLabel } from '../../model/overview';
import type { Violation } from '../../types/snapshot';
import { kindClass, kindLabel } from '../KindBadge';
import { useNodeState } from './useNodeState';
import { DiffBadge } from '../../diff/DiffMarks';
import type { MapNode } from './useMapLayout';

function Handles() {
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} className="mn-handle" />
      <Handle type="source" position={Position.Right} isConnectable={false} className="mn-handle" />
    </>
  );
}

function testProps(id: string, st: ReturnType<typeof useNodeState>, kind: string, harness = false, extra = '') {
  return {
    'data-testid': `node-${id}`,
    'data-revealed': String(st.revealed),
    'data-active': String(st.active),
    'data-lit': String(st.lit),
    'data-kind': kind,
    ...(st.diff ? { 'data-diff': st.diff.status } : {}),
    ...(harness ? { 'data-harness': 'true' } : {}),
    className: `${st.cls} ${kind}${harness ? ' harness' : ''}${extra}`,
  };
}

/** Test code (role "harness"): a small badge next to the label. */
function HarnessBadge() {
  return <span className="mn-test" title="test harness: test code, not the system under test">test</span>;
}

function useHarness(idx: number): boolean {
  const { si } = useData();
  return !!si && si.harness[idx] === 1;
}

export const GroupNode = memo(function GroupNode({ data }: NodeProps<MapNode>) {
  const { g } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  const harness = useHarness(data.idx);
  const more = data.more ?? 0;
  return (
    <div {...testProps(n.id, st, kindClass(n), harness, data.ov ? ' ov' : '')} title={n.qualified_name}>
      <div className="mn-header">
        <span className="mn-kind">{kindLabel(n)}</span>
        <span className="mn-title" data-label="">{n.label}</span>
        {harness && <HarnessBadge />}
        {n.call_count > 0 && <span className="mn-count" title="calls into this container">{formatCount(n.call_count)} calls</span>}
        {st.diff && <DiffBadge mark={st.diff} />}
        {more > 0 && <span className="mn-count" data-testid="inner-more" title="children left out: select one from search or the inspector">+{more} more</span>}
      </div>
      <Handles />
    </div>
  );
});

export const CallableNode = memo(function CallableNode({ data }: NodeProps<MapNode>) {
  const { g } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  const calls = n.call_count;
  const harness = useHarness(data.idx);
  const agg = n.kind === 'agg';
  const title = agg ? `${n.qualified_name} on ${n.members?.length ?? 0} instances` : `${n.qualified_name}${n.file ? `\n${n.file}:${n.line ?? ''}` : ''}`;
  return (
    <div {...testProps(n.id, st, kindClass(n), harness)} title={`${title}${harness ? '\n(test harness)' : ''}`}>
      <span className="mn-dot" aria-hidden="true" />
      <span className="mn-label" data-label="">{data.text ?? n.label}</span>
      {agg && <span className="mn-agg" title="this method on every instance of the group">×{n.members?.length ?? 0}</span>}
      {harness && <HarnessBadge />}
      {(n.raised ?? 0) > 0 && <span className="mn-raised" title={`${n.raised} calls raised`}>!</span>}
      {st.diff ? <DiffBadge mark={st.diff} /> : calls > 0 && <span className="mn-badge">{formatCount(calls)}</span>}
      <Handles />
    </div>
  );
});

export const ScenarioNode = memo(function ScenarioNode({ data }: NodeProps<MapNode>) {
  const { g, snap } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  return (
    <div {...testProps(n.id, st, 'k-scenario', false, data.ov ? ' ov' : '')} title={snap.run.command.join(' ')}>
      <span className="mn-play" aria-hidden="true">▶</span>
      <span className="mn-label" data-label="">{n.label === 'run' ? snap.run.app_name : n.label}</span>
      <Handles />
    </div>
  );
});

/** A container drawn closed: module, package, instance group, instance or class at a coarse level. */
/** Violations whose both ends are inside a closed box (no edge drawn for them: the box carries the mark). */
function violationsInside(g: GraphIndex, i: number): Violation[] {
  if (!g.viol.list.length) return [];
  const inside = (x: number) => { for (let k = 0; x >= 0 && k < 256; x = g.parent[x], k++) if (x === i) return true; return false; };
  return g.viol.list.filter((h) => inside(h.source) && inside(h.target)).map((h) => h.v);
}

export const ClosedNode = memo(function ClosedNode({ data }: NodeProps<MapNode>) {
  const { g } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  const inner = callablesInside(g, data.idx);
  const harness = useHarness(data.idx);
  const hidden = violationsInside(g, data.idx);
  return (
    <div {...testProps(n.id, st, `${kindClass(n)} collapsed`, harness, data.ov ? ' ov' : '')} title={`${n.qualified_name} — click to focus`}>
      <div className="mn-kind">{kindLabel(n)}{harness && <> · <HarnessBadge /></>}</div>
      {!st.diff && st.inside > 0 && <span className="mn-diff-inside" data-testid="diff-inside"
        title={`${st.inside} added, removed or changed actor${st.inside > 1 ? 's' : ''} inside`}>●{st.inside}</span>}
      <div className="mn-title" data-label="">{data.hub ? hubLabel(g, data.idx) : n.label}</div>
      <div className="mn-sub">
        {inner} callables · {formatCount(n.call_count)} calls
        {data.hub ? <span className="mn-hub" title="called from most boxes of the overview: drawn apart, its incoming edges left out"> · called from {data.hub}</span> : null}
        {st.diff && <> · <DiffBadge mark={st.diff} /></>}
        {hidden.length > 0 && (
          <span className="mn-viol" data-testid="box-violation" title={hidden.map((v) => `rule "${v.rule}": ${v.detail}`).join('\n')}>
            {' '}! {hidden.length} rule violation{hidden.length > 1 ? 's' : ''} inside</span>
        )}
      </div>
      <Handles />
    </div>
  );
});

/** An I/O boundary: where the program touches the outside world (a file, a host, a subprocess, a
 * database), on the map's right edge; its edges come from the callables that did the I/O. */
export const BoundaryNode = memo(function BoundaryNode({ data }: NodeProps<MapNode>) {
  const { g } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  const io = n.io ?? { kind: '?', target: n.label, ops: [] };
  return (
    <div {...testProps(n.id, st, `k-boundary io-${io.kind.replace(/[^a-z]/g, '')}`, false, data.ov ? ' ov' : '')}
      title={`${io.kind} ${io.target}\n${io.ops.join(', ')}`}>
      <div className="mn-kind">{kindLabel(n)}</div>
      <div className="mn-title" data-label="">{n.label}</div>
      <div className="mn-sub">{io.ops.join(' · ')}{n.call_count > 0 ? ` · ${formatCount(n.call_count)}×` : ''}{st.diff && <> <DiffBadge mark={st.diff} /></>}</div>
      <Handles />
    </div>
  );
});

/** "+N more" under a column of neighbours that did not fit even at the coarsest level. */
export const MoreNode = memo(function MoreNode({ data }: NodeProps<MapNode>) {
  return <div className="mn-more" data-testid="focus-more">+{data.more} more {data.text}</div>;
});

const counts = new WeakMap<GraphIndex, Int32Array>();
/** Callables inside a node (an aggregate: its members). */
export function callablesInside(g: GraphIndex, i: number): number {
  let c = counts.get(g);
  if (!c) {
    c = new Int32Array(g.nodes.length);
    const order = treeOrder(g);
    for (let k = order.length - 1; k >= 0; k--) {
      const v = order[k];
      if (g.nodes[v].kind === 'agg') { c[v] = g.nodes[v].members?.length ?? 0; continue; }
      if (g.callable[v]) c[v] += 1;
      if (g.parent[v] >= 0) c[g.parent[v]] += c[v];
    }
    counts.set(g, c);
  }
  return c[i];
}

export const nodeTypes = { shell: GroupNode, callable: CallableNode, scenario: ScenarioNode, collapsed: ClosedNode, more: MoreNode, boundary: BoundaryNode };
