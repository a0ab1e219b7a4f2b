import { useState } from 'react';
import { ApiError } from '../shared/api';
import type { DeadLetterView, ReplaySummary, SourceStatus } from './api-types';
import { DeadLetterRow } from './dead-letter-row';
import { ErrorAlert } from './error-alert';
import { useOps } from './ops-context';
import { ReplayErrors } from './replay-errors';
import { ReplayResult } from './replay-result';
import { SelectField } from './select-field';
import { usePagedList } from './use-paged-list';

const POLL_MS = 10_000;

const REPLAYED_OPTIONS: [string, string][] = [
  ['', 'replayed or not'],
  ['false', 'not replayed'],
  ['true', 'replayed'],
];

/** Dead letters newest first, filtered; each can be opened (raw payload) and replayed, or all shown at once. */
export function DeadLettersSection({ sources }: { sources: SourceStatus[] | undefined }) {
  const { call, refresh } = useOps();
  const [source, setSource] = useState('');
  const [stream, setStream] = useState('');
  const [replayed, setReplayed] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ summary: ReplaySummary; what: string } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const query = new URLSearchParams();
  if (source) query.set('source', source);
  if (source && stream) query.set('stream', stream);
  if (replayed) query.set('replayed', replayed);
  const letters = usePagedList<DeadLetterView>(`/dead-letters${query.size ? `?${query}` : ''}`, 'deadLetters', () => POLL_MS);
  const waiting = (letters.items ?? []).filter((l) => l.replayedAt === null);

  const replay = async (ids: number[], what: string) => {
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const summary = await call<ReplaySummary>('/dead-letters/replay', { method: 'POST', body: { ids } });
      setResult({ summary, what });
      refresh();
    } catch (err) {
      if (err instanceof ApiError && !err.unauthorized && err.status !== 0) setError(err);
    } finally {
      setBusy(false);
    }
  };

  const sourceOptions: [string, string][] = [['', 'all sources'], ...(sources ?? []).map((s): [string, string] => [s.name, s.name])];
  const streams = sources?.find((s) => s.name === source)?.streams ?? [];
  const streamOptions: [string, string][] = [['', 'all streams'], ...streams.map((s): [string, string] => [s.stream, s.stream])];

  return (
    <section id="dead-letters" aria-labelledby="dead-letters-heading" className="section">
      <h2 id="dead-letters-heading">Dead letters</h2>
      <div className="filters">
        <SelectField
          label="Source"
          value={source}
          options={sourceOptions}
          onChange={(v) => {
            setSource(v);
            setStream('');
          }}
        />
        <SelectField label="Stream" value={stream} options={streamOptions} onChange={setStream} disabled={!source} />
        <SelectField label="Replayed" value={replayed} options={REPLAYED_OPTIONS} onChange={setReplayed} />
        <button type="button" className="primary filters-action" disabled={busy || waiting.length === 0} onClick={() => void replay(waiting.map((l) => l.id), `${waiting.length} shown`)}>
          Replay all shown
        </button>
      </div>
      <p role="status" className="status-line">
        {busy ? 'Replaying…' : result ? <ReplayResult summary={result.summary} what={result.what} /> : null}
      </p>
      {result && <ReplayErrors summary={result.summary} />}
      <ErrorAlert error={error} context="Replay failed" />
      <ErrorAlert error={letters.error} />
      {letters.items === undefined && !letters.error && <p className="muted">Loading…</p>}
      {letters.items?.length === 0 && <p className="muted">No dead letters{source || replayed ? ' match these filters' : ''}.</p>}
      {letters.items && letters.items.length > 0 && (
        <div className="card">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Stream</th>
                <th scope="col">Stage</th>
                <th scope="col">Error</th>
                <th scope="col">Failed</th>
                <th scope="col">Replayed</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {letters.items.map((l) => (
                <DeadLetterRow key={l.id} letter={l} busy={busy} onReplay={() => void replay([l.id], `dead letter ${l.id}`)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {letters.hasOlder && (
        <button type="button" className="more" onClick={letters.loadOlder} disabled={letters.loadingOlder}>
          Older dead letters
        </button>
      )}
    </section>
  );
}
