// Details of one event: kind, thread, time and its caller chain.
import { selectionActions, useData } from '../state/context';
import { stackAt } from '../model/replay';
import { formatNs } from '../model/summary';

export function EventDetails({ ev }: { ev: number }) {
  const d = useData();
  const { r, g } = d;
  if (!r || ev < 0 || ev >= r.steps.count) return null;
  const kind = r.kindName[r.steps.kind[ev]];
  const n = g.nodes[r.steps.node[ev]];
  const chain = stackAt(r, ev);
  return (
    <div className="event-details" data-testid="inspector-event" data-event={ev}>
      <div className="insp-title">
        <span className={`ev-kind ev-${kind}`}>{kind}</span>
        <h2>event #{ev}</h2>
      </div>
      <div className="qn">{n?.qualified_name}</div>
      <dl className="facts">
        <div className="fact"><dt>thread</dt><dd>{r.steps.thread[ev]}</dd></div>
        <div className="fact"><dt>depth</dt><dd>{r.steps.depth[ev]}</dd></div>
        <div className="fact"><dt>time</dt><dd>{formatNs(r.steps.t[ev] * r.steps.timeUnitNs)}</dd></div>
        <div className="fact"><dt>call</dt><dd>#{r.steps.callId[ev]}</dd></div>
      </dl>
      <h3>Caller chain</h3>
      <ol className="chain" data-testid="inspector-caller-chain">
        {chain.map((e) => (
          <li key={e}>
            <button type="button" className="link" onClick={() => selectionActions(d).selectEvent(e, false)}>{g.nodes[r.steps.node[e]].label}</button>
            <span className="muted"> #{e}</span>
          </li>
        ))}
        <li className="muted">{d.snap.run.app_name}</li>
      </ol>
    </div>
  );
}
