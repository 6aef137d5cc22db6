// Diff marks on the map (a diff report only): the legend entries and the "12 → 40" badge of a changed
// callable. Node and edge classes come from nodeMark / edgeMark (useNodeState, CallEdge).
import { useData } from '../state/context';
import type { DiffMark } from '../types/snapshot';
import { countText, diffIndexOf, STATUS_WORD } from './model';
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
