import { statusText } from './format.js';

/** Colour by meaning: done, moving, waiting, stopped. Source statuses (`PENDING_PAYMENT`) map by their words. */
function tone(status: string): string {
  const s = status.toLowerCase();
  if (/deliver|complete|resolved|closed|done/.test(s)) return 'cp-tone-done';
  if (/ship|transit|paid|progress/.test(s)) return 'cp-tone-moving';
  if (/cancel|refund|fail|reject|urgent/.test(s)) return 'cp-tone-stopped';
  if (/pend|open|new|wait|high/.test(s)) return 'cp-tone-waiting';
  return 'cp-tone-muted';
}

/** A status as a small coloured label; `suffix` marks where it came from ("live"). */
export function StatusBadge({ status, suffix, title }: { status: string; suffix?: string; title?: string }) {
  return (
    <span className={`cp-badge ${tone(status)}`} title={title}>
      {statusText(status)}
      {suffix ? ` · ${suffix}` : ''}
    </span>
  );
}
