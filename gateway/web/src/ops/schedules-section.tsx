import { useState } from 'react';
import type { ScheduleView } from './api-types';
import { ErrorAlert } from './error-alert';
import { ScheduleRow } from './schedule-row';
import { useResource } from './use-resource';

const POLL_MS = 10_000;

/** The config's schedules: when they tick next, what they last did, and Run now / Pause / Resume. */
export function SchedulesSection() {
  const { data, error, reload } = useResource<{ schedules: ScheduleView[] }>('/schedules', POLL_MS);
  const [message, setMessage] = useState('');
  const done = (text: string) => {
    setMessage(text);
    reload();
  };
  return (
    <section id="schedules" aria-labelledby="schedules-heading" className="section">
      <h2 id="schedules-heading">Schedules</h2>
      <ErrorAlert error={error} />
      <p role="status" className="status-line">
        {message}
      </p>
      {data === undefined && !error && <p className="muted">Loading…</p>}
      {data?.schedules.length === 0 && <p className="muted">No schedules are configured.</p>}
      {data && data.schedules.length > 0 && (
        <div className="card">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Syncs</th>
                <th scope="col">Cron</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.schedules.map((s) => (
                <ScheduleRow key={s.name} schedule={s} onDone={done} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
