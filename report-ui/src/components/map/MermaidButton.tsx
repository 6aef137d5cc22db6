// "Copy as Mermaid": the map as it is drawn now (boxes at their level of detail, aggregated calls with
// counts) as a Mermaid flowchart on the clipboard. When the clipboard is refused (file:// without
// permission) the text shows in a box, selected, to copy by hand.
import { useState } from 'react';
import { useData } from '../../state/context';
import { isRevealed } from '../../model/graph';
import { viewToMermaid } from '../../model/mermaid';
import { copyText } from '../CopyButton';
import { useMapCtx } from './MapContext';

export function MermaidButton() {
  const { g, mask, nodeReveal, store, snap } = useData();
  const { vis } = useMapCtx();
  const [state, setState] = useState<'idle' | 'copied' | 'manual'>('idle');
  const [text, setText] = useState('');
  const copy = async () => {
    const { pos, ghost } = store.get();
    const shown = (i: number) => mask[i] === 1 && (ghost || isRevealed(nodeReveal[i], pos));
    const t = viewToMermaid(g, vis, shown, [`skeleton report: ${snap.run.app_name}`, `view at event ${pos} of ${snap.steps.count}`]);
    setText(t);
    const ok = await copyText(t);
    setState(ok ? 'copied' : 'manual');
    if (ok) setTimeout(() => setState('idle'), 1500);
  };
  return (
    <div className="mermaid-copy">
      <button type="button" data-testid="copy-mermaid" data-state={state} onClick={() => void copy()}
        title="copy the visible map as a Mermaid flowchart">{state === 'copied' ? 'copied' : 'Copy as Mermaid'}</button>
      {state === 'manual' && (
        <div className="mermaid-manual">
          <textarea data-testid="mermaid-text" readOnly value={text} ref={(el) => el?.select()} aria-label="Mermaid text" />
          <button type="button" onClick={() => setState('idle')}>close</button>
        </div>
      )}
    </div>
  );
}
