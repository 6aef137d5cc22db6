import type { VNode as Node } from '../model/levels';

export function kindLabel(n: Node): string {
  if (n.kind === 'method') {
    if (n.callable_kind === 'class_method') return 'classmethod';
    if (n.callable_kind === 'static_method') return 'staticmethod';
    return 'method';
  }
  if (n.kind === 'class') return 'class';
  if (n.kind === 'group') return 'instances';
  if (n.kind === 'agg') return 'method · all';
  if (n.kind === 'boundary') return `I/O · ${n.io?.kind ?? '?'}`;
  return n.kind;
}

export function kindClass(n: Node): string {
  if (n.kind === 'method' && (n.callable_kind === 'class_method' || n.callable_kind === 'static_method')) return 'k-clsm';
  if (n.kind === 'agg') return 'k-method k-agg';
  return `k-${n.kind}`;
}

export function KindBadge({ node }: { node: Node }) {
  return <span className={`kind-badge ${kindClass(node)}`}>{kindLabel(node)}</span>;
}
