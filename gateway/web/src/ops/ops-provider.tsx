import { useCallback, useMemo, useState, type ReactNode } from 'react';
import { api, ApiError } from '../shared/api';
import { OpsContext, type CallOptions, type OpsSession } from './ops-context';

/** How long an action that enqueued a sync keeps the run list polling every second. */
const FAST_POLL_MS = 20_000;

export interface OpsProviderProps {
  token: string;
  /** The token was refused (401): back to the sign-in form. */
  onUnauthorized(error: ApiError): void;
  children: ReactNode;
}

export function OpsProvider({ token, onUnauthorized, children }: OpsProviderProps) {
  const [refreshKey, setRefreshKey] = useState(0);
  const [fastUntil, setFastUntil] = useState(0);
  const [unreachable, setUnreachable] = useState(false);

  const call = useCallback(
    async <T,>(path: string, options: CallOptions = {}): Promise<T> => {
      try {
        const out = await api<T>(`/api/ops${path}`, { ...options, token });
        setUnreachable(false);
        return out;
      } catch (err) {
        if (err instanceof ApiError) {
          if (err.unauthorized) onUnauthorized(err);
          setUnreachable(err.status === 0);
        }
        throw err;
      }
    },
    [token, onUnauthorized],
  );

  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);
  const expectActivity = useCallback(() => {
    setFastUntil(Date.now() + FAST_POLL_MS);
    setRefreshKey((k) => k + 1);
  }, []);

  const session = useMemo<OpsSession>(
    () => ({ call, refreshKey, refresh, fastUntil, expectActivity, unreachable }),
    [call, refreshKey, refresh, fastUntil, expectActivity, unreachable],
  );
  return <OpsContext value={session}>{children}</OpsContext>;
}
