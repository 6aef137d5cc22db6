// Inspector for a selected call edge (or the calls between two collapsed modules): ends, counts, tests.
import { selectionActions, useData } from '../state/context';
import { formatCount, formatNs } from '../model/summary';
import { ExercisedBy } from './scenarios/ExercisedBy';
import { violationsOf } from '../model/violations';
import { ViolationNotes } from './Violations';

export function EdgeDetails({ edges }: { edges: number[] }) {
  const d = useData();
  const { g, si } = d;
  const first = g.edges[edges[0]];
  if (!first) return null;
  const count = edges.reduce((t, j) => t + g.edges[j].count, 0);
  const raised = edges.reduce((t, j) => t + g.edges[j].raised, 0);
  const total = edges.reduce((t, j) => t + g.edges[j].total_ns, 0);
  const src = g.edgeSrc[edges[0]], tgt = g.edgeTgt[edges[0]];
  const ids = si ? [...new Set(edges.flatMap((j) => [...si.edgeScenarios[j]]))].sort((a, b) => a - b) : [];
  const pick = (i: number) => selectionActions(d).selectNode(i, true);
  return (
    <div className="edge-details" data-testid="inspector-edge" data-edge-id={edges.length === 1 ? first.id : undefined}>
      <div className="insp-title"><span className="kind-badge k-edge">{edges.length === 1 ? 'call edge' : `${edges.length} call edges`}</span></div>
      {edges.length === 1 ? (
        <div className="edge-ends">
          <button type="button" className="link" onClick={() => src >= 0 && pick(src)}>{g.nodes[src]?.label ?? first.source}</button>
          <span className="muted"> → </span>
          <button type="button" className="link" onClick={() => tgt >= 0 && pick(tgt)}>{g.nodes[tgt]?.label ?? first.target}</button>
        </div>
      ) : <div className="qn">{edges.length} edges aggregated between collapsed modules</div>}
      <ViolationNotes list={violationsOf(g.viol.byEdge, edges)} />
      <dl className="facts">
        <div className="fact"><dt>calls</dt><dd>{formatCount(count)}</dd></div>
        <div className="fact"><dt>raised</dt><dd className={raised ? 'bad' : undefined}>{formatCount(raised)}</dd></div>
        <div className="fact"><dt>total</dt><dd>{formatNs(total)}</dd></div>
      </dl>
      {si && <ExercisedBy ids={ids} />}
    </div>
  );
}
