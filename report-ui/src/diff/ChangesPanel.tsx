// The left panel of a diff report: runs A and B, the counts, and every change (the rows of the text
// output); a click focuses the map on the change's node or edge and moves the replay to the end, where
// the evidence of both runs is on the map.
import { useMemo, useState } from 'react';
import { useData, useUI } from '../state/context';
import type { DiffChange, DiffRun } from '../types/snapshot';
import { changeGroups, changeTarget, diffIndexOf } from './model';
import './diff.css';

const SIGN_CLASS: Record<string, string> = { '+': 'added', '-': 'removed', '~': 'changed' };
/** Rows shown per section until "show all" (a diff of two unrelated runs has thousands). */
export const SECTION_ROWS = 100;

function RunLine({ side, run }: { side: 'A' | 'B'; run: DiffRun }) {
  const bits = [run.app_name ?? '?', `status ${run.status ?? '?'}`];
  if (run.calls !== null) bits.push(`${run.calls} calls`);
  if (run.scenarios != null) bits.push(`${run.scenarios} tests`);
  return (
    <div className="dp-run" data-testid={`diff-run-${side.toLowerCase()}`}>
      <span className={`dp-side dp-side-${side.toLowerCase()}`}>{side}</span>
      <span className="dp-path" title={run.path}>{run.path}</span>
      <span className="dp-meta">{bits.join(', ')}</span>
    </div>
  );
}

export function ChangesPanel() {
  const d = useData();
  const { snap, g, store, big } = d;
  const di = diffIndexOf(snap, g);
  const groups = useMemo(() => (di ? changeGroups(di.diff) : []), [di]);
  const targets = useMemo(() => new Map((di?.diff.changes ?? []).map((c) => [c, changeTarget(g, c)])), [di, g]);
  const [opened, setOpened] = useState<ReadonlySet<string>>(new Set());
  const selNode = useUI((s) => s.selNode);
  const selEdges = useUI((s) => s.selEdges);
  if (!di) return null;
  const { diff } = di;
  const s = diff.summary;
  const target = (c: DiffChange) => targets.get(c) ?? changeTarget(g, c);
  const focus = (c: DiffChange) => {
    const t = target(c);
    if (t.node === null) return;
    const node = t.node;
    store.set((st) => ({
      view: 'map', pos: snap.steps.count, playing: false, selEvent: null,
      selNode: t.edges.length ? null : node, selEdges: t.edges.length ? t.edges : null,
      focus: { node, n: (st.focus?.n ?? 0) + 1 }, ...(big ? { center: node } : {}),
    }));
  };
  const isSelected = (c: DiffChange) => {
    const t = target(c);
    if (t.edges.length) return !!selEdges && t.edges.every((j) => selEdges.includes(j));
    return t.node !== null && selNode === t.node;
  };
  const total = diff.changes.length;
  return (
    <aside className="diff-panel" aria-label="changes" data-testid="diff-panel">
      <div className="dp-head">
        <h2>Changes from A to B</h2>
        <RunLine side="A" run={diff.a} />
        <RunLine side="B" run={diff.b} />
        <table className="dp-counts">
          <thead><tr><th /><th>added</th><th>removed</th></tr></thead>
          <tbody>
            <tr><td>actors</td><td>{s.actors_added ?? 0}</td><td>{s.actors_removed ?? 0}</td></tr>
            <tr><td>call edges</td><td>{s.edges_added ?? 0}</td><td>{s.edges_removed ?? 0}</td></tr>
            <tr><td>module dependencies</td><td>{s.dependencies_added ?? 0}</td><td>{s.dependencies_removed ?? 0}</td></tr>
            <tr><td>I/O boundaries</td><td>{s.boundaries_added ?? 0}</td><td>{s.boundaries_removed ?? 0}</td></tr>
            <tr><td>I/O by actor</td><td>{s.io_added ?? 0}</td><td>{s.io_removed ?? 0}</td></tr>
            <tr><td>rule violations</td><td>{s.violations_added ?? 0}</td><td>{s.violations_removed ?? 0}</td></tr>
          </tbody>
        </table>
        <div className="dp-meta">call-count changes: {s.calls_changed ?? 0} · the map shows run B with what only A had;
          the replay plays run B</div>
      </div>
      <div className="dp-list" data-testid="diff-changes">
        {total === 0 && <div className="dp-empty">No differences.</div>}
        {groups.map((grp) => (
          <section key={grp.section} className="dp-group" data-section={grp.section}>
            <h3>{grp.title} <span className="dp-n">{grp.rows.length}</span></h3>
            <ul>
              {(opened.has(grp.section) ? grp.rows : grp.rows.slice(0, SECTION_ROWS)).map((c, k) => {
                const to = target(c);
                return (
                  <li key={k}>
                    <button type="button" className={`dp-row dp-${SIGN_CLASS[c.sign] ?? 'changed'}${isSelected(c) ? ' selected' : ''}`}
                      data-testid="diff-change" data-section={c.section} data-node={c.node ?? undefined} data-edge={c.edge ?? undefined}
                      disabled={to.node === null} onClick={() => focus(c)}
                      title={to.node === null ? 'not drawn on the map' : 'show on the map'}>
                      <span className="dp-sign" aria-hidden="true">{c.sign === '-' ? '−' : c.sign}</span>
                      <span className="dp-text">
                        {c.shape === 'edge'
                          ? <><span className="dp-name">{c.parts[0]}</span> <span className="dp-arrow">→</span> <span className="dp-name">{c.parts[1]}</span></>
                          : <><span className="dp-kind">{c.parts[0]}</span> <span className="dp-name">{c.parts[1]}</span></>}
                        <span className="dp-note">{c.note}</span>
                      </span>
                    </button>
                  </li>
                );
              })}
            </ul>
            {grp.rows.length > SECTION_ROWS && !opened.has(grp.section) && (
              <button type="button" className="dp-more" data-testid="diff-more"
                onClick={() => setOpened((o) => new Set(o).add(grp.section))}>show all {grp.rows.length} ({grp.rows.length - SECTION_ROWS} more)</button>
            )}
          </section>
        ))}
        {diff.notes.map((n, k) => <p key={k} className="dp-note-block" data-testid="diff-note">{n}</p>)}
      </div>
    </aside>
  );
}
