// Call stack of the current thread at the replay position (innermost first).
import { selectionActions, useData, useUI } from '../state/context';
import { stackAt } from '../model/replay';

export function StackPanel() {
  const d = useData();
  const { r, g, snap } = d;
  const pos = useUI((s) => s.pos);
  if (!r) return null;
  const ev = pos - 1;
  const frames = ev >= 0 ? stackAt(r, ev) : [];
  const thread = ev >= 0 ? r.steps.thread[ev] : null;
  const tname = thread !== null ? snap.stats.threads.find((t) => t.id === thread)?.name ?? `thread ${thread}` : '';
  return (
    <section className="panel stack" data-testid="call-stack" aria-label="call stack">
      <h2>Call stack {thread !== null && <span className="muted">· {tname}</span>}</h2>
      {frames.length === 0 ? <p className="muted empty">{ev < 0 ? 'Nothing has run yet.' : 'No open frame at this step.'}</p> : (
        <ol className="frames">
          {frames.map((e, k) => {
            const n = g.nodes[r.steps.node[e]];
            return (
              <li key={e} className={k === 0 ? 'top' : ''}>
                <button type="button" className="frame" data-testid={`stack-frame-${k}`} onClick={() => selectionActions(d).selectEvent(e, false)}
                  title={`${n.qualified_name} — entered at event ${e}`}>
                  <span className="frame-label">{n.label}</span>
                  <span className="frame-qn">{n.qualified_name}</span>
                  <span className="frame-ev">#{e}</span>
                </button>
              </li>
            );
          })}
          <li className="root muted">{d.snap.run.app_name}</li>
        </ol>
      )}
    </section>
  );
}
