import type { DeadLetterView } from './api-types';
import { ErrorAlert } from './error-alert';
import { useResource } from './use-resource';

/** A letter does not change unless it is replayed, and a replay refreshes every section anyway. */
const POLL_MS = 300_000;

/** The letter as GET dead-letters/:id has it: where it came from and its raw payload. */
export function DeadLetterPayload({ id }: { id: number }) {
  const { data, error } = useResource<{ deadLetter: DeadLetterView }>(`/dead-letters/${id}`, POLL_MS);
  if (error) return <ErrorAlert error={error} />;
  if (!data) return <p className="muted">Loading payload…</p>;
  const l = data.deadLetter;
  return (
    <div className="payload">
      <dl className="facts">
        <div>
          <dt>Source key</dt>
          <dd>{l.sourceKey ?? '—'}</dd>
        </div>
        <div>
          <dt>Run</dt>
          <dd>{l.runId !== null ? `#${l.runId}` : '—'}</dd>
        </div>
        <div>
          <dt>Mapping version</dt>
          <dd>
            <code>{l.mappingVersion ?? '—'}</code>
          </dd>
        </div>
      </dl>
      <pre aria-label={`Raw payload of dead letter ${l.id}`} tabIndex={0}>
        {JSON.stringify(l.payload, null, 2)}
      </pre>
    </div>
  );
}
