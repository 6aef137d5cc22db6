// Where the map is: Overview › package › module › … › the node in focus; hops of callers/callees.
import { useData, useUI } from '../../state/context';
import { trail } from '../../model/focus';
import { kindLabel } from '../KindBadge';

export function Breadcrumbs() {
  const { g, store } = useData();
  const center = useUI((s) => s.center);
  const hops = useUI((s) => s.hops);
  const path = center !== null ? [...trail(g, center), center] : [];
  const go = (i: number) => store.set({ center: i, selNode: i, selEvent: null, selEdges: null });
  return (
    <nav className="crumbs" aria-label="breadcrumbs" data-testid="breadcrumbs">
      <button type="button" className={`crumb${center === null ? ' here' : ''}`} data-testid="crumb-overview"
        onClick={() => store.set({ center: null, selNode: null, selEvent: null, selEdges: null })}>Overview</button>
      {path.map((i) => (
        <span key={i} className="crumb-item">
          <span className="crumb-sep" aria-hidden="true">›</span>
          <button type="button" className={`crumb${i === center ? ' here' : ''}`} data-testid={`crumb-${g.nodes[i].id}`}
            title={`${kindLabel(g.nodes[i])} ${g.nodes[i].qualified_name}`} onClick={() => go(i)}>{g.nodes[i].label}</button>
        </span>
      ))}
      {center !== null && (
        <span className="hops" role="group" aria-label="hops">
          <span className="muted">hops</span>
          {[1, 2, 3].map((h) => (
            <button key={h} type="button" className={`hop${h === hops ? ' on' : ''}`} aria-pressed={h === hops} data-testid={`hops-${h}`}
              onClick={() => store.set({ hops: h })}>{h}</button>
          ))}
        </span>
      )}
    </nav>
  );
}
