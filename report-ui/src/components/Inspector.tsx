// Inspector: the selected node (location, counts, timings, examples) and the selected event.
import { selectionActions, useData, useUI } from '../state/context';
import { formatCount, formatNs } from '../model/summary';
import { KindBadge } from './KindBadge';
import { CreatedBy, Examples, Neighbours } from './InspectorParts';
import { EventDetails } from './EventDetails';
import { CopyButton } from './CopyButton';
import { EdgeDetails } from './EdgeDetails';
import { ExercisedBy } from './scenarios/ExercisedBy';
import { ViolationNotes } from './Violations';
import { violationsWithin } from '../model/violations';
import { DiffNote } from '../diff/DiffMarks';

export function Inspector() {
  const d = useData();
  const { g, snap, store } = d;
  const sel = useUI((s) => s.selNode);
  const selEvent = useUI((s) => s.selEvent);
  const selEdges = useUI((s) => s.selEdges);
  if (selEdges) {
    return (
      <section className="panel inspector" data-testid="inspector" aria-label="inspector">
        <EdgeDetails edges={selEdges} />
        <DiffNote edges={selEdges} />
      </section>
    );
  }
  if (sel === null && selEvent === null) {
    return (
      <section className="panel inspector" data-testid="inspector" aria-label="inspector">
        <h2>Inspector</h2>
        <p className="muted empty">Select a node on the map, an event, or search with <kbd>/</kbd>.</p>
      </section>
    );
  }
  const n = sel !== null ? g.nodes[sel] : null;
  const root = snap.run.project_root.replace(/\/$/, '');
  const abs = n?.file ? (n.file.startsWith('/') ? n.file : `${root}/${n.file}`) : null;
  const loc = n?.file ? `${n.file}${n.line != null ? `:${n.line}` : ''}` : null;
  const seek = (ev: number) => store.set({ pos: ev + 1, playing: false });
  return (
    <section className="panel inspector" data-testid="inspector" aria-label="inspector">
      {selEvent !== null && <EventDetails ev={selEvent} />}
      {n && sel !== null && (
        <div className="node-details" data-testid="inspector-node" data-node-id={n.id}>
          <div className="insp-title">
            <KindBadge node={n} />
            <h2 data-testid="inspector-label">{n.label}</h2>
            {n.internal && <span className="tag">internal</span>}
            {d.si?.harness[sel] === 1 && <span className="tag tag-harness" data-testid="inspector-harness">test harness</span>}
          </div>
          <div className="qn" data-testid="inspector-qualified-name">{n.qualified_name}</div>
          <ViolationNotes list={violationsWithin(g, sel)} />
          <DiffNote node={sel} />
          {loc && abs && (
            <div className="loc">
              <code data-testid="inspector-location">{loc}</code>
              <CopyButton text={`${abs}${n.line != null ? `:${n.line}` : ''}`} testid="copy-location" />
              <a href={`vscode://file/${abs}${n.line != null ? `:${n.line}` : ''}`} data-testid="open-vscode" className="link">open in VS Code</a>
            </div>
          )}
          <dl className="facts">
            <Fact k="calls" v={formatCount(n.call_count)} />
            <Fact k="calls in" v={formatCount(g.callsIn[sel])} />
            <Fact k="calls out" v={formatCount(g.callsOut[sel])} />
            {(n.raised ?? 0) > 0 && <Fact k="raised" v={formatCount(n.raised ?? 0)} cls="bad" />}
            <Fact k="first seen" v={n.first_seen != null ? <button type="button" className="link" data-testid="goto-first-seen" onClick={() => seek(n.first_seen!)}>#{n.first_seen}</button> : 'never'} />
            <Fact k="last seen" v={n.last_seen != null ? <button type="button" className="link" data-testid="goto-last-seen" onClick={() => seek(n.last_seen!)}>#{n.last_seen}</button> : 'never'} />
            {n.total_ns != null && <Fact k="total" v={formatNs(n.total_ns)} />}
            {n.max_ns != null && <Fact k="max" v={formatNs(n.max_ns)} />}
            {n.total_ns != null && n.call_count > 0 && <Fact k="mean" v={formatNs(n.total_ns / n.call_count)} />}
            {n.class_name && <Fact k="class" v={n.class_name} wide />}
            {g.children[sel].length > 0 && <Fact k="contains" v={`${g.children[sel].length} nodes`} />}
          </dl>
          {d.si && n.kind !== 'scenario' && <ExercisedBy ids={d.si.nodeScenarios[sel]} />}
          <CreatedBy node={n} onPick={(i) => selectionActions(d).selectNode(i, true)} onSeek={seek} />
          <Neighbours idx={sel} onPick={(i) => selectionActions(d).selectNode(i, true)} />
          <Examples node={n} onEvent={(e) => selectionActions(d).selectEvent(e)} />
        </div>
      )}
    </section>
  );
}

function Fact({ k, v, cls, wide }: { k: string; v: React.ReactNode; cls?: string; wide?: boolean }) {
  return (
    <div className={`fact${wide ? ' wide' : ''}`}>
      <dt>{k}</dt>
      <dd className={cls}>{v}</dd>
    </div>
  );
}
