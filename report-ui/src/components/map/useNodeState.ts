// Per-node replay state read with narrow selectors, so a step re-renders only the nodes it changes.
import { useData, useUI } from '../../state/context';
import { useMapCtx } from './MapContext';
import { edgeOf } from '../../model/replay';

export function useNodeState(idx: number) {
  const { nodeReveal, mask, r } = useData();
  const { vis } = useMapCtx();
  const at = nodeReveal[idx];
  const revealed = useUI((s) => at < s.pos);
  const isNew = useUI((s) => at === s.pos - 1);
  const active = useUI((s) => s.pos > 0 && !!r && vis.rep[r.steps.node[s.pos - 1]] === idx);
  const selected = useUI((s) => s.selNode === idx);
  const ghost = useUI((s) => s.ghost);
  const shown = mask[idx] === 1;
  const cls = ['mn', revealed ? 'revealed' : ghost ? 'ghost' : 'unrevealed', active && 'active', selected && 'selected',
    isNew && 'is-new', !shown && 'filtered'].filter(Boolean).join(' ');
  return { revealed, active, selected, shown, cls };
}

export function useEdgeState(k: number) {
  const { r } = useData();
  const { vis, visEdgeReveal } = useMapCtx();
  const at = visEdgeReveal[k];
  const revealed = useUI((s) => at < s.pos);
  const active = useUI((s) => s.pos > 0 && !!r && (() => { const e = edgeOf(r, s.pos - 1); return e >= 0 && vis.edgeToVis[e] === k; })());
  const ghost = useUI((s) => s.ghost);
  return { revealed, active, ghost };
}
