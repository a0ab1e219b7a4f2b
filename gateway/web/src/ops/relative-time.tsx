import { absoluteTime, relativeTime } from './format';
import { useNow } from './use-now';

/** `3 min ago` (or `in 2 h`), with the absolute time in the title; `—` without a time. */
export function RelativeTime({ iso, prefix }: { iso: string | null | undefined; prefix?: string }) {
  const now = useNow();
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {prefix}
      {relativeTime(iso, now)}
    </time>
  );
}
