// The header's one-line banner about what is missing from the record: one sentence (the budgets' cap and
// sampling gaps folded into "Partly recorded: X of Y events…"), the rest in the Recording panel.
import { bannerText, type Recording } from '../../model/recording';
import './recording.css';

export function GapsBanner({ r, open, onToggle }: { r: Recording; open: boolean; onToggle: () => void }) {
  const b = bannerText(r);
  if (!b) return null;
  return (
    <div className="gap-banner" data-testid="run-warnings" role="status">
      <span className="gap-text" title={b.text} data-testid="gap-sentence">⚠ {b.text}</span>
      <button type="button" className="gap-more" data-testid="gap-details" aria-expanded={open} onClick={onToggle}>
        {b.more > 0 ? `+${b.more} more · details` : 'details'}
      </button>
    </div>
  );
}
