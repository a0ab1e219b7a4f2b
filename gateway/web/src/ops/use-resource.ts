/**
 * One GET of the ops API kept fresh: polled every `intervalMs` (see usePolling), read again
 * at once on `reload()` or when any section calls `refresh()`. An API error is kept next to
 * the last good data (shown as an alert, the data stays on screen); a network failure only
 * raises the shared "unreachable" banner.
 */
import { useCallback, useState } from 'react';
import { ApiError } from '../shared/api';
import { useOps } from './ops-context';
import { usePolling } from './use-polling';

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | null;
  reload(): void;
}

/** An error worth showing in the section: not a 401 (that signs out) nor a network failure (the banner). */
export function shownError(err: unknown): ApiError | null {
  if (!(err instanceof ApiError)) return null;
  return err.unauthorized || err.status === 0 ? null : err;
}

export function useResource<T>(path: string, intervalMs: number): Resource<T> {
  const { call, refreshKey } = useOps();
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | null }>({ data: undefined, error: null });
  const [nonce, setNonce] = useState(0);

  usePolling(
    async (signal) => {
      try {
        const data = await call<T>(path, { signal });
        if (!signal.aborted) setState({ data, error: null });
      } catch (err) {
        if (signal.aborted) return;
        const shown = shownError(err);
        if (shown) setState((s) => ({ ...s, error: shown }));
        else if (err instanceof ApiError && err.status === 0) setState((s) => ({ ...s, error: null }));
      }
    },
    intervalMs,
    `${path}|${refreshKey}|${nonce}`,
  );

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}
