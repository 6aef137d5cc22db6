// Right-hand panel: inspector (selected node / event) and the current call stack.
import { Inspector } from './Inspector';
import { StackPanel } from './StackPanel';

export function SidePanel() {
  return (
    <aside className="side" aria-label="details" data-testid="side-panel">
      <Inspector />
      <StackPanel />
    </aside>
  );
}
