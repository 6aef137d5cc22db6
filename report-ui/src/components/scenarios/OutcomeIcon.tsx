// A test outcome as a small coloured icon (inline SVG: no icon font, works offline).
import type { Outcome } from '../../model/scenarios';

const PATHS: Record<Outcome, string> = {
  passed: 'M5 12.5l4.5 4.5L19 7.5',
  failed: 'M7 7l10 10M17 7L7 17',
  error: 'M12 6v8M12 17.5v.5',
  xpassed: 'M7 7l10 10M17 7L7 17',
  interrupted: 'M8 8h8v8H8z',
  xfailed: 'M8 8l8 8M16 8l-8 8',
  skipped: 'M7 12h10',
  unknown: 'M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5V14M12 17.5v.5',
};

export const OUTCOME_TEXT: Record<Outcome, string> = {
  passed: 'passed', failed: 'failed', error: 'error', xpassed: 'xpassed (unexpectedly passed)', interrupted: 'interrupted',
  xfailed: 'xfailed (expected failure)', skipped: 'skipped', unknown: 'no outcome',
};

export function OutcomeIcon({ outcome, size = 16 }: { outcome: Outcome; size?: number }) {
  return (
    <span className={`outcome-icon oc-${outcome}`} title={OUTCOME_TEXT[outcome]} data-outcome={outcome} style={{ width: size, height: size }}>
      <svg width={size - 4} height={size - 4} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path d={PATHS[outcome]} fill="none" stroke="currentColor" strokeWidth={outcome === 'xfailed' ? 2.2 : 3} strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <span className="sr-only">{outcome}</span>
    </span>
  );
}
