import type { CircuitState, StreamStatus } from './api-types';
import { count, cursorText, duration } from './format';
import { RelativeTime } from './relative-time';
import { StreamHealth } from './stream-health';
import { SyncMenu } from './sync-menu';

export interface StreamRowProps {
  source: string;
  enabled: boolean;
  /** Null when unknown (Redis could not be read; the source card says so). */
  circuit: CircuitState | null;
  stream: StreamStatus;
  onEnqueued(message: string): void;
}

/** One stream of a source: health, checkpoint, lag, records, dead letters, and Sync now. */
export function StreamRow({ source, enabled, circuit, stream: st, onEnqueued }: StreamRowProps) {
  const ref = `${source}.${st.stream}`;
  const cursor = st.checkpoint ? cursorText(st.checkpoint.cursor) : null;
  return (
    <tr>
      <td data-label="Stream" className="row-title">
        {ref}
      </td>
      <td data-label="Health">
        <StreamHealth run={st.lastRun} circuit={circuit} enabled={enabled} />
      </td>
      <td data-label="Last checkpoint">
        {st.checkpoint ? (
          <div className="stack">
            <code className="cursor" title={cursor ?? undefined}>
              {cursor}
            </code>
            {st.checkpoint.key !== null && <span className="muted">key {st.checkpoint.key}</span>}
            <RelativeTime iso={st.checkpointAt} prefix="moved " />
          </div>
        ) : (
          <span className="muted">none yet</span>
        )}
      </td>
      <td data-label="Lag">
        <div className="stack">
          {st.lag.cursorSeconds !== null && <span>cursor {duration(st.lag.cursorSeconds * 1000)} behind</span>}
          {st.lastSuccessAt ? <RelativeTime iso={st.lastSuccessAt} prefix="last success " /> : <span className="muted">no success yet</span>}
        </div>
      </td>
      <td data-label="Records" className="num">
        {count(st.recordsTotal)}
        {st.clickhousePending > 0 && <div className="muted">{count(st.clickhousePending)} batches not yet in ClickHouse</div>}
      </td>
      <td data-label="Dead letters" className="num">
        {st.deadLetters.pending > 0 ? <strong className="bad-text">{count(st.deadLetters.pending)} pending</strong> : <span>0 pending</span>}
        <span className="muted"> of {count(st.deadLetters.total)}</span>
      </td>
      <td data-label="Actions" className="actions">
        <SyncMenu source={source} stream={st.stream} disabled={!enabled} onEnqueued={onEnqueued} />
      </td>
    </tr>
  );
}
