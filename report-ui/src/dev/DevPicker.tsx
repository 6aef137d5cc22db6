// Dev server only: pick a sample snapshot from report-ui/samples/*.json.
import type { Snapshot } from '../types/snapshot';

const samples = import.meta.glob<Snapshot>('../../samples/*.json', { import: 'default' });

export function mountDev(root: HTMLElement, render: (root: HTMLElement, s: Snapshot) => void) {
  const names = Object.keys(samples).sort();
  const bar = document.createElement('div');
  bar.className = 'dev-picker';
  const label = document.createElement('label');
  label.textContent = 'sample ';
  const select = document.createElement('select');
  select.dataset.testid = 'dev-sample-picker';
  for (const n of names) {
    const o = document.createElement('option');
    o.value = n;
    o.textContent = n.split('/').pop() ?? n;
    select.append(o);
  }
  label.append(select);
  bar.append(label);
  document.body.prepend(bar);
  const wanted = new URLSearchParams(location.search).get('sample');
  const pick = names.find((n) => wanted && n.endsWith(`/${wanted}`)) ?? names[0];
  select.value = pick;
  const load = async (name: string) => render(root, await samples[name]());
  select.onchange = () => void load(select.value);
  if (pick) void load(pick);
}
