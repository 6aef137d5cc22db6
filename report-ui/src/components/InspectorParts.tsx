// Inspector pieces: callers/callees and example calls with summarised values.
import type { VNode as Node } from '../model/levels';
import { useData } from '../state/context';
import { formatCount, formatSummary } from '../model/summary';
import { ownerText } from '../model/graph';

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
