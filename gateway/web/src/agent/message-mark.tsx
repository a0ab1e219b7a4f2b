import type { ChatMessage } from '../shared/chat-client.js';

/**
 * Sending (a clock: not stored yet), Delivered (stored by the server), Read (the other side's
 * read mark reached it). A failed message has its error and Retry instead.
 */
export function MessageMark({ state, read }: { state: ChatMessage['state']; read: boolean }) {
  if (state === 'failed') return null;
  if (state === 'pending') {
    return (
      <span className="mark mark-pending" role="img" aria-label="Sending" title="Sending">
        <svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
          <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
          <path d="M8 4.5V8l2.5 1.5" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
        </svg>
      </span>
    );
  }
  const label = read ? 'Read' : 'Delivered';
  return (
    <span className={`mark ${read ? 'mark-read' : 'mark-delivered'}`} role="img" aria-label={label} title={label}>
      <svg viewBox="0 0 20 16" width="18" height="14" aria-hidden="true">
        <path d="M1.5 8.5l3.5 3.5 7-8" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" />
        {read && <path d="M8 12l7-8" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" />}
      </svg>
    </span>
  );
}
