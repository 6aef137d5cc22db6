// The check's status in the header: "rules: passed", or "rules: N violations" opening their list (a click
// selects the violating edge and centres the map on its caller). Renders nothing when the run was not checked
// (the snapshot has no `violations`).
import { useState } from 'react';
import { useData } from '../state/context';
import { formatCount } from '../model/summary';
import type { Violation } from '../types/snapshot';
import type { ViolationHit } from '../model/violations';

export function RulesStatus() {
  const d = useData();
  const { g, store, big, snap } = d;
  const [open, setOpen] = useState(false);
  const list = g.viol.list;
  const checked = Array.isArray((snap as { violations?: unknown }).violations);
  if (!checked) return null;
  if (!list.length) {
    return <span className="rules-pass" data-testid="rules-status" data-state="passed"
      title="this run was checked against the architecture rules (skeleton check): no violation">✓ rules: passed</span>;
  }
  const focus = (h: ViolationHit) => {
    setOpen(false);
    const node = h.source >= 0 ? h.source : h.target;
    store.set((s) => ({ view: 'map', selEdges: h.edge >= 0 ? [h.edge] : null, selNode: h.edge >= 0 ? null : node >= 0 ? node : null,
      selEvent: null, ...(big && node >= 0 ? { center: node } : {}),
      focus: node >= 0 ? { node, n: (s.focus?.n ?? 0) + 1 } : s.focus }));
  };
  const name = (i: number, id: string) => (i >= 0 ? g.nodes[i].label : id);
  return (
    <div className="viol-menu" data-testid="rules-status" data-state="violated">
      <button type="button" className="viol-toggle" data-testid="violations-toggle" data-state="violated" aria-expanded={open}
        onClick={() => setOpen(!open)} title="architecture rules this run breaks (skeleton check): click for the list">
        ⚠ rules: {list.length} violation{list.length > 1 ? 's' : ''}
      </button>
      {open && (
        <ul className="viol-list" data-testid="violations-list" aria-label="rule violations">
          {list.map((h, k) => (
            <li key={k}>
              <button type="button" data-testid={`violation-${k}`} onClick={() => focus(h)}>
                <span className="viol-rule">{h.v.kind} “{h.v.rule}”</span>: {name(h.source, h.v.source)} → {name(h.target, h.v.target)}
                <span className="muted"> · {formatCount(h.v.count)}×{h.v.first_seen != null ? ` · first E${h.v.first_seen}` : ''}</span>
                <span className="viol-detail">{h.v.detail}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Inspector block: which rules the selection breaks and why. */
export function ViolationNotes({ list }: { list: Violation[] }) {
  if (!list.length) return null;
  return (
    <div className="insp-viol" data-testid="inspector-violations">
      {list.map((v, k) => (
        <p key={k}><span className="viol-rule">⚠ violates {v.kind} rule “{v.rule}”</span>: {v.detail}
          <span className="muted"> ({formatCount(v.count)}×{v.first_seen != null ? `, first E${v.first_seen}` : ''})</span></p>
      ))}
    </div>
  );
}
