import { formatDateTime, statusText } from './format.js';
import { StatusBadge } from './status-badge.js';
import type { Ticket } from './types.js';

/** Open tickets: number, subject, status, priority, when opened. */
export function Tickets({ tickets }: { tickets: readonly Ticket[] }) {
  if (tickets.length === 0) return <p className="cp-muted">No open tickets</p>;
  return (
    <ul className="cp-list cp-tickets">
      {tickets.map((t) => (
        <li className="cp-item" key={`${t.source}/${t.sourceKey}`}>
          <div className="cp-item-head">
            <span className="cp-strong">{t.ticket_no ?? t.sourceKey}</span>
            {t.status && <StatusBadge status={t.status} />}
            {t.priority && <span className={`cp-badge ${t.priority === 'urgent' || t.priority === 'high' ? 'cp-tone-stopped' : 'cp-tone-muted'}`}>{statusText(t.priority)} priority</span>}
          </div>
          {t.subject && <div className="cp-subject">{t.subject}</div>}
          <div className="cp-item-meta">
            {t.created_at && (
              <>
                opened <time dateTime={t.created_at}>{formatDateTime(t.created_at)}</time>
                {' · '}
              </>
            )}
            {t.answered ? 'answered' : 'not answered yet'}
          </div>
        </li>
      ))}
    </ul>
  );
}
