// The "Recording" popover of the header: what the run recorded per phase (imports, tests, the work, the
// first calls of each edge), against which budget, what it only counted, the hard cap, and every gap.
import { useEffect } from 'react';
import { num, type Recording } from '../../model/recording';
import './recording.css';

const pct = (a: number, b: number) => (b > 0 ? `${a >= b ? 100 : Math.min(99, Math.round((100 * a) / b))} %` : '–');

export function RecordingPanel({ r, onClose }: { r: Recording; onClose: () => void }) {
  useEffect(() => {
    const esc = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    window.addEventListener('keydown', esc);
    return () => window.removeEventListener('keydown', esc);
  }, [onClose]);
  const calls = r.countedCalls;
  return (
    <section className="rec-panel" data-testid="recording-panel" aria-label="what was recorded" role="dialog">
      <div className="rec-head">
        <strong>Recording</strong>
        <button type="button" className="rec-close" onClick={onClose} aria-label="close" data-testid="recording-close">×</button>
      </div>
      <p data-testid="recording-summary">
        <b>{num(r.recorded)}</b> of <b>{num(r.total)}</b> events recorded ({pct(r.recorded, r.total)}).
        {r.notRecorded > 0 ? <> The other <b>{num(r.notRecorded)}</b>{calls != null && <> ({num(calls)} calls)</>} were only counted,
          on their caller → callee edges: call counts, the map and the matrix cover the whole run; the replay, the sequence and the
          events list show the recorded ones.</> : ' Everything that ran is in the replay.'}
      </p>
      {r.phases.length > 0 && <Bar r={r} />}
      {r.phases.length > 0 && (
        <table className="rec-table" data-testid="recording-phases">
          <thead><tr><th>phase</th><th>recorded</th><th>budget</th><th /></tr></thead>
          <tbody>
            {r.phases.map((p) => (
              <tr key={p.key} data-phase={p.key} data-recorded={p.recorded}>
                <td><i className={`rec-sw rec-${p.key}`} />{p.label}</td><td className="num">{num(p.recorded)}</td>
                <td className="num">{p.budget}</td><td className="muted">{p.note}</td>
              </tr>
            ))}
            {r.notRecorded > 0 && (
              <tr data-phase="counted" data-recorded={0}>
                <td><i className="rec-sw rec-counted" />Counted, not recorded</td><td className="num">–</td><td />
                <td className="muted">{num(r.notRecorded)} events{calls != null ? `, ${num(calls)} calls` : ''}
                  {r.countedInTests ? ` (${num(r.countedInTests)} in ${r.tests?.noun ?? 'tests'})` : ''}</td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      <p data-testid="recording-cap">
        {r.maxEvents != null
          ? <>Hard cap (<code>--max-events</code>) {num(r.maxEvents)} events: {r.capReached ? <b>reached</b> : `${pct(r.recorded, r.maxEvents)} used, not reached`}.
            {r.pastCap > 0 && <> The phases above took {num(r.pastCap)} events past it: the trace kept the first {num(r.maxEvents)}, the rest were counted.</>}</>
          : <>No recording budget (<code>--max-events 0</code>, or a snapshot without a sampling account).</>}
      </p>
      {r.gaps.length > 0 && (
        <>
          <strong className="rec-sub">Gaps ({r.gaps.length})</strong>
          <ul className="rec-gaps" data-testid="recording-gaps">
            {r.gaps.map((g, i) => (
              <li key={i}><span className="rec-kind">{g.kind}</span> {g.message}{g.at_event != null ? ` (at event ${g.at_event})` : ''}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** One bar for the whole run: each phase's recorded events, then what was only counted. */
function Bar({ r }: { r: Recording }) {
  const total = Math.max(1, r.total);
  const parts = [...r.phases.map((p) => ({ key: p.key, n: p.recorded, label: p.label })),
    { key: 'counted', n: r.notRecorded, label: 'counted, not recorded' }].filter((p) => p.n > 0);
  return (
    <div className="rec-bar" aria-hidden="true">
      {parts.map((p) => <span key={p.key} className={`rec-${p.key}`} style={{ flexGrow: p.n / total }} title={`${p.label}: ${num(p.n)} events`} />)}
    </div>
  );
}
