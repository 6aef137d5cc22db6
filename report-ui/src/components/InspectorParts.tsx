// Inspector pieces: callers/callees, who created an instance, and example calls with summarised values.
import type { VNode as Node } from '../model/levels';
import { useData } from '../state/context';
import { formatCount, formatSummary } from '../model/summary';
import { ownerText } from '../model/graph';
import { creatorsOf } from '../model/creations';

export function Neighbours({ idx, onPick }: { idx: number; onPick: (i: number) => void }) {
  const { g } = useData();
  const callers: [number, number][] = [];
  const callees: [number, number][] = [];
  for (let j = 0; j < g.edges.length; j++) {
    if (g.edgeTgt[j] === idx && g.edgeSrc[j] >= 0) callers.push([g.edgeSrc[j], g.edges[j].count]);
    if (g.edgeSrc[j] === idx && g.edgeTgt[j] >= 0) callees.push([g.edgeTgt[j], g.edges[j].count]);
  }
  if (!callers.length && !callees.length) return null;
  const list = (title: string, items: [number, number][], tid: string) => items.length > 0 && (
    <div className="nb">
      <h3>{title} <span className="muted">({items.length})</span></h3>
      <ul data-testid={tid}>
        {items.sort((a, b) => b[1] - a[1]).slice(0, 8).map(([i, c]) => (
          <li key={i}>
            <button type="button" className="link" onClick={() => onPick(i)} title={g.nodes[i].qualified_name}>{g.nodes[i].label}</button>
            <span className="muted"> ×{formatCount(c)}</span>
            <span className="nb-owner" data-testid="neighbour-owner"> {ownerText(g, i)}</span>
          </li>
        ))}
        {items.length > 8 && <li className="muted">… {items.length - 8} more</li>}
      </ul>
    </div>
  );
  return (
    <div className="neighbours">
      {list('called by', callers, 'inspector-callers')}
      {list('calls', callees, 'inspector-callees')}
    </div>
  );
}

/** An instance: `created by X at #12`; an instance group: its class's creators `X ×50, first #3`. */
export function CreatedBy({ node, onPick, onSeek }: { node: Node; onPick: (i: number) => void; onSeek: (ev: number) => void }) {
  const { g, snap } = useData();
  const lines = creatorsOf(snap, node);
  if (!lines.length) return null;
  const one = node.kind === 'instance';
  return (
    <div className="neighbours created-by">
      <div className="nb">
        <h3>created by {!one && <span className="muted">({lines.length})</span>}</h3>
        <ul data-testid="inspector-created-by">
          {lines.slice(0, 8).map((c) => {
            const i = g.byId.get(c.creator);
            return (
              <li key={c.creator} data-testid="created-by" data-creator={c.creator}>
                {i !== undefined
                  ? <button type="button" className="link" onClick={() => onPick(i)} title={c.creator}>{g.nodes[i].label}</button>
                  : <code>{c.creator}</code>}
                {!one && <span className="muted"> ×{formatCount(c.count)}</span>}
                {c.first_seen != null && (
                  <>
                    <span className="muted">{one ? ' at ' : ', first '}</span>
                    <button type="button" className="link" data-testid="goto-created" onClick={() => onSeek(c.first_seen!)}>#{c.first_seen}</button>
                  </>
                )}
                {i !== undefined && <span className="nb-owner"> {ownerText(g, i)}</span>}
              </li>
            );
          })}
          {lines.length > 8 && <li className="muted">… {lines.length - 8} more</li>}
        </ul>
      </div>
    </div>
  );
}

export function Examples({ node, onEvent }: { node: Node; onEvent: (e: number) => void }) {
  const ex = node.examples ?? [];
  if (!ex.length) return null;
  return (
    <div className="examples" data-testid="inspector-examples">
      <h3>Example calls</h3>
      {ex.map((e, k) => (
        <div className="example" key={k} data-testid="inspector-example">
          <button type="button" className="link ev-link" onClick={() => onEvent(e.event)}>event #{e.event}</button>
          {e.args && Object.keys(e.args).length > 0 && (
            <dl className="args">
              {Object.entries(e.args).map(([name, v]) => (
                <div key={name} className="arg"><dt>{name}</dt><dd className="val">{formatSummary(v)}</dd></div>
              ))}
            </dl>
          )}
          {e.return_value !== undefined && <div className="ret"><span className="muted">→ </span><span className="val">{formatSummary(e.return_value)}</span></div>}
          {e.exception && (
            <div className="exc"><span className="muted">raised </span><strong>{e.exception.type}</strong>: <span className="val">{formatSummary(e.exception.message)}</span></div>
          )}
          {e.yields != null && e.yields > 0 && <div className="muted">yielded {e.yields}×</div>}
        </div>
      ))}
    </div>
  );
}
