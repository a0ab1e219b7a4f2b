/** A run, tick or circuit state as a coloured word (the word itself carries the meaning). */

const TONE: Record<string, 'ok' | 'bad' | 'busy' | 'warn' | 'idle'> = {
  succeeded: 'ok',
  closed: 'ok',
  enqueued: 'ok',
  failed: 'bad',
  open: 'bad',
  running: 'busy',
  queued: 'warn',
  half_open: 'warn',
  paused: 'warn',
  cancelled: 'idle',
  skipped: 'idle',
  disabled: 'idle',
  unknown: 'warn',
};

export function StatusBadge({ status, label }: { status: string; label?: string }) {
  return <span className={`badge badge-${TONE[status] ?? 'idle'}`}>{label ?? status.replace('_', '-')}</span>;
}
