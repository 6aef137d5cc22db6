// Map legend and the fit button. Over the map's bottom-left corner when the map is wide enough; on a
// narrow map (a pytest run's Tests sidebar at 1024 px) a one-line strip below the map instead, never over
// its boxes: the entries that fit on the line, a toggle showing them all, the fit button, and the toggle of
// the minimap (closed on a map too narrow for it, where it would hide boxes; it opens over the bottom-right corner).
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { useData } from '../../state/context';
import { DiffLegendItems } from '../../diff/DiffMarks';

/** Narrowest map (px) that keeps the legend over it: room for the entries and the hint in two or three
 * lines between the zoom controls (58 px) and the minimap (230 px). A narrower map has a toggle of the minimap
 * at the strip's right end, under the minimap's corner. */
export const LEGEND_OVERLAY_MIN = 880;

/** Narrowest map (px) that opens with its minimap shown: a narrower one (a pytest run's Tests sidebar at
 * 1280 px or less) would have boxes of its first view under it; the strip's toggle opens it. Between this and
 * LEGEND_OVERLAY_MIN the minimap is shown, and the toggle can hide it. */
export const MINIMAP_OPEN_MIN = 700;

/** True while the element is narrower than `min` px. */
export function useNarrow(ref: RefObject<HTMLElement | null>, min: number): boolean {
  const [narrow, setNarrow] = useState(false);
  useLayoutEffect(() => { // before the first fit measures the map
    const el = ref.current;
    if (!el) return;
    const check = () => setNarrow(el.clientWidth > 0 && el.clientWidth < min);
    check();
    const ro = new ResizeObserver(check);
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref, min]);
  return narrow;
}

/** The minimap's toggle in the strip of a narrow map: whether the user opened it, and the switch. */
export interface MinimapToggle { open: boolean; toggle: () => void }

export function Legend({ big, compact = false, minimap }: { big: boolean; compact?: boolean; minimap?: MinimapToggle }) {
  const { g, store, si, sel } = useData();
  const io = g.nodes.length > g.realCount && g.nodes[g.nodes.length - 1].kind === 'boundary';
  const [open, setOpen] = useState(false);
  // in the strip: whether some entries are left off the line (the toggle shows them)
  const items = useRef<HTMLDivElement>(null);
  const [more, setMore] = useState(false);
  useEffect(() => {
    const el = items.current;
    if (!el || !compact) { setMore(false); return; }
    const check = () => setMore(el.scrollHeight > el.clientHeight + 2);
    check();
    const ro = new ResizeObserver(check);
    ro.observe(el);
    return () => ro.disconnect();
  }, [compact]);
  const cls = `legend${compact ? ' compact' : ''}${compact && open ? ' open' : ''}`;
  return (
    <aside className={cls} aria-label="legend" data-testid="map-legend" data-compact={String(compact)}>
      <div className="legend-items" ref={items} id="map-legend-items">
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
      {big && (!compact || open) && <div className="legend-hint">Large run: click a box to focus on it (callers left, callees right); the breadcrumbs lead back.</div>}
      {compact && (open || more || big) && (
        <button type="button" className="legend-toggle" data-testid="legend-toggle" aria-expanded={open} aria-controls="map-legend-items"
          onClick={() => setOpen((o) => !o)} title={open ? 'Show the legend on one line' : 'Show the whole legend'}>
          {open ? 'less' : 'more…'}
        </button>
      )}
      <button type="button" className="fit-button" data-testid="map-fit" onClick={() => store.set((s) => ({ fitRequest: s.fitRequest + 1 }))}
        title="Fit the whole map (f)">fit view</button>
      {compact && minimap && (
        <button type="button" className={`minimap-toggle${minimap.open ? ' on' : ''}`} data-testid="minimap-toggle" onClick={minimap.toggle}
          aria-label="map overview (minimap)" aria-expanded={minimap.open}
          title={minimap.open ? 'Hide the minimap' : 'Show the minimap: the whole map, to pan and zoom by (over the bottom-right corner)'}>
          <svg viewBox="0 0 16 12" width="14" height="11" aria-hidden="true"><rect x=".75" y=".75" width="14.5" height="10.5" rx="2" /><rect className="mm-view" x="3" y="3" width="6" height="4.5" rx="1" /></svg>
          <span className="mm-label">minimap</span>
        </button>
      )}
    </aside>
  );
}
