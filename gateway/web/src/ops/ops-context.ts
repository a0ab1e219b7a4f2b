/**
 * What every part of the signed-in console shares: API calls with the admin token (a 401
 * signs out, a network failure raises the "unreachable" banner until a call gets through),
 * a refresh signal for "something changed, read again", and a fast-poll window opened by
 * actions that start syncs (the run shows up in the list within a second or so).
 */
import { createContext, useContext } from 'react';
import type { ApiOptions } from '../shared/api';

export type CallOptions = Omit<ApiOptions, 'token' | 'base'>;

export interface OpsSession {
  /** `path` is under `/api/ops` (e.g. `/runs?limit=50`). */
  call<T>(path: string, options?: CallOptions): Promise<T>;
  /** Changes whenever every section should read its data again. */
  refreshKey: number;
  refresh(): void;
  /** Until this time (ms) the run list polls every second even when no run is shown running. */
  fastUntil: number;
  /** A sync was just asked for: poll fast for a while and read everything again. */
  expectActivity(): void;
  /** True after a call failed to reach the server, false again once one gets through. */
  unreachable: boolean;
}

export const OpsContext = createContext<OpsSession | null>(null);

export function useOps(): OpsSession {
  const ops = useContext(OpsContext);
  if (!ops) throw new Error('useOps() outside <OpsProvider>');
  return ops;
}
