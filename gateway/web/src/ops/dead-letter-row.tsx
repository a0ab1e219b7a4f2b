import { useState } from 'react';
import type { DeadLetterView } from './api-types';
import { DeadLetterPayload } from './dead-letter-payload';
import { RelativeTime } from './relative-time';

export interface DeadLetterRowProps {
  letter: DeadLetterView;
  /** A replay is going: the buttons wait. */
  busy: boolean;
  onReplay(): void;
}

const COLUMNS = 7;

/** A dead letter; it opens onto its raw payload (read when opened) and can be replayed. */
export function DeadLetterRow({ letter: l, busy, onReplay }: DeadLetterRowProps) {
  const [open, setOpen] = useState(false);
  const detailId = `dead-letter-${l.id}-payload`;
  return (
    <>
      <tr className={open ? 'expanded' : undefined}>
        <td data-label="Id" className="row-title">
          {l.id}
        </td>
        <td data-label="Stream" className="nowrap">
          {l.source}.{l.stream}
        </td>
        <td data-label="Stage" className="nowrap">{l.stage}</td>
        <td data-label="Error">
          <span className="error-text">
            <code>{l.errorCode}</code> {l.errorMessage}
          </span>
        </td>
        <td data-label="Failed" className="nowrap">
          <RelativeTime iso={l.createdAt} />
        </td>
        <td data-label="Replayed">
          {l.replayedAt ? (
            <span className="stack">
              <span className="badge badge-ok">replayed</span>
              <span className="muted small-block">
                <RelativeTime iso={l.replayedAt} />
                {l.replayRunId !== null && ` in run #${l.replayRunId}`}
              </span>
            </span>
          ) : (
            <span className="badge badge-warn">not replayed</span>
          )}
        </td>
        <td data-label="Actions" className="actions">
          <div className="button-row">
            <button type="button" aria-expanded={open} aria-controls={detailId} aria-label={`Payload of dead letter ${l.id}`} onClick={() => setOpen((o) => !o)}>
              {open ? 'Hide payload' : 'Payload'}
            </button>
            <button type="button" aria-label={`Replay dead letter ${l.id}`} disabled={busy || l.replayedAt !== null} onClick={onReplay}>
              Replay
            </button>
          </div>
        </td>
      </tr>
      {open && (
        <tr className="detail-row" id={detailId}>
          <td colSpan={COLUMNS}>
            <DeadLetterPayload id={l.id} />
          </td>
        </tr>
      )}
    </>
  );
}
