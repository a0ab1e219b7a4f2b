import type { CircuitState, RunView } from './api-types';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';

export interface StreamHealthProps {
  run: RunView | null;
  /** Null when unknown (Redis could not be read; the source card says so). */
  circuit: CircuitState | null;
  enabled: boolean;
}

/** The stream's last run (status, when, its error) and whether its source's circuit lets it run. */
export function StreamHealth({ run, circuit, enabled }: StreamHealthProps) {
  if (!enabled) return <span className="muted">source disabled</span>;
  return (
    <div className="stack">
      {run ? (
        <span>
          <StatusBadge status={run.status} /> <span className="muted">#{run.id}</span>{' '}
          <RelativeTime iso={run.finishedAt ?? run.startedAt ?? run.queuedAt} />
        </span>
      ) : (
        <span className="muted">never run</span>
      )}
      {run?.errorCode && (
        <span className="error-text">
          <code>{run.errorCode}</code> {run.errorMessage}
        </span>
      )}
      {circuit && circuit !== 'closed' && <span className="bad-text">circuit {circuit.replace('_', '-')}: syncs wait for a probe</span>}
    </div>
  );
}
