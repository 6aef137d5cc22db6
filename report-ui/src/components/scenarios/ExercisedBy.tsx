// Inspector section: the tests whose evidence includes a node or edge; a click selects that test.
import { useMemo, useState } from 'react';
import { selectionActions, useData, useUI } from '../../state/context';
import { outcomeOf, splitName } from '../../model/scenarios';
import { OutcomeIcon } from './OutcomeIcon';

const FIRST = 12;

export function ExercisedBy({ ids }: { ids: Int32Array | number[] }) {
  const d = useData();
  const selected = useUI((s) => s.scenarios);
  const [all, setAll] = useState(false);
  const si = d.si;
  const list = useMemo(() => (si ? [...ids].filter((id) => si.pos.has(id)).map((id) => si.list[si.pos.get(id)!]) : []), [si, ids]);
  if (!si) return null;
  const shown = all ? list : list.slice(0, FIRST);
  return (
    <div className="exercised" data-testid="exercised-by" data-count={list.length}>
      <h3>Exercised by {list.length} {list.length === 1 ? 'test' : 'tests'}</h3>
      {list.length === 0 ? <p className="muted empty">No test reached it (setup outside the tests, or never called).</p> : (
        <ul className="exercised-list">
          {shown.map((s) => (
            <li key={s.id}>
              <button type="button" className={`ex-test${selected.includes(s.id) ? ' selected' : ''}`} data-testid={`exercised-${s.id}`}
                title={`${s.name}\nclick: select this test`} onClick={() => selectionActions(d).selectScenarios([s.id])}>
                <OutcomeIcon outcome={outcomeOf(s)} size={14} />
                <span className="ex-name">{splitName(s.name).test}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {list.length > FIRST && (
        <button type="button" className="link" data-testid="exercised-more" onClick={() => setAll(!all)}>
          {all ? 'show fewer' : `show all ${list.length}`}
        </button>
      )}
    </div>
  );
}
