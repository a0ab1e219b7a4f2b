import type { ListEntry } from './conversation-view.js';
import { formatWaiting } from './format.js';

interface Props {
  entry: ListEntry;
  selected: boolean;
  now: number;
  onSelect(id: number): void;
}

/** One conversation: `Conversation #<id>, <customer>, waiting <t>, <n> unread` as its accessible name. */
export function ConversationItem({ entry, selected, now, onSelect }: Props) {
  const { conversation: c, customerName, waitingSince, unread, group } = entry;
  const waiting = waitingSince === null ? null : `waiting ${formatWaiting(now - waitingSince)}`;
  const state = group === 'closed' ? 'closed' : waiting ?? 'answered';
  const label = [`Conversation #${c.id}`, customerName, state, unread > 0 ? `${unread} unread` : null].filter(Boolean).join(', ');
  return (
    <button type="button" className="conversation-item" aria-label={label} aria-current={selected ? 'true' : undefined} data-waiting={waiting !== null} onClick={() => onSelect(c.id)}>
      <span className="item-title">
        <span className="item-id">Conversation #{c.id}</span>
        {unread > 0 && <span className="unread">{unread} unread</span>}
      </span>
      <span className="item-name">{customerName ?? 'Visitor'}</span>
      <span className="item-wait">{state}</span>
    </button>
  );
}
