// Replay controls: play/pause, step, jump, speed, the current event, and the activity scrubber.
import { useData, useUI } from '../state/context';
import { SPEEDS, useReplayControls } from '../hooks/usePlayback';
import { Scrubber } from './Scrubber';
import { Icon } from './Icons';
import { formatCount, formatNs } from '../model/summary';
import { posRank } from '../model/ranges';

export function ReplayBar() {
  const { r, g, store, sel, posRanges } = useData();
  const pos = useUI((s) => s.pos);
  const playing = useUI((s) => s.playing);
  const speed = useUI((s) => s.speed);
  const c = useReplayControls();
  const count = r?.steps.count ?? 0;
  const ev = pos - 1;
  const current = r && ev >= 0 && ev < count ? {
    kind: r.kindName[r.steps.kind[ev]],
    node: g.nodes[r.steps.node[ev]],
    thread: r.steps.thread[ev],
    t: r.steps.t[ev] * r.steps.timeUnitNs,
  } : null;
  return (
    <footer className="replay" aria-label="replay" data-testid="replay-bar">
      <div className="replay-controls">
        <button type="button" data-testid="replay-start" onClick={c.start} aria-label="jump to start (Home)" title="start (Home)" disabled={!r}><Icon name="start" /></button>
        <button type="button" data-testid="replay-back" onClick={() => c.step(-1)} aria-label="step back (←)" title="step back (←)" disabled={!r}><Icon name="back" /></button>
        <button type="button" className="play" data-testid="replay-play" onClick={c.toggle} aria-label={playing ? 'pause (space)' : 'play (space)'}
          title={playing ? 'pause (space)' : 'play (space)'} disabled={!r}><Icon name={playing ? 'pause' : 'play'} /></button>
        <button type="button" data-testid="replay-forward" onClick={() => c.step(1)} aria-label="step forward (→)" title="step forward (→)" disabled={!r}><Icon name="forward" /></button>
        <button type="button" className="next-new" data-testid="replay-next-new" onClick={c.nextNew} aria-label="next first sighting (n)"
          title="jump to the next step where a callable is seen for the first time (n)" disabled={!r}>new ›</button>
        <button type="button" data-testid="replay-end" onClick={c.end} aria-label="jump to end (End)" title="end (End)" disabled={!r}><Icon name="end" /></button>
        <select value={speed} data-testid="replay-speed" aria-label="playback speed" onChange={(e) => store.set({ speed: Number(e.target.value) })}>
          {SPEEDS.map((s) => <option key={s} value={s}>{s}×</option>)}
        </select>
      </div>
      <div className="replay-info">
        <div className="replay-pos" data-testid="replay-position" data-pos={pos}>
          step <strong>{formatCount(pos)}</strong> / {formatCount(count)}
          {sel && sel.ranges.length > 0 && <SelectionStep rank={posRank(posRanges, pos)} />}
        </div>
        <div className="replay-current" data-testid="replay-current">
          {!r ? 'decoding steps…' : current ? (
            <>
              <span className={`ev-kind ev-${current.kind}`}>{current.kind}</span>
              <span className="replay-node">{current.node?.qualified_name}</span>
              <span className="muted">thread {current.thread} · {formatNs(current.t)}</span>
            </>
          ) : <span className="muted">nothing observed yet — press ▶ or →</span>}
        </div>
      </div>
      <Scrubber />
    </footer>
  );
}

/** Where the replay is inside the selected tests' steps. */
function SelectionStep({ rank }: { rank: { rank: number; total: number } }) {
  return (
    <span className="muted replay-sel" data-testid="replay-selection-step" title="position inside the selected tests' steps">
      {' '}· {formatCount(rank.rank)} / {formatCount(rank.total)} in the selected tests
    </span>
  );
}
