import { useCallback, useState } from 'react';
import type { ChatState } from '../shared/chat-client.js';

type Problem = { code: string; message: string; at: number };

/** Connection problems have the banner; a toast for them would only repeat it. */
const CONNECTION_CODES = new Set(['DISCONNECTED', 'CONNECT_FAILED', 'TOKEN']);

/**
 * The newest problem not dismissed yet: the client's `lastError` (a refused frame) or one a
 * component reported (a REST call that failed).
 */
export function useToast(lastError: ChatState['lastError']) {
  const [local, setLocal] = useState<Problem | null>(null);
  const [dismissedAt, setDismissedAt] = useState(0);
  const report = useCallback((e: { code: string; message: string }) => setLocal({ ...e, at: Date.now() }), []);
  const candidates = [lastError && !CONNECTION_CODES.has(lastError.code) ? lastError : null, local].filter((p): p is Problem => p !== null && p.at > dismissedAt);
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
