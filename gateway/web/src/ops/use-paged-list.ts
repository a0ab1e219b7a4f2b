/**
 * A list the ops API pages newest first by id (runs, dead letters): the newest page is
 * polled and merged over what is shown, so rows update in place and new ones come in on
 * top, while pages loaded with `loadOlder()` stay below.
 */
import { useCallback, useState } from 'react';
import type { ApiError } from '../shared/api';
import { useOps } from './ops-context';
import { usePolling } from './use-polling';
import { shownError } from './use-resource';

const PAGE = 50;

export interface PagedList<T> {
  items: T[] | undefined;
  /** Whether older items exist beyond those shown. */
  hasOlder: boolean;
  loadingOlder: boolean;
  error: ApiError | null;
  loadOlder(): void;
  reload(): void;
}

interface State<T> {
  /** The query the items belong to: another filter starts from an empty list. */
  query: string;
  items: T[] | undefined;
  next: number | null;
  error: ApiError | null;
}

/**
 * The newest page over the shown list: rows of the page replace theirs; shown rows older than
 * the page stay (with the older pages' cursor) unless the page does not reach down to them —
 * then there could be a gap, and the list starts again from the page.
 */
export function mergeNewest<T extends { id: number }>(shown: T[] | undefined, shownNext: number | null, page: T[], pageNext: number | null): { items: T[]; next: number | null } {
  const oldest = page[page.length - 1]?.id;
  if (!shown || oldest === undefined || pageNext === null) return { items: page, next: pageNext };
  const older = shown.filter((r) => r.id < oldest);
  if (older.length === 0) return { items: page, next: pageNext };
  // The page stops at `oldest`; rows just below it that are not shown would be skipped.
  if (shown.every((r) => r.id < oldest) && shown.length > 0) return { items: page, next: pageNext };
  return { items: [...page, ...older], next: shownNext };
}

/**
 * @param path   e.g. `/runs?status=failed`; the paging parameters are added to its query
 * @param field  the array's name in the answer (`runs`, `deadLetters`)
 * @param intervalFor  the poll interval for what is shown now (faster while something runs)
 */
export function usePagedList<T extends { id: number }>(path: string, field: string, intervalFor: (items: T[] | undefined) => number): PagedList<T> {
  const { call, refreshKey } = useOps();
  const [state, setState] = useState<State<T>>({ query: path, items: undefined, next: null, error: null });
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [nonce, setNonce] = useState(0);
  const sep = path.includes('?') ? '&' : '?';
  const current = state.query === path ? state : undefined;
  const next = current?.next ?? null;

  usePolling(
    async (signal) => {
      try {
        const res = await call<Record<string, unknown>>(`${path}${sep}limit=${PAGE}`, { signal });
        if (signal.aborted) return;
        const page = (res[field] ?? []) as T[];
        const pageNext = (res.next ?? null) as number | null;
        setState((s) => {
          const same = s.query === path;
          const merged = mergeNewest(same ? s.items : undefined, same ? s.next : null, page, pageNext);
          return { query: path, ...merged, error: null };
        });
      } catch (err) {
        if (signal.aborted) return;
        const shown = shownError(err);
        setState((s) => (s.query === path ? { ...s, error: shown } : { query: path, items: undefined, next: null, error: shown }));
      }
    },
    intervalFor(current?.items),
    `${path}|${refreshKey}|${nonce}`,
  );

  const loadOlder = useCallback(() => {
    if (next === null) return;
    setLoadingOlder(true);
    call<Record<string, unknown>>(`${path}${sep}limit=${PAGE}&before=${next}`)
      .then((res) => {
        const page = (res[field] ?? []) as T[];
        setState((s) => {
          if (s.query !== path || s.next !== next) return s;
          const seen = new Set(s.items?.map((r) => r.id));
          return { ...s, items: [...(s.items ?? []), ...page.filter((r) => !seen.has(r.id))], next: (res.next ?? null) as number | null, error: null };
        });
      })
      .catch((err: unknown) => setState((s) => ({ ...s, error: shownError(err) })))
      .finally(() => setLoadingOlder(false));
  }, [call, path, sep, field, next]);

  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { items: current?.items, hasOlder: next !== null, loadingOlder, error: current?.error ?? null, loadOlder, reload };
}
