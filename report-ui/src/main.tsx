// Entry: render(root, snapshot) is the whole contract between Python and the UI.
import { createRoot, type Root } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App';
import type { Snapshot } from './types/snapshot';

const roots = new WeakMap<HTMLElement, Root>();
let renders = 0;

export function render(root: HTMLElement, snapshot: Snapshot): void {
  let r = roots.get(root);
  if (!r) {
    r = createRoot(root);
    roots.set(root, r);
  }
  r.render(<App key={++renders} snapshot={snapshot} />);
}

function fail(root: HTMLElement, message: string) {
  const box = document.createElement('div');
  box.className = 'boot-error';
  box.setAttribute('role', 'alert');
  box.textContent = message;
  root.replaceChildren(box);
}

function boot() {
  const root = document.getElementById('root');
  if (!root) return;
  const el = document.getElementById('skeleton-snapshot');
  if (el) {
    let snap: Snapshot;
    try {
      snap = JSON.parse(el.textContent ?? '') as Snapshot;
    } catch (err) {
      fail(root, `This report's embedded snapshot is not valid JSON: ${(err as Error).message}`);
      return;
    }
    render(root, snap);
  } else if (import.meta.env.DEV) {
    void import('./dev/DevPicker').then((m) => m.mountDev(root, render));
  } else {
    fail(root, 'No snapshot is embedded in this page (no element with id skeleton-snapshot).');
  }
}

(window as unknown as { SkeletonReport?: unknown }).SkeletonReport = { render };
boot();
