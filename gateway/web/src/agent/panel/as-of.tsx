import { formatExact, formatRelative } from './format.js';

/** "as of 5 min. ago", the exact time in the title. */
export function AsOf({ at, now }: { at: string | null; now: number }) {
  if (!at) return null;
  return (
    <time className="cp-asof" dateTime={at} title={formatExact(at)}>
      {`as of ${formatRelative(at, now)}`}
    </time>
  );
}
