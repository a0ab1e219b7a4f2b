import type { RunView } from './api-types';
import { count, duration } from './format';
import { ProgressBar } from './progress-bar';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';
import { useNow } from './use-now';

/** One sync run; a running one shows its progress and a duration that keeps counting. */
export function RunRow({ run: r }: { run: RunView }) {
  const now = useNow();
  const running = r.status === 'running' || r.status === 'queued';
  const started = r.startedAt ? Date.parse(r.startedAt) : null;
  const ended = r.finishedAt ? Date.parse(r.finishedAt) : running ? now : null;
  return (
    <tr aria-busy={running || undefined}>
      <td data-label="Run" className="row-title">
        #{r.id}
      </td>
      <td data-label="Stream" className="nowrap">
        {r.source}.{r.stream}
      </td>
      <td data-label="Mode">{r.mode}</td>
      <td data-label="Trigger">{r.trigger}</td>
      <td data-label="Status">
        <span className="stack">
          <StatusBadge status={r.status} />
          {r.errorCode && (
            <span className="error-text">
              <code>{r.errorCode}</code> {r.errorMessage}
            </span>
          )}
        </span>
      </td>
      <td data-label="Records">
        <span className="stack">
          {running && <ProgressBar label={`Progress of run #${r.id}`} value={r.recordsRead} />}
          <span className="counts">
            <span>{count(r.recordsRead)} read</span>
            <span>{count(r.recordsWritten)} written</span>
            <span className={r.recordsFailed > 0 ? 'bad-text' : undefined}>{count(r.recordsFailed)} dead-lettered</span>
          </span>
        </span>
      </td>
      <td data-label="Started">{r.startedAt ? <RelativeTime iso={r.startedAt} /> : <RelativeTime iso={r.queuedAt} prefix="queued " />}</td>
      <td data-label="Duration">{started !== null && ended !== null ? duration(Math.max(0, ended - started)) : <span className="muted">—</span>}</td>
    </tr>
  );
}
