import type { ChatStatus } from '../shared/chat-client.js';

/**
 * Always in the page (a live region must exist before its text changes), empty while online.
 * The client reconnects by itself; this only says so.
 */
export function ConnectionBanner({ status, attempts }: { status: ChatStatus; attempts: number }) {
  let text = '';
  if (status === 'reconnecting') text = `Reconnecting… (attempt ${attempts})`;
  else if (status === 'connecting') text = 'Connecting…';
  return (
    <div className="connection" role="status" aria-label="Connection" data-status={status}>
      {text}
    </div>
  );
}
