import { formatWaiting } from './format.js';
import type { TeamConversation } from './use-team.js';

interface Props {
  team: readonly TeamConversation[];
  now: number;
}

/**
 * The conversations teammates hold: who has which and for how long. Read only (their
 * messages and customers are the holder's); a transfer from the holder brings one here.
 */
export function TeamGroup({ team, now }: Props) {
  return (
    <section className="list-group" aria-labelledby="group-team">
      <h2 id="group-team">
        Team <span className="count">{team.length}</span>
      </h2>
      {team.length === 0 ? (
        <p className="list-empty">No teammate holds a conversation.</p>
      ) : (
        <ul>
          {team.map((c) => (
            <li key={c.id} className="team-item">
              Conversation #{c.id} · {c.assignedAgentName ?? `Agent ${c.assignedAgentId}`} · open {formatWaiting(now - Date.parse(c.createdAt))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
