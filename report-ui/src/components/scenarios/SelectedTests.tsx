// Header line naming the selected tests (pytest runs), with a way out.
import { selectionActions, useData, useUI } from '../../state/context';
import { outcomeOf, splitName } from '../../model/scenarios';
import { formatCount } from '../../model/summary';
import { OutcomeIcon } from './OutcomeIcon';

const SHOWN = 3;

export function SelectedTests() {
  const d = useData();
  const ids = useUI((s) => s.scenarios);
  const { si, sel } = d;
  if (!si) return null;
  if (!ids.length || !sel) {
    return (
      <div className="selected-tests none" data-testid="selected-tests" data-count="0">
        <span className="muted">{si.list.length} tests · none selected: the map and replay show the whole run</span>
      </div>
    );
  }
  const list = ids.map((id) => si.list[si.pos.get(id)!]);
  const steps = sel.ranges.reduce((t, [a, b]) => t + b - a + 1, 0);
  return (
    <div className="selected-tests" data-testid="selected-tests" data-count={ids.length} aria-live="polite">
      <span className="st-label">{ids.length === 1 ? 'Test' : `${ids.length} tests`}</span>
      {list.slice(0, SHOWN).map((s) => (
        <span key={s.id} className="st-test" title={s.name}>
          <OutcomeIcon outcome={outcomeOf(s)} size={14} />
          <span className="st-name">{splitName(s.name).test}</span>
        </span>
      ))}
      {list.length > SHOWN && <span className="muted">+{list.length - SHOWN} more</span>}
      <span className="muted st-steps">{steps ? `${formatCount(steps)} steps${sel.ranges.length > 1 ? ` in ${sel.ranges.length} ranges` : ''}` : 'no recorded steps'}</span>
      <button type="button" className="link" data-testid="selected-tests-clear" onClick={() => selectionActions(d).selectScenarios([])}>show the whole run</button>
    </div>
  );
}
