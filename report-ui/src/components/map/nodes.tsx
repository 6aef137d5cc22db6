// Custom map nodes: labelled container shells, callables, the scenario root, collapsed modules.
import { memo } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { useData, useUI } from '../../state/context';
import { formatCount } from '../../model/summary';
import { kindClass, kindLabel } from '../KindBadge';
import { useMapCtx } from './MapContext';
import { useNodeState } from './useNodeState';
import type { MapNode } from './useMapLayout';

function Handles() {
  return (
    <>
      <Handle type="target" position={Position.Left} isConnectable={false} className="mn-handle" />
      <Handle type="source" position={Position.Right} isConnectable={false} className="mn-handle" />
    </>
  );
}

function testProps(id: string, st: ReturnType<typeof useNodeState>, kind: string, harness = false) {
  return {
    'data-testid': `node-${id}`,
    'data-revealed': String(st.revealed),
    'data-active': String(st.active),
    'data-lit': String(st.lit),
    'data-kind': kind,
    ...(harness ? { 'data-harness': 'true' } : {}),
    className: `${st.cls} ${kind}${harness ? ' harness' : ''}`,
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
  const { g, big } = useData();
  const { toggleModule } = useMapCtx();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  const canCollapse = big && n.kind === 'module';
  const harness = useHarness(data.idx);
  return (
    <div {...testProps(n.id, st, kindClass(n), harness)} title={n.qualified_name}>
      <div className="mn-header">
        <span className="mn-kind">{kindLabel(n)}</span>
        <span className="mn-title">{n.label}</span>
        {harness && <HarnessBadge />}
        {n.call_count > 0 && <span className="mn-count" title="calls into this container">{formatCount(n.call_count)} calls</span>}
        {canCollapse && (
          <button type="button" className="mn-collapse nodrag" data-testid={`collapse-${n.id}`} aria-label={`collapse ${n.label}`}
            onClick={(e) => { e.stopPropagation(); toggleModule(data.idx); }}>−</button>
        )}
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
  return (
    <div {...testProps(n.id, st, kindClass(n), harness)} title={`${n.qualified_name}${n.file ? `\n${n.file}:${n.line ?? ''}` : ''}${harness ? '\n(test harness)' : ''}`}>
      <span className="mn-dot" aria-hidden="true" />
      <span className="mn-label">{n.label}</span>
      {harness && <HarnessBadge />}
      {(n.raised ?? 0) > 0 && <span className="mn-raised" title={`${n.raised} calls raised`}>!</span>}
      {calls > 0 && <span className="mn-badge">{formatCount(calls)}</span>}
      <Handles />
    </div>
  );
});

export const ScenarioNode = memo(function ScenarioNode({ data }: NodeProps<MapNode>) {
  const { g, snap } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  return (
    <div {...testProps(n.id, st, 'k-scenario')} title={snap.run.command.join(' ')}>
      <span className="mn-play" aria-hidden="true">▶</span>
      <span className="mn-label">{n.label === 'run' ? snap.run.app_name : n.label}</span>
      <Handles />
    </div>
  );
});

export const CollapsedModuleNode = memo(function CollapsedModuleNode({ data }: NodeProps<MapNode>) {
  const { g } = useData();
  const n = g.nodes[data.idx];
  const st = useNodeState(data.idx);
  const busy = useUI((s) => s.expanded?.has(data.idx) ?? false);
  const inner = countCallables(g, data.idx);
  const harness = useHarness(data.idx);
  return (
    <div {...testProps(n.id, st, 'k-module collapsed', harness)} title={`${n.qualified_name} — click to expand`}>
      <div className="mn-kind">module{harness && <> · <HarnessBadge /></>}</div>
      <div className="mn-title">{n.label}</div>
      <div className="mn-sub">{inner} callables · {formatCount(n.call_count)} calls{busy ? ' · opening…' : ''}</div>
      <span className="mn-expand" aria-hidden="true">+</span>
      <Handles />
    </div>
  );
});

const callableCounts = new WeakMap<object, Map<number, number>>();
function countCallables(g: ReturnType<typeof useData>['g'], m: number): number {
  let cache = callableCounts.get(g);
  if (!cache) {
    cache = new Map();
    for (let i = 0; i < g.nodes.length; i++) if (g.callable[i] && g.moduleOf[i] >= 0) cache.set(g.moduleOf[i], (cache.get(g.moduleOf[i]) ?? 0) + 1);
    callableCounts.set(g, cache);
  }
  return cache.get(m) ?? 0;
}

export const nodeTypes = { shell: GroupNode, callable: CallableNode, scenario: ScenarioNode, collapsed: CollapsedModuleNode };
