// One test in the picker: outcome, name, file, duration, calls; a failure's message and a jump to its exception.
import { memo } from 'react';
import type { Scenario } from '../../types/snapshot';
import { selectionActions, useData } from '../../state/context';
import { exceptionStep, isBad, outcomeOf, splitName } from '../../model/scenarios';
import type { ReplayIndex } from '../../model/replay';
import { formatCount, formatSeconds } from '../../model/summary';
import { OutcomeIcon } from './OutcomeIcon';

const BASE = 42, MESSAGE = 20;

/** Fixed row heights (no measuring): tests with a message get one more line. */
export const rowHeight = (s: Scenario | undefined): number => (s && s.message ? BASE + MESSAGE : BASE);

const excCache = new WeakMap<ReplayIndex, Map<number, number>>();
function cachedExceptionStep(r: ReplayIndex, s: Scenario): number {
  let m = excCache.get(r);
  if (!m) { m = new Map(); excCache.set(r, m); }
  let e = m.get(s.id);
  if (e === undefined) { e = exceptionStep(r, s); m.set(s.id, e); }
  return e;
}

export const ScenarioRow = memo(function ScenarioRow({ s, top, selected, onPick }: {
  s: Scenario; top: number; selected: boolean; onPick: (id: number, e: React.MouseEvent | React.KeyboardEvent) => void;
}) {
  const d = useData();
  const o = outcomeOf(s);
  const { file, test } = splitName(s.name);
  const bad = isBad(o);
  const exc = bad && d.r ? cachedExceptionStep(d.r, s) : -1;
  const noSteps = s.first_event == null;
  return (
    <div role="option" aria-selected={selected} tabIndex={0} className={`sc-row oc-row-${o}${selected ? ' selected' : ''}`}
      data-testid={`scenario-${s.id}`} data-sid={s.id} data-outcome={o} data-name={s.name}
      style={{ transform: `translateY(${top}px)`, height: rowHeight(s) }} title={s.name}
      onClick={(e) => onPick(s.id, e)}
      onKeyDown={(e) => { if (e.key === 'Enter' || e.key === ' ') { onPick(s.id, e); e.preventDefault(); e.stopPropagation(); } }}>
      <OutcomeIcon outcome={o} />
      <div className="sc-main">
        <div className="sc-name">{s.kind === 'block' && <span className="tag sc-kind">block</span>}{test}</div>
        <div className="sc-line2 muted">
          <span className="sc-file">{file}{s.line != null ? `:${s.line}` : ''}</span>
          <span className="sc-calls">{noSteps ? 'no steps' : `${formatCount(s.calls)} calls`}</span>
          <span className="sc-dur">{formatSeconds(s.duration_s)}</span>
        </div>
        {s.message && (
          <div className={`sc-msg${bad ? ' bad' : ''}`}>
            <span className="sc-msg-text" data-testid={`scenario-message-${s.id}`} title={s.message}>{s.message}</span>
            {exc >= 0 && (
              <button type="button" className="link sc-exc" data-testid={`scenario-exception-${s.id}`}
                title={`show where it raised: step ${exc}`}
                onClick={(e) => {
                  e.stopPropagation();
                  const a = selectionActions(d);
                  if (!d.store.get().scenarios.includes(s.id)) a.selectScenarios([s.id]);
                  a.selectEvent(exc);
                }}>exception ›</button>
            )}
          </div>
        )}
      </div>
    </div>
  );
});
