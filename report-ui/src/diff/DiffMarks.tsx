// Diff marks on the map (a diff report only): the legend entries and the "12 → 40" badge of a changed
// callable. Node and edge classes come from nodeMark / edgeMark (useNodeState, CallEdge).
import { useData } from '../state/context';
import type { DiffMark } from '../types/snapshot';
import { countText, diffIndexOf, edgeMark, nodeMark, STATUS_WORD } from './model';
import './diff.css';

export function DiffLegendItems() {
  const { snap, g } = useData();
  if (!diffIndexOf(snap, g)) return null;
  return (
    <>
      <span className="lg lg-diff-added" data-testid="legend-diff-added">added (only in B)</span>
      <span className="lg lg-diff-removed" data-testid="legend-diff-removed">removed (only in A)</span>
      <span className="lg lg-diff-changed" data-testid="legend-diff-changed">calls changed (A → B)</span>
      <span className="lg lg-diff-inside"><b>●N</b> changes inside</span>
    </>
  );
}

export function DiffBadge({ mark }: { mark: DiffMark }) {
  return (
    <span className={`mn-diff mn-diff-${mark.status}`} data-testid="diff-badge"
      title={`${STATUS_WORD[mark.status]}: calls in A ${mark.a ?? '–'}, in B ${mark.b ?? '–'}`}>{countText(mark)}</span>
  );
}

/** In the inspector of a diff report: what the diff says about the selected node or edges. */
export function DiffNote({ node, edges }: { node?: number | null; edges?: readonly number[] | null }) {
  const { snap, g } = useData();
  const di = diffIndexOf(snap, g);
  if (!di) return null;
  const mark = node != null ? nodeMark(di, g, node) : edges?.length ? edgeMark(di, edges) : null;
  if (!mark) return <p className="diff-note" data-testid="inspector-diff">In both runs, no change above the threshold.</p>;
  const calls = (v: number | null) => (v === null ? 'not there' : `${v} call${v === 1 ? '' : 's'}`);
  return (
    <p className={`diff-note diff-note-${mark.status}`} data-testid="inspector-diff" data-diff={mark.status}>
      <b>{STATUS_WORD[mark.status]}</b> · run A: {calls(mark.a)} · run B: {calls(mark.b)}
      {mark.status === 'removed' && node != null && ' (counts and timings shown are run A\'s)'}
    </p>
  );
}
