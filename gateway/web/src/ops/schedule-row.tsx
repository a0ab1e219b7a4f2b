import { useState } from 'react';
import { ApiError } from '../shared/api';
import type { Enqueued, PauseResult, ScheduleView } from './api-types';
import { useOps } from './ops-context';
import { RelativeTime } from './relative-time';
import { StatusBadge } from './status-badge';

export interface ScheduleRowProps {
  schedule: ScheduleView;
  /** The text for the section's status line; the list is read again. */
  onDone(message: string): void;
}

/** A schedule with Run now and Pause or Resume. */
export function ScheduleRow({ schedule: s, onDone }: ScheduleRowProps) {
  const { call, expectActivity } = useOps();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const act = async (action: 'run' | 'pause' | 'resume') => {
    setBusy(true);
    setError(null);
    try {
      const path = `/schedules/${encodeURIComponent(s.name)}/${action}`;
      if (action === 'run') {
        const out = await call<Enqueued>(path, { method: 'POST', body: {} });
        onDone(`Schedule ${s.name} run now: ${out.data.mode} sync of ${s.sync} queued as job ${out.jobId}`);
        expectActivity();
      } else {
        const out = await call<PauseResult>(path, { method: 'POST', body: {} });
        onDone(`Schedule ${s.name} ${out.paused ? 'paused' : 'resumed'}`);
      }
    } catch (err) {
      if (err instanceof ApiError && !err.unauthorized && err.status !== 0) setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr>
      <td data-label="Name" className="row-title">
        {s.name}
      </td>
      <td data-label="Syncs">
        {s.sync} <span className="muted">({s.mode})</span>
      </td>
      <td data-label="Cron">
        <code>{s.cron}</code> <span className="muted">{s.timezone}</span>
      </td>
      <td data-label="Next run">{s.enabled ? <RelativeTime iso={s.nextRun} /> : <span className="muted">never (disabled)</span>}</td>
      <td data-label="Last run">
        {s.lastRun ? (
          <span className="stack">
            <span>
              <StatusBadge status={s.lastRun.status} /> <span className="muted">#{s.lastRun.id}</span>
            </span>
            <RelativeTime iso={s.lastRun.finishedAt ?? s.lastRun.startedAt ?? s.lastRun.queuedAt} />
          </span>
        ) : (
          <span className="muted">none yet</span>
        )}
        {s.lastTick && s.lastTick.status !== 'enqueued' && s.lastTick.reason && (
          <span className="muted small-block">
            last tick {s.lastTick.status}: {s.lastTick.reason}
          </span>
        )}
      </td>
      <td data-label="State">
        {!s.enabled ? (
          <StatusBadge status="disabled" />
        ) : s.paused ? (
          <span className="stack">
            <StatusBadge status="paused" />
            <span className="muted small-block">
              {s.pausedBy && `by ${s.pausedBy}`} <RelativeTime iso={s.pausedAt} />
            </span>
          </span>
        ) : (
          <StatusBadge status="succeeded" label="active" />
        )}
      </td>
      <td data-label="Actions" className="actions">
        <div className="button-row">
          <button type="button" aria-label={`Run now ${s.name}`} disabled={busy} onClick={() => void act('run')}>
            Run now
          </button>
          {s.paused ? (
            <button type="button" aria-label={`Resume ${s.name}`} disabled={busy} onClick={() => void act('resume')}>
              Resume
            </button>
          ) : (
            <button type="button" aria-label={`Pause ${s.name}`} disabled={busy} onClick={() => void act('pause')}>
              Pause
            </button>
          )}
        </div>
        {error && (
          <p role="alert" className="alert small">
            <code>{error.code}</code> {error.message}
          </p>
        )}
      </td>
    </tr>
  );
}
