// Per-node replay state read with narrow selectors, so a step re-renders only the nodes it changes.
import { useData, useUI } from '../../state/context';
import { useMapCtx } from './MapContext';
import { edgeOf } from '../../model/replay';
import { NEVER } from '../../model/graph';
import { diffIndexOf, nodeMark } from '../../diff/model';

/**
 * With selected scenarios, every node seen in the run stays on the map as context: the selection's
 * evidence lights up as the replay reaches it, the rest is dimmed. Without one: revealed step by step.
 */
export function useNodeState(idx: number) {
  const { nodeReveal, mask, r, litNodes, g, snap } = useData();
  const { vis } = useMapCtx();
  const at = nodeReveal[idx];
  const litAt = litNodes ? litNodes[idx] : -1;
  const neutral = g.nodes[idx].kind === 'scenario';
  const revealed = useUI((s) => (litNodes ? at !== NEVER || litAt < s.pos : at < s.pos));
  const lit = useUI((s) => !litNodes || neutral || litAt < s.pos);
  const isNew = useUI((s) => (litNodes ? litAt === s.pos - 1 : at === s.pos - 1));
  const active = useUI((s) => s.pos > 0 && !!r && vis.rep[r.steps.node[s.pos - 1]] === idx);
  const selected = useUI((s) => s.selNode === idx);
  const ghost = useUI((s) => s.ghost);
  const shown = mask[idx] === 1;
  const di = diffIndexOf(snap, g); // a diff report: added / removed / changed
  const diff = di ? nodeMark(di, g, idx) : null;
  const inside = di ? di.inside[idx] : 0;
  const cls = ['mn', revealed ? 'revealed' : ghost ? 'ghost' : 'unrevealed', active && 'active', selected && 'selected',
    isNew && 'is-new', !shown && 'filtered', litNodes && (lit ? 'lit' : 'dimmed'), diff && `diff-${diff.status}`].filter(Boolean).join(' ');
  return { revealed, active, selected, shown, lit, cls, diff, inside };
}

export function useEdgeState(k: number) {
  const { r, litEdges } = useData();
  const { vis, visEdgeReveal, visEdgeLit } = useMapCtx();
  const at = visEdgeReveal[k];
  const litAt = visEdgeLit ? visEdgeLit[k] : -1;
  const revealed = useUI((s) => (litEdges ? at !== NEVER || litAt < s.pos : at < s.pos));
  const lit = useUI((s) => !litEdges || litAt < s.pos);
  const active = useUI((s) => s.pos > 0 && !!r && (() => { const e = edgeOf(r, s.pos - 1); return e >= 0 && vis.edgeToVis[e] === k; })());
  const ghost = useUI((s) => s.ghost);
  const selected = useUI((s) => !!s.selEdges && vis.edges[k]?.members.some((j) => s.selEdges!.includes(j)));
  return { revealed, active, ghost, lit, dimmed: !!litEdges && !lit, selected };
}
