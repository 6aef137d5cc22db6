// Map legend and the fit button.
import { useData } from '../../state/context';
import { DiffLegendItems } from '../../diff/DiffMarks';

export function Legend({ big }: { big: boolean }) {
  const { g, store, si, sel } = useData();
  const io = g.nodes.length > g.realCount && g.nodes[g.nodes.length - 1].kind === 'boundary';
  return (
    <aside className="legend" aria-label="legend" data-testid="map-legend">
      <div className="legend-items">
        <span className="lg lg-scenario">run</span>
        <span className="lg lg-module">module</span>
        <span className="lg lg-class">class</span>
        <span className="lg lg-instance">instance</span>
        <span className="lg lg-function">function</span>
        <span className="lg lg-method">method</span>
        <span className="lg lg-edge">calls (×count)</span>
        {io && <span className="lg lg-boundary" data-testid="legend-boundary">I/O boundary</span>}
        {g.viol.list.length > 0 && <span className="lg lg-viol" data-testid="legend-violation">rule violated (!)</span>}
        {si?.hasHarness && <span className="lg lg-harness" data-testid="legend-harness">test harness</span>}
        {sel && <span className="lg lg-lit" data-testid="legend-lit">used by selected tests</span>}
        {sel && <span className="lg lg-dimmed">not used by them</span>}
        <DiffLegendItems />
      </div>
      {big && <div className="legend-hint">Large run: click a box to focus on it (callers left, callees right); the breadcrumbs lead back.</div>}
      <button type="button" className="fit-button" data-testid="map-fit" onClick={() => store.set((s) => ({ fitRequest: s.fitRequest + 1 }))}
        title="Fit the whole map (f)">fit view</button>
    </aside>
  );
}
