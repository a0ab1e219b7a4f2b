import { ConversationItem } from './conversation-item.js';
import type { Group, ListEntry } from './conversation-view.js';
import { TeamGroup } from './team-group.js';
import type { TeamConversation } from './use-team.js';

interface Props {
  entries: readonly ListEntry[];
  selected: number | null;
  now: number;
  /** What teammates hold (read only). */
  team: readonly TeamConversation[];
  onSelect(id: number): void;
}

const GROUPS: { group: Group; title: string; empty: string }[] = [
  { group: 'queued', title: 'Queued', empty: 'Nobody is waiting in the queue.' },
  { group: 'mine', title: 'Mine', empty: 'No conversation is assigned to you.' },
  { group: 'closed', title: 'Closed', empty: '' },
];

export function ConversationList({ entries, selected, now, team, onSelect }: Props) {
  return (
    <nav className="pane pane-list" aria-label="Conversations">
      {GROUPS.map(({ group, title, empty }) => {
        const items = entries.filter((e) => e.group === group);
        // Closed ones only while there are some (those closed during this session).
        if (group === 'closed' && items.length === 0) return null;
        const headingId = `group-${group}`;
        return (
          <section key={group} className="list-group" aria-labelledby={headingId}>
            <h2 id={headingId}>
              {title} <span className="count">{items.length}</span>
            </h2>
            {items.length === 0 ? (
              <p className="list-empty">{empty}</p>
            ) : (
              <ul>
                {items.map((e) => (
                  <li key={e.conversation.id}>
                    <ConversationItem entry={e} selected={e.conversation.id === selected} now={now} onSelect={onSelect} />
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
      <TeamGroup team={team} now={now} />
    </nav>
  );
}
