import { useCallback, useState } from 'react';
import type { ChatState } from '../shared/chat-client.js';

type Problem = { code: string; message: string; at: number };

/**
 * Problems the console deals with itself, which a toast would only repeat or misreport.
 * Connection problems have the banner. A token the server calls expired (the socket's, at
 * its 4401 close; or one an `auth` frame brought too late) or not this socket's (a moved
 * agent's refreshed token) is the chat client's to handle: it reconnects with a renewed
 * token, and when none is to be had the console goes back to the login form saying the
 * session expired (agent-console.tsx). Neither is the agent's error.
 */
const HANDLED_CODES = new Set(['DISCONNECTED', 'CONNECT_FAILED', 'TOKEN', 'GW_TOKEN_EXPIRED', 'GW_TOKEN_INVALID']);

/**
 * The newest problem not dismissed yet: the client's `lastError` (a refused frame) or one a
 * component reported (a REST call that failed).
 */
export function useToast(lastError: ChatState['lastError']) {
  const [local, setLocal] = useState<Problem | null>(null);
  const [dismissedAt, setDismissedAt] = useState(0);
  const report = useCallback((e: { code: string; message: string }) => setLocal({ ...e, at: Date.now() }), []);
  const candidates = [lastError, local].filter((p): p is Problem => p !== null && !HANDLED_CODES.has(p.code) && p.at > dismissedAt);
  const toast = candidates.sort((a, b) => b.at - a.at)[0] ?? null;
  const dismiss = useCallback(() => setDismissedAt(Date.now()), []);
  return { toast, report, dismiss };
}

export function ErrorToast({ error, onDismiss }: { error: { code: string; message: string }; onDismiss(): void }) {
  return (
    <div className="toast" role="alert">
      <p>
        <strong>{error.message}</strong> <code>{error.code}</code>
      </p>
      <button type="button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
