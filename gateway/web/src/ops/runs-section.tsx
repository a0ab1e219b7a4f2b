import { useEffect, useRef, useState } from 'react';
import { ACTIVE_STATUSES, RUN_STATUSES, type RunView, type SourceStatus } from './api-types';
import { ErrorAlert } from './error-alert';
import { useOps } from './ops-context';
import { RunRow } from './run-row';
import { SelectField } from './select-field';
import { useNow } from './use-now';
import { usePagedList } from './use-paged-list';

/** Every second while a run is going (or a sync was just asked for), else every five. */
const FAST_MS = 1000;
const SLOW_MS = 5000;
/** The newest rows watched for changes that concern the other sections. */
const HEAD_ROWS = 20;

const STATUS_OPTIONS: [string, string][] = [['', 'any status'], ...RUN_STATUSES.map((s): [string, string] => [s, s])];

const isActive = (r: RunView) => ACTIVE_STATUSES.includes(r.status);

/** Sync runs newest first with live progress, filtered by source and status, paged by "Older runs". */
export function RunsSection({ sources }: { sources: SourceStatus[] | undefined }) {
  const { fastUntil, refresh } = useOps();
  const now = useNow();
  const [source, setSource] = useState('');
  const [status, setStatus] = useState('');
  const query = new URLSearchParams();
  if (source) query.set('source', source);
  if (status) query.set('status', status);
  const path = `/runs${query.size ? `?${query}` : ''}`;
  const runs = usePagedList<RunView>(path, 'runs', (items) => (items?.some(isActive) || now < fastUntil ? FAST_MS : SLOW_MS));

  // A run that started or ended changed checkpoints, counts and maybe dead letters: every
  // section reads again. (A short run can go from absent to succeeded between two polls, so
  // new rows count as well as status changes.) Older pages appended below change nothing here.
  const head = runs.items ? `${path} ${runs.items.slice(0, HEAD_ROWS).map((r) => `${r.id}:${r.status}`).join(',')}` : null;
  const lastHead = useRef<string | null>(null);
  useEffect(() => {
    if (head === null) return;
    const before = lastHead.current;
    lastHead.current = head;
    // Another filter shows other rows: nothing happened.
    if (before !== null && before !== head && before.split(' ')[0] === head.split(' ')[0]) refresh();
  }, [head, refresh]);

  const sourceOptions: [string, string][] = [['', 'all sources'], ...(sources ?? []).map((s): [string, string] => [s.name, s.name])];

  return (
    <section id="runs" aria-labelledby="runs-heading" className="section">
      <h2 id="runs-heading">Sync runs</h2>
      <div className="filters">
        <SelectField label="Source" value={source} options={sourceOptions} onChange={setSource} />
        <SelectField label="Status" value={status} options={STATUS_OPTIONS} onChange={setStatus} />
      </div>
      <ErrorAlert error={runs.error} />
      {runs.items === undefined && !runs.error && <p className="muted">Loading…</p>}
      {runs.items?.length === 0 && <p className="muted">No runs{source || status ? ' match these filters' : ' yet'}.</p>}
      {runs.items && runs.items.length > 0 && (
        <div className="card">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Stream</th>
                <th scope="col">Mode</th>
                <th scope="col">Trigger</th>
                <th scope="col">Status</th>
                <th scope="col">Records</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
              </tr>
            </thead>
            <tbody>
              {runs.items.map((r) => (
                <RunRow key={r.id} run={r} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {runs.hasOlder && (
        <button type="button" className="more" onClick={runs.loadOlder} disabled={runs.loadingOlder}>
          Older runs
        </button>
      )}
    </section>
  );
}
