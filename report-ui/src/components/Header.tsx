// Run summary: app, command, status, rules status, duration, counts (events recorded of counted: the Recording
// panel), backend, one banner for the gaps.
import { useCallback, useMemo, useState } from 'react';
import { useData } from '../state/context';
import { formatCount } from '../model/summary';
import { describeRecording, eventsFigure, num } from '../model/recording';
import { SelectedTests } from './scenarios/SelectedTests';
import { RulesStatus } from './Violations';
import { GapsBanner } from './header/GapsBanner';
import { RecordingPanel } from './header/RecordingPanel';

const STATUS_TEXT: Record<string, string> = {
  ok: 'ok', exception: 'exception', exit: 'exit', interrupted: 'interrupted', killed: 'killed', incomplete: 'incomplete',
};

function duration(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  if (s < 120) return `${s.toFixed(2)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function Header() {
  const { snap } = useData();
  const { run, stats } = snap;
  const statusClass = run.status === 'ok' ? 'ok' : run.status === 'exit' && run.exit_code === 0 ? 'ok' : 'bad';
  const rec = useMemo(() => describeRecording(snap), [snap]);
  const [recOpen, setRecOpen] = useState(false);
  const closeRec = useCallback(() => setRecOpen(false), []);
  const toggleRec = () => setRecOpen((o) => !o);
  return (
    <header className="header" data-testid="header">
      <div className="header-main">
        <div className="brand" aria-hidden="true">
          <svg width="22" height="22" viewBox="0 0 24 24"><circle cx="5" cy="12" r="3" /><circle cx="19" cy="5" r="3" /><circle cx="19" cy="19" r="3" /><path d="M8 12 L16 6 M8 12 L16 18" /></svg>
        </div>
        <h1 className="app-name" data-testid="app-name" title={run.app_name}>{run.app_name}</h1>
        <span className={`status status-${statusClass}`} data-testid="run-status" title={run.error ? `${run.error.type}: ${run.error.message}` : undefined}>
          {STATUS_TEXT[run.status] ?? run.status}{run.exit_code !== null ? ` · exit ${run.exit_code}` : ''}
        </span>
        <RulesStatus />
        <code className="command" data-testid="run-command" title={run.command.join(' ')}>{run.command.join(' ')}</code>
      </div>
      <dl className="stats" data-testid="run-stats">
        <Stat label="duration" value={duration(run.duration_s)} />
        {run.request && (
          <Stat label="http" value={run.request.status != null ? String(run.request.status) : 'no response'}
            warn={run.request.status == null || run.request.status >= 500}
            title={`${run.request.method} ${run.request.path} · selected by ${run.request.selected_by}`} />
        )}
        <div className={`stat${rec.notRecorded > 0 ? ' stat-warn' : ''}`}>
          <dt>events</dt>
          <dd><button type="button" className="stat-button" data-testid="recording-toggle" aria-expanded={recOpen} onClick={toggleRec}
            title={`${num(rec.recorded)} events recorded (in the replay), ${num(rec.notRecorded)} only counted on their call edges: click for what was recorded per phase`}>
            {eventsFigure(rec)}
          </button></dd>
        </div>
        <Stat label="calls" value={formatCount(stats.calls)} />
        <Stat label="threads" value={String(stats.threads.length)} title={stats.threads.map((t) => `${t.name} (${t.events})`).join(', ')} />
        <Stat label="nodes" value={formatCount(stats.nodes)} />
        <Stat label="backend" value={run.backend} title={run.backend_reason} />
        <Stat label="python" value={run.python_version} />
      </dl>
      <SelectedTests />
      {run.error && (
        <div className="banner banner-error" data-testid="run-error"><strong>{run.error.type}</strong>: {run.error.message}</div>
      )}
      <GapsBanner r={rec} open={recOpen} onToggle={toggleRec} />
      {recOpen && <RecordingPanel r={rec} onClose={closeRec} />}
    </header>
  );
}

function Stat({ label, value, title, warn }: { label: string; value: string; title?: string; warn?: boolean }) {
  return (
    <div className={`stat${warn ? ' stat-warn' : ''}`} title={title}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}
